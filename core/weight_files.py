"""Our own small networks on disk (θ, encoders) and their training checkpoints: safetensors + JSON, atomic.

One place for the file handling both trainers share, so a fix (atomicity, error wording, the optimiser-state
layout) reaches every learned part at once. Nothing here unpickles.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from collections.abc import Generator as Job
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from core.atomic_files import atomic_write_bytes, save_error
from core.errors import InvalidInputError, ModelLoadError
from core.json_text import strict_dumps

MAX_JSON_BYTES = 16 * 2**20  # a θ's or encoder's metadata with its training curves is ~40 KB
RESTART_HINT = "delete the checkpoint folder to start afresh, or train into another folder."
Y = TypeVar("Y")
R = TypeVar("R")


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    """``tensors`` as a safetensors file at ``path``, all or nothing (CPU, contiguous copies)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise save_error(path, exc) from exc
    return atomic_write_bytes(path, save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}))


def write_json(path: Path, data: dict[str, Any], indent: int | None = 2) -> Path:
    return atomic_write_bytes(path, (strict_dumps(data, indent=indent) + "\n").encode())


def save_weights(folder: Path, stem: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """``folder/stem.safetensors`` + ``folder/stem.json``; returns the folder."""
    write_tensors(folder / f"{stem}.safetensors", tensors)
    write_json(folder / f"{stem}.json", meta)
    return folder


def read_json(path: Path, what: str, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """A JSON object from ``path``, or a :class:`ModelLoadError` naming ``what``: any damage (size, encoding, syntax,
    nesting that would exhaust the parser's recursion, NaN/Infinity, a top level that is not an object) is typed."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ModelLoadError(f"'{path}' is {size:,} bytes, more than the {max_bytes // 2**20} MiB {what} metadata "
                                 "ever takes; it is not one of ours.")
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_refuse_constant)
    except ModelLoadError:
        raise
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: JSON and UTF-8 errors, NaN/Infinity
        reason = "its nesting is too deep" if isinstance(exc, RecursionError) else _first_line(exc)
        raise ModelLoadError(f"'{path}' is not readable {what} metadata ({reason}).") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{path}' is not {what} metadata (it holds a JSON {type(data).__name__}, not an "
                             "object).")
    return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"it holds {name}, which is not a number JSON allows")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def read_weights(folder: Path, stem: str, what: str, schema: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The pair :func:`save_weights` wrote, or a :class:`ModelLoadError` naming ``what`` ("an encoder", …).

    Our networks hold float tensors only (the callers check them finite); integers are damage."""
    meta = read_json(folder / f"{stem}.json", what)
    version = meta.get("schema_version")
    if isinstance(version, bool) or version != schema:
        raise ModelLoadError(f"'{folder}' holds a {what} of schema {version!r}; this version reads {schema}.")
    try:
        tensors = load_file(str(folder / f"{stem}.safetensors"))
    except (OSError, ValueError, RuntimeError, MemoryError, OverflowError, SafetensorError) as exc:
        raise ModelLoadError(f"'{folder}' does not hold a readable {what} ({_first_line(exc)}).") from exc
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise ModelLoadError(f"'{folder}' holds a {what} whose tensor '{name}' is {tensor.dtype}, not floats; "
                                 "the file is damaged.")
    return tensors, meta


def save_checkpoint_files(folder: Path, parts: dict[str, dict[str, torch.Tensor]], optimizer: torch.optim.Optimizer,
                          meta: dict[str, Any]) -> Path:
    """A resumable checkpoint: ``parts`` ({"theta": state dict, "best": …}) as ``<part>.<name>`` tensors plus the
    optimiser's state in ``checkpoint.safetensors``, and ``meta`` (counters, history) in ``checkpoint.json``."""
    tensors = {f"{part}.{k}": v for part, state in parts.items() for k, v in state.items()}
    write_tensors(folder / "checkpoint.safetensors", tensors | optimizer_tensors(optimizer))
    write_json(folder / "checkpoint.json", meta, indent=None)
    return folder


def read_checkpoint_files(folder: Path, what: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """What :func:`save_checkpoint_files` wrote, checked before anything is restored: strict, bounded JSON with the
    counters a resume needs, and finite float tensors. Any damage is a :class:`ModelLoadError` that names the folder
    and says how to go on, so ``--resume`` never half-restores a run or trains on from garbage."""
    try:
        meta = read_json(folder / "checkpoint.json", f"{what} checkpoint")
    except ModelLoadError as exc:
        raise ModelLoadError(f"{str(exc).rstrip('.')}; {RESTART_HINT}") from exc
    iteration, seconds = meta.get("iteration"), meta.get("seconds")
    wrong = ("config" if not isinstance(meta.get("config"), dict) else
             "iteration" if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0 else
             "seconds" if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0 else
             "history" if not isinstance(meta.get("history"), list) else None)
    if wrong is not None:
        raise ModelLoadError(f"The {what} checkpoint in '{folder}' is damaged (its '{wrong}' is missing or wrong); "
                             f"{RESTART_HINT}")
    try:
        tensors = load_file(str(folder / "checkpoint.safetensors"))
    except (OSError, ValueError, RuntimeError, MemoryError, OverflowError, SafetensorError) as exc:
        raise ModelLoadError(f"The {what} checkpoint in '{folder}' cannot be read ({_first_line(exc)}); "
                             f"{RESTART_HINT}") from exc
    for name, tensor in tensors.items():
        if not tensor.is_floating_point() or not bool(torch.isfinite(tensor).all()):
            raise ModelLoadError(f"The {what} checkpoint in '{folder}' is damaged (tensor '{name}' is not finite "
                                 f"floats); {RESTART_HINT}")
    return tensors, meta


@contextmanager
def restoring(folder: Path, what: str) -> Iterator[None]:
    """Restoring a checked checkpoint into fresh modules: any mismatch (a config this version cannot build, tensors
    of other shapes, optimiser slots that do not fit) becomes a :class:`ModelLoadError`."""
    try:
        yield
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError, InvalidInputError) as exc:
        raise ModelLoadError(f"The {what} checkpoint in '{folder}' does not fit this version "
                             f"({_first_line(exc)}); {RESTART_HINT}") from exc


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam's per-parameter moments and step counts as ``adam.<index>.<name>`` tensors."""
    return {f"adam.{index}.{key}": torch.as_tensor(value)
            for index, slot in optimizer.state_dict()["state"].items() for key, value in slot.items()}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                      device: torch.device | str) -> None:
    """Put back what :func:`optimizer_tensors` saved (the hyper-parameters stay the optimiser's own)."""
    state = optimizer.state_dict()
    parameters = {index for group in state["param_groups"] for index in group["params"]}
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("adam."):
            _, index, name = key.split(".", 2)
            if int(index) not in parameters:  # torch would keep a slot of no parameter without a word
                raise KeyError(f"optimiser state for parameter {index}, which the network does not have")
            slots.setdefault(int(index), {})[name] = value.to(device)
    state["state"] = slots
    optimizer.load_state_dict(state)


def prefixed(tensors: dict[str, torch.Tensor], prefix: str, device: torch.device | str | None = None
             ) -> dict[str, torch.Tensor]:
    """The entries under ``prefix`` ("theta.", "best.", …) with the prefix removed."""
    return {k[len(prefix):]: v if device is None else v.to(device) for k, v in tensors.items()
            if k.startswith(prefix)}


def checkpointed(job: Job[Y, None, R], save: Callable[[], object], every_s: float) -> Job[Y, None, R]:
    """Relay ``job``'s steps, calling ``save`` at most every ``every_s`` seconds and once at the end."""
    saved = time.perf_counter()
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            save()
            return stop.value
        yield step
        if time.perf_counter() - saved > every_s:
            save()
            saved = time.perf_counter()
