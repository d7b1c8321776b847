"""Battery: a fuzz pass with a fixed seed over mutated photos, projects and checkpoints. Every mutant either
loads or is refused with a typed :class:`CoreError` (the CLI's one ``error:`` line) — never another exception,
never a hang, never a model with non-finite weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from core.errors import CoreError
from core.generators import load_generator
from core.generators.dcgan import DCGANNet
from core.imageio import CropBox, load_photo
from core.sessions import Document, load_project, save_project
from tests.battery.fault_kit import deadline, noise_photo

SEED = 20240521
MUTANTS = 30


def _mutate(data: bytes, index: int, protect: int = 0) -> bytes:
    """Mutant ``index`` of ``data``: flipped bytes, overwritten runs, truncation, insertion or a duplicated run;
    even indices aim at the first 1 KiB (headers, where parsers decide what to allocate)."""
    rng = np.random.default_rng([SEED, index])
    buf = bytearray(data)
    span = min(len(buf), 1024) if index % 2 == 0 else len(buf)
    kind = index % 5
    if kind == 0:
        for pos in rng.integers(protect, span, size=int(rng.integers(1, 9))):
            buf[pos] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:
        start = int(rng.integers(protect, span))
        buf[start:start + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
    elif kind == 2:
        del buf[int(rng.integers(max(protect, 1), len(buf))):]
    elif kind == 3:
        pos = int(rng.integers(protect, span))
        buf[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    else:
        start = int(rng.integers(protect, span))
        buf[start:start] = buf[start:start + int(rng.integers(1, 256))]
    return bytes(buf)


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz")
    photo = noise_photo(folder / "photo.png", side=48)
    doc = Document.for_photo(photo, CropBox(0, 0, 48), embed=True)
    project = save_project(doc, folder / "doc.lsproj")
    torch.manual_seed(SEED)
    net = DCGANNet(z_dim=8, channels=(16, 8))
    model = folder / "tiny.safetensors"
    save_file(net.state_dict(), str(model),
              metadata={"architecture": "dcgan", "z_dim": "8", "channels": "16,8", "name": "tiny"})
    return {"photo": photo.read_bytes(), "project": project.read_bytes(), "model": model.read_bytes()}


def _load_model(path: Path) -> None:
    G = load_generator(path)
    for tensor in G.net.state_dict().values():  # type: ignore[attr-defined]
        assert torch.isfinite(tensor.float()).all(), "a model with non-finite weights was accepted"


LOADERS = {"photo": (".png", load_photo), "project": (".lsproj", load_project), "model": (".safetensors", _load_model)}


@pytest.mark.parametrize("index", range(MUTANTS))
@pytest.mark.parametrize("what", list(LOADERS))
def test_mutant_loads_or_is_refused_plainly(tmp_path, originals, what, index):
    suffix, load = LOADERS[what]
    path = tmp_path / f"mutant{suffix}"
    path.write_bytes(_mutate(originals[what], index, protect=8 if what == "photo" else 0))
    with deadline(60):
        try:
            load(path)
        except CoreError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip(), repr(exc)


def test_fuzz_is_reproducible(originals):
    assert _mutate(originals["model"], 3) == _mutate(originals["model"], 3)
    assert sum(_mutate(originals["photo"], i) != originals["photo"] for i in range(MUTANTS)) == MUTANTS
