"""core.sessions.fill_layers: inpainting fills stacked over the result, in order, and kept bit for bit in a project."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidInputError
from core.imageio import CropBox, load_photo
from core.placement import Placement
from core.sessions import Document, Fill, load_project, save_project
from core.sessions.fill_layers import MAX_FILLS, entries, stack

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "astronaut.png"
CROP = CropBox(150, 40, 200)


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    target = tmp_path / "astronaut.png"
    shutil.copyfile(SAMPLE, target)
    return target


def _fill(shape: tuple[int, int], rows: slice, cols: slice, seed: int, label: str = "fill") -> Fill:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[rows, cols] = 255
    image = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return Fill(image, mask, Placement(CROP), 0.03, label)


def _edit_manifest(path: Path, change: Callable[[dict], object]) -> None:
    """Rewrite the project's ``project.json`` after ``change`` edited it in place."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["project.json"])
    change(manifest)
    members["project.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _two_overlapping(shape: tuple[int, int]) -> tuple[Fill, Fill]:
    first = _fill(shape, slice(60, 120), slice(180, 260), 1, "candidate #1")
    second = _fill(shape, slice(90, 150), slice(220, 300), 2, "candidate #2")
    return first, second


def test_fills_stack_in_order_and_touch_only_their_masks(photo_file: Path) -> None:
    pixels = load_photo(photo_file).pixels
    first, second = _two_overlapping(pixels.shape[:2])
    stacked = stack(pixels, (first, second))
    assert np.array_equal(stacked, second.apply(first.apply(pixels)))
    untouched = (first.mask == 0) & (second.mask == 0)
    assert np.array_equal(stacked[untouched], pixels[untouched])
    inside = (slice(100, 140), slice(230, 290))  # deep inside the second mask (past its feathered ramp)
    assert np.array_equal(stacked[inside], second.apply(pixels)[inside])  # the later one lies on top
    assert not np.array_equal(stack(pixels, (second, first)), stacked)  # order matters where they overlap
    assert stack(pixels, ()) is pixels


def test_a_document_composites_its_fills_over_the_result(photo_file: Path) -> None:
    pixels = load_photo(photo_file).pixels
    image = np.full((64, 64, 3), 40, dtype=np.uint8)
    fills = _two_overlapping(pixels.shape[:2])
    doc = Document.for_photo(photo_file, CROP, latents=np.zeros((1, 100), np.float32), image=image, fills=fills)
    result = Placement(CROP).composite(pixels, image, feather=doc.feather)
    assert np.array_equal(doc.composite(pixels), stack(result, fills))


def test_fills_round_trip_bit_exact_through_a_project(tmp_path: Path, photo_file: Path) -> None:
    pixels = load_photo(photo_file).pixels
    fills = _two_overlapping(pixels.shape[:2])
    doc = Document.for_photo(photo_file, CROP, fills=fills)
    path = save_project(doc, tmp_path / "fills.lsproj")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("project.json"))
    assert [entry["label"] for entry in manifest["fills"]] == ["candidate #1", "candidate #2"]
    loaded, photo = load_project(path)
    assert len(loaded.fills) == 2
    for saved, back in zip(fills, loaded.fills, strict=True):
        assert back.image.tobytes() == saved.image.tobytes() and back.mask.tobytes() == saved.mask.tobytes()
        assert back.placement == saved.placement and back.feather == saved.feather and back.label == saved.label
    assert np.array_equal(loaded.composite(photo.pixels), doc.composite(pixels))


def test_a_fill_of_another_photo_size_is_refused_on_opening(tmp_path: Path, photo_file: Path) -> None:
    doc = Document.for_photo(photo_file, CROP, fills=(_fill((10, 10), slice(0, 5), slice(0, 5), 3),))
    path = save_project(doc, tmp_path / "wrong.lsproj")
    with pytest.raises(InvalidInputError, match="mask of fill 1 is 10x10"):
        load_project(path)


def test_damaged_fill_entries_are_refused(tmp_path: Path, photo_file: Path) -> None:
    pixels = load_photo(photo_file).pixels
    doc = Document.for_photo(photo_file, CROP, fills=_two_overlapping(pixels.shape[:2]))
    path = save_project(doc, tmp_path / "fills.lsproj")
    _edit_manifest(path, lambda manifest: manifest["fills"][1].update(label=7))
    with pytest.raises(InvalidInputError, match=r"fills in project\.json are not valid"):
        load_project(path)


def test_bad_fills_are_refused_when_made() -> None:
    mask = np.zeros((8, 8), np.uint8)
    with pytest.raises(InvalidInputError, match="square uint8 RGB"):
        Fill(np.zeros((4, 5, 3), np.uint8), mask, Placement(CropBox(0, 0, 4)), 0.03)
    with pytest.raises(InvalidInputError, match="feather"):
        Fill(np.zeros((4, 4, 3), np.uint8), mask, Placement(CropBox(0, 0, 4)), float("nan"))
    too_many = (Fill(np.zeros((4, 4, 3), np.uint8), mask, Placement(CropBox(0, 0, 4)), 0.03),) * (MAX_FILLS + 1)
    with pytest.raises(InvalidInputError, match=f"at most {MAX_FILLS}"):
        entries(too_many)


def test_a_schema_3_project_opens_with_no_fills(tmp_path: Path, photo_file: Path) -> None:
    path = save_project(Document.for_photo(photo_file, CROP), tmp_path / "old.lsproj")

    def as_schema_3(manifest: dict) -> None:
        del manifest["fills"]
        manifest["schema_version"] = 3

    _edit_manifest(path, as_schema_3)
    loaded, _ = load_project(path)
    assert loaded.fills == ()
