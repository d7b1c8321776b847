"""Projects through the real main window: edits the direction library would refuse (long names, scale 0, a zero or
unnormalised vector, a library direction's name with the project's own vector, an amount of 0) reopen and save
again exactly, and opening a project writes nothing into the user data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.imageio import CropBox
from core.resources import resources_dir
from core.sessions import Document, EditedDirection, load_project, save_project
from tests.battery.conftest import digest

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000  # only ends a hang: waits end on the work's own signal
OPEN_WAIT_MS = 120_000  # reopening a small project takes a second; a refused one never signals
DIM = 100
UNIT = (lambda v: (v / np.linalg.norm(v)).astype(np.float32))(np.random.default_rng(3).standard_normal(DIM))


def edit(name: str = "smile", vector: np.ndarray | None = None, scale: float = 1.0, alpha: float = 1.5,
         method: str = "pca") -> EditedDirection:
    return EditedDirection(name, UNIT if vector is None else vector, scale, alpha, None, method)


ODD = {
    "name-120-chars": (edit("n" * 120),),
    "scale-zero": (edit(scale=0.0),),
    "zero-vector": (edit(vector=np.zeros(DIM, np.float32)),),
    "not-unit-vector": (edit(vector=(UNIT * 3).astype(np.float32), scale=2.0),),
    "library-name-own-vector": (edit("smile", vector=-UNIT, scale=0.25, method="imported"), edit("glasses")),
    "amount-zero-and-outside-range": (edit("age", alpha=0.0), edit("hat", alpha=9.0)),
}


def _project(folder: Path, edits: tuple[EditedDirection, ...], model_id: str) -> Path:
    photo = folder / "photo.png"
    shutil.copyfile(SAMPLE, photo)
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    doc = Document.for_photo(photo, CropBox(150, 40, 200), embed=True, latents=rng.standard_normal(
        (1, DIM)).astype(np.float32), image=image, edited_image=image, edits=edits, model_id=model_id, space="z")
    return save_project(doc, folder / "odd.lsproj")


def _same(got: tuple[EditedDirection, ...], want: tuple[EditedDirection, ...]) -> None:
    assert [e.name for e in got] == [e.name for e in want]
    for a, b in zip(got, want, strict=True):
        assert a.vector.tobytes() == b.vector.tobytes(), a.name
        assert (a.scale, a.alpha, a.layers, a.method) == (b.scale, b.alpha, b.layers, b.method), a.name


@pytest.mark.parametrize("name", list(ODD))
def test_odd_edits_survive_open_and_save_in_the_editor(name, qtbot, window, tmp_path, user_data):
    from core.generators import load_generator

    edits = ODD[name]
    project = _project(tmp_path, edits, load_generator("default", "cpu").model_id)
    before = digest([user_data])
    with qtbot.waitSignal(window.projects.project_opened, timeout=OPEN_WAIT_MS, raising=False):
        window.open_path(project)
    assert window.projects.path == project, "the project did not open"
    assert digest([user_data]) == before, "opening a project wrote into the user data folder"
    _same(window.controller.edits, edits)
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        assert window.save_project()  # Ctrl+S: the project's own file
    saved, _ = load_project(project)
    _same(saved.edits, edits)
    assert digest([user_data]) == before
