"""Our own small networks on disk (θ, encoders) and their training checkpoints: safetensors + JSON, atomic.

One place for the file handling both trainers share, so a fix (atomicity, error wording, the optimiser-state
layout) reaches every learned part at once. Nothing here unpickles.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from collections.abc import Generator as Job
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from core.errors import ModelLoadError
from core.imageio import atomic_write_bytes, save_error

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
    return atomic_write_bytes(path, (json.dumps(data, indent=indent) + "\n").encode())


def save_weights(folder: Path, stem: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """``folder/stem.safetensors`` + ``folder/stem.json``; returns the folder."""
    write_tensors(folder / f"{stem}.safetensors", tensors)
    write_json(folder / f"{stem}.json", meta)
    return folder


def read_weights(folder: Path, stem: str, what: str, schema: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The pair :func:`save_weights` wrote, or a :class:`ModelLoadError` naming ``what`` ("an encoder", …)."""
    try:
        meta = json.loads((folder / f"{stem}.json").read_text())
        tensors = load_file(str(folder / f"{stem}.safetensors"))
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelLoadError(f"'{folder}' does not hold a readable {what} ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("schema_version") != schema:
        version = meta.get("schema_version") if isinstance(meta, dict) else None
        raise ModelLoadError(f"'{folder}' holds a {what} of schema {version}; this version reads {schema}.")
    return tensors, meta


def save_checkpoint_files(folder: Path, parts: dict[str, dict[str, torch.Tensor]], optimizer: torch.optim.Optimizer,
                          meta: dict[str, Any]) -> Path:
    """A resumable checkpoint: ``parts`` ({"theta": state dict, "best": …}) as ``<part>.<name>`` tensors plus the
    optimiser's state in ``checkpoint.safetensors``, and ``meta`` (counters, history) in ``checkpoint.json``."""
    tensors = {f"{part}.{k}": v for part, state in parts.items() for k, v in state.items()}
    write_tensors(folder / "checkpoint.safetensors", tensors | optimizer_tensors(optimizer))
    write_json(folder / "checkpoint.json", meta, indent=None)
    return folder


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam's per-parameter moments and step counts as ``adam.<index>.<name>`` tensors."""
    return {f"adam.{index}.{key}": torch.as_tensor(value)
            for index, slot in optimizer.state_dict()["state"].items() for key, value in slot.items()}


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                      device: torch.device | str) -> None:
    """Put back what :func:`optimizer_tensors` saved (the hyper-parameters stay the optimiser's own)."""
    state = optimizer.state_dict()
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("adam."):
            _, index, name = key.split(".", 2)
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
