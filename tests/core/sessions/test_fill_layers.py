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


@pytest.mark.parametrize("detail", [True, False])
def test_fills_stack_in_order_and_touch_only_their_masks(photo_file: Path, detail: bool) -> None:
    pixels = load_photo(photo_file).pixels
    first, second = _two_overlapping(pixels.shape[:2])
    stacked = stack(pixels, (first, second), detail=detail)
    assert np.array_equal(stacked, second.apply(first.apply(pixels, detail=detail), detail=detail))
    untouched = (first.mask == 0) & (second.mask == 0)
    assert np.array_equal(stacked[untouched], pixels[untouched])
    assert not np.array_equal(stack(pixels, (second, first), detail=detail), stacked)  # order matters
    assert stack(pixels, (), detail=detail) is pixels
    if not detail:
        inside = (slice(100, 140), slice(230, 290))  # deep inside the second mask (past its feathered ramp)
        assert np.array_equal(stacked[inside], second.apply(pixels, detail=False)[inside])  # the later one on top


def test_a_detail_fill_takes_the_candidates_shapes_and_keeps_the_photos_grain(photo_file: Path) -> None:
    """Inside the brush the model-resolution view of the result is the candidate's, while what the model cannot
    see (the photo's finer grain) stays: the fill is not a blurred patch."""
    pixels = load_photo(photo_file).pixels
    mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
    mask[60:200, 180:320] = 255
    ramp = np.linspace(30, 220, 64, dtype=np.float32)  # a smooth candidate, as a model makes at its resolution
    image = np.stack([ramp[None, :].repeat(64, 0), ramp[:, None].repeat(64, 1), np.full((64, 64), 90.0)], -1)
    fill = Fill(image.astype(np.uint8), mask, Placement(CROP), 0.03)
    placement, size = fill.placement, fill.image.shape[0]
    detailed, replaced = fill.apply(pixels, detail=True), fill.apply(pixels, detail=False)
    inside = (slice(90, 170), slice(210, 290))  # deep inside the mask, past the ramp

    def model_view(image: np.ndarray) -> np.ndarray:
        return placement.target(image, size).astype(np.float32)

    def grain(image: np.ndarray) -> np.ndarray:  # what is left after the model's view, upscaled, is taken away
        up = Placement(CROP).composite(image, placement.target(image, size), feather=0.0)
        return image[inside].astype(np.float32) - up[inside].astype(np.float32)

    region = (slice(25, 45), slice(15, 35))  # the same pixels deep inside the mask, in the model's 64-px view
    assert np.abs(model_view(detailed)[region] - model_view(replaced)[region]).mean() < 12.0
    kept = np.abs(grain(detailed) - grain(pixels)).mean()
    lost = np.abs(grain(replaced) - grain(pixels)).mean()
    assert kept < 0.6 * lost, (kept, lost)


def test_a_document_composites_its_fills_over_the_result(photo_file: Path) -> None:
    pixels = load_photo(photo_file).pixels
    image = np.full((64, 64, 3), 40, dtype=np.uint8)
    fills = _two_overlapping(pixels.shape[:2])
    doc = Document.for_photo(photo_file, CROP, latents=np.zeros((1, 100), np.float32), image=image, fills=fills)
    assert np.array_equal(doc.composited(pixels), stack(pixels, fills))  # "detail": the result alone changes nothing
    replaced = doc.with_changes(composite="replace")
    result = Placement(CROP).composite(pixels, image, feather=doc.feather)
    assert np.array_equal(replaced.composited(pixels), stack(result, fills, detail=False))


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
    assert np.array_equal(loaded.composited(photo.pixels), doc.composited(pixels))


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
