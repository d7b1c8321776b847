"""Damaged training checkpoints under ``--resume``: ``train-landscape`` and ``train-encoder`` continue a run from
``--out/checkpoint``. A checkpoint that cannot be restored exactly is one ``error:`` line naming its folder and
how to go on (exit 2), before any training: the folder is left as it was, nothing in it is executed, nothing is
allocated from its claims, and no half-restored run trains on.

The checkpoints are real: a short run of each trainer saved by its own ``save_*checkpoint``; each case damages one
part of a copy (its JSON counters and settings, its tensors, the optimiser's slots).
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from core.errors import ModelLoadError
from core.generators import load_generator
from core.inversion.encoder_training import (
    EncoderTrainConfig,
    load_encoder_checkpoint,
    save_encoder_checkpoint,
    train_encoder,
)
from core.jobs import run_job
from core.landscape.learning import (
    LandscapeTrainConfig,
    MappingConfig,
    load_checkpoint,
    save_checkpoint,
    train_landscape,
)
from tests.battery import input_kit as kit
from tests.battery.conftest import digest

Damage = Callable[[Path], None]  # the copied checkpoint folder
LANDSCAPE = LandscapeTrainConfig(mapping=MappingConfig(width=16), inner_steps=2, batch=2, max_iterations=1)
ENCODER = EncoderTrainConfig(width=4, batch=2, iterations=1, validate_every=100, validation_faces=2)


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.fixture(scope="module")
def checkpoints(G, tmp_path_factory) -> dict[str, Path]:
    """One real checkpoint per trainer, after one update (so the optimiser's slots are in it)."""
    root = tmp_path_factory.mktemp("checkpoints")
    save_checkpoint(run_job(train_landscape(G, LANDSCAPE)), LANDSCAPE, root / "landscape")
    save_encoder_checkpoint(run_job(train_encoder(G, ENCODER)), ENCODER, root / "encoder")
    return {"landscape": root / "landscape", "encoder": root / "encoder"}


def _meta(change: Callable[[dict], object]) -> Damage:
    def damage(folder: Path) -> None:
        path = folder / "checkpoint.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return damage


def _raw_meta(data: bytes) -> Damage:
    return lambda folder: kit.write(folder / "checkpoint.json", data)


def _tensors(change: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> Damage:
    def damage(folder: Path) -> None:
        path = folder / "checkpoint.safetensors"
        save_file(change(load_file(str(path))), str(path))
    return damage


def _raw_tensors(data: Callable[[bytes], bytes]) -> Damage:
    def damage(folder: Path) -> None:
        path = folder / "checkpoint.safetensors"
        path.write_bytes(data(path.read_bytes()))
    return damage


def _first_weight(tensors: dict[str, torch.Tensor]) -> str:
    """The first 2-D (or larger) weight of the network itself (not of "best." or the optimiser)."""
    return sorted(k for k, v in tensors.items() if v.dim() >= 2 and not k.startswith(("best.", "adam.")))[0]


def _weights(change: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[dict], dict]:
    def edit(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        key = _first_weight(tensors)
        return tensors | {key: change(tensors[key])}
    return edit


def _rename_adam(new_index: str) -> Callable[[dict], dict]:
    def edit(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        key = sorted(k for k in tensors if k.startswith("adam."))[0]
        _, _, slot = key.split(".", 2)
        return {k: v for k, v in tensors.items() if k != key} | {f"adam.{new_index}.{slot}": tensors[key]}
    return edit


def _huge_claim(original: bytes) -> bytes:
    header = json.dumps({"x": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


CASES: list[tuple[str, Damage]] = [
    ("no-tensors", lambda folder: (folder / "checkpoint.safetensors").unlink()),
    ("meta-truncated", _raw_meta(b'{"config": {"batch": 2')),
    ("meta-zero-bytes", _raw_meta(b"")),
    ("meta-not-utf8", _raw_meta(b'{"\xff\xfe": 1}')),
    ("meta-nested-deep", _raw_meta(kit.nested_json(200_000))),
    ("meta-a-list", _raw_meta(b"[1, 2]")),
    ("meta-bare-nan", _raw_meta(b'{"config": {}, "iteration": 1, "seconds": NaN, "history": []}')),
    ("meta-over-size-limit", _raw_meta(b'{"pad": "' + b"a" * (20 * 2**20) + b'"}')),
    ("config-missing", _meta(lambda d: d.pop("config"))),
    ("config-a-list", _meta(lambda d: d.__setitem__("config", [1]))),
    ("config-unknown-key", _meta(lambda d: d["config"].__setitem__("surprise", 1))),
    ("config-batch-a-string", _meta(lambda d: d["config"].__setitem__("batch", "two"))),
    ("iteration-negative", _meta(lambda d: d.__setitem__("iteration", -3))),
    ("iteration-a-string", _meta(lambda d: d.__setitem__("iteration", "7"))),
    ("iteration-a-bool", _meta(lambda d: d.__setitem__("iteration", True))),
    ("seconds-negative", _meta(lambda d: d.__setitem__("seconds", -1.0))),
    ("history-a-dict", _meta(lambda d: d.__setitem__("history", {}))),
    ("tensors-garbage", _raw_tensors(lambda data: b"\x00garbage" * 64)),
    ("tensors-zero-bytes", _raw_tensors(lambda data: b"")),
    ("tensors-truncated", _raw_tensors(lambda data: data[: len(data) // 2])),
    ("tensors-huge-claim", _raw_tensors(_huge_claim)),
    ("tensors-pickle", lambda folder: torch.save({"x": torch.zeros(1)}, folder / "checkpoint.safetensors")),
    ("weight-wrong-shape", _tensors(_weights(lambda t: t[..., :-1].contiguous()))),
    ("weight-integers", _tensors(_weights(lambda t: t.to(torch.int32)))),
    ("weight-nan", _tensors(_weights(lambda t: torch.full_like(t, float("nan"))))),
    ("weight-missing", _tensors(lambda ts: {k: v for k, v in ts.items() if k != _first_weight(ts)})),
    ("adam-slot-not-a-number", _tensors(_rename_adam("x"))),
    ("adam-slot-of-no-parameter", _tensors(_rename_adam("999"))),
]
KINDS = ("landscape", "encoder")


def _damaged(checkpoints: dict[str, Path], kind: str, tmp_path: Path, damage: Damage) -> tuple[Path, dict]:
    out = tmp_path / "run"
    shutil.copytree(checkpoints[kind], out / "checkpoint")
    damage(out / "checkpoint")
    return out, digest([out])


def test_the_undamaged_checkpoints_restore(G, checkpoints):
    """The control: what every case damages is a checkpoint that restores."""
    state, config = load_checkpoint(checkpoints["landscape"], "cpu")
    assert state.iteration == 1 and config.batch == LANDSCAPE.batch and state.optimizer.state_dict()["state"]
    encoder, encoder_config = load_encoder_checkpoint(G, checkpoints["encoder"])
    assert encoder.iteration == 1 and encoder_config.width == ENCODER.width


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_damaged_checkpoint_is_refused_before_training(G, checkpoints, tmp_path, canary, kind, damage):
    folder, before = _damaged(checkpoints, kind, tmp_path, damage)
    with pytest.raises(ModelLoadError, match="checkpoint") as caught:
        if kind == "landscape":
            load_checkpoint(folder / "checkpoint", "cpu")
        else:
            load_encoder_checkpoint(G, folder / "checkpoint")
    assert str(folder / "checkpoint") in str(caught.value) and "afresh" in str(caught.value)
    assert digest([folder]) == before


@pytest.mark.parametrize(("kind", "damage"), [("landscape", "meta-truncated"), ("landscape", "weight-wrong-shape"),
                                              ("encoder", "tensors-huge-claim"), ("encoder", "adam-slot-not-a-number")])
def test_resume_on_the_command_line_is_one_error_line(cli, checkpoints, tmp_path, canary, kind, damage):
    folder, before = _damaged(checkpoints, kind, tmp_path, dict(CASES)[damage])
    command = "train-landscape" if kind == "landscape" else "train-encoder"
    cli(command, "--out", folder, "--resume", "--iterations", "2", "--quiet").assert_one_error("checkpoint")
    assert digest([folder]) == before
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint"]
