"""Placement: the one rule from a photo to the model's square and back (crop box or aligned face square)."""

import numpy as np
import pytest

from core.alignment import Alignment
from core.errors import InvalidInputError
from core.imageio import CropBox, Photo, crop_and_resize, crop_and_resize_mask, load_photo
from core.placement import Placement, paste_back
from core.resources import resources_dir, sample_photos

R = 64


def _photo(width: int = 200, height: int = 150, source=None) -> Photo:
    rng = np.random.default_rng(0)
    return Photo(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), None, source, "RGB")


def _aligned(angle_deg: float = 20.0, scale: float = 0.5, at=(100.0, 75.0)) -> Alignment:
    """A similarity photo → model pixels: the model square of side R/scale photo pixels, turned, centred at ``at``."""
    t = np.radians(angle_deg)
    linear = scale * np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    shift = np.array([R / 2, R / 2]) - linear @ np.asarray(at)
    matrix = np.hstack([linear, shift[:, None]])
    return Alignment(tuple(tuple(float(v) for v in row) for row in matrix), R, 0, ((90.0, 70.0), (110.0, 70.0),
                                                                                  (100.0, 90.0)))


def test_default_is_the_given_crop_else_a_samples_face_box_else_centred():
    sample = sample_photos()[0]
    recorded = Placement.default_for(load_photo(sample))
    assert recorded.crop == CropBox(162, 42, 126) and not recorded.is_aligned  # provenance.json's face box
    assert Placement.default_for(_photo()).crop == CropBox(25, 0, 150)
    assert Placement.default_for(_photo(), CropBox(0, 0, 10)).crop == CropBox(0, 0, 10)
    with pytest.raises(InvalidInputError, match="does not fit"):
        Placement.default_for(_photo(), CropBox(150, 0, 100))
    stranger = Photo(np.zeros((10, 10, 3), np.uint8), None, resources_dir() / "elsewhere.png", "RGB")
    assert Placement.default_for(stranger).crop == CropBox(0, 0, 10)


def test_a_crop_placement_is_exactly_the_crop_functions():
    photo, box = _photo(), CropBox(20, 10, 100)
    placement = Placement(box)
    assert np.array_equal(placement.target(photo.pixels, R), crop_and_resize(photo.pixels, box, R))
    mask = np.zeros((150, 200), np.uint8)
    mask[40:60, 50:70] = 255
    assert np.array_equal(placement.mask(mask, R), crop_and_resize_mask(mask / 255.0, box, R))
    image = np.full((R, R, 3), 200, np.uint8)
    assert np.array_equal(placement.composite(photo.pixels, image, feather=0.1),
                          paste_back(photo.pixels, image, box, 0.1))
    assert placement.touches(mask) and not placement.touches(np.pad(np.full((5, 5), 255, np.uint8),
                                                                   ((0, 145), (195, 0))))
    assert placement.to_dict() == {"crop": box.to_dict(), "alignment": None}


def test_an_aligned_composite_changes_only_the_turned_square():
    photo = _photo()
    placement = Placement(CropBox(0, 0, 150), _aligned())
    image = np.full((R, R, 3), 255, np.uint8)
    out = placement.composite(photo.pixels, image, feather=0.0)
    covered = placement.covered(200, 150, R) > 0
    assert np.array_equal(out[~covered], photo.pixels[~covered])  # outside the square: the photo's own bytes
    inner = placement.corners().mean(0).astype(int)
    assert (out[inner[1], inner[0]] == 255).all()
    assert 0.9 < covered.sum() / (R / 0.5) ** 2 < 1.1  # the square's area in photo pixels
    assert placement.to_dict()["crop"] is None and placement.to_dict()["alignment"]["resolution"] == R


def test_a_fill_changes_only_the_masked_pixels():
    photo = _photo()
    mask = np.zeros((150, 200), np.uint8)
    mask[60:90, 80:120] = 255
    image = np.zeros((R, R, 3), np.uint8)
    for placement in (Placement(CropBox(25, 0, 150)), Placement(CropBox(25, 0, 150), _aligned())):
        out = placement.composite(photo.pixels, image, fill_mask=mask, feather=0.03)
        assert np.array_equal(out[mask == 0], photo.pixels[mask == 0])
        assert (out[mask > 0] != photo.pixels[mask > 0]).any()


@pytest.mark.parametrize("aligned", [False, True])
def test_a_patch_is_the_composite_cut_to_the_squares_box(aligned):
    photo = _photo()
    placement = Placement(CropBox(30, 20, 100), _aligned() if aligned else None)
    image = np.full((R, R, 3), 90, np.uint8)
    whole = placement.composite(photo.pixels, image, feather=0.08)
    patch, box = placement.patch(photo.pixels, image, feather=0.08)
    y0, x0 = max(box.y, 0), max(box.x, 0)
    inside = whole[y0:box.y + box.size, x0:box.x + box.size]
    cut = patch[y0 - box.y:y0 - box.y + inside.shape[0], x0 - box.x:x0 - box.x + inside.shape[1]]
    assert np.abs(cut.astype(int) - inside).max() <= 1  # the same blend, resampled on the same grid


def test_scaling_keeps_the_square_on_a_smaller_copy():
    placement = Placement(CropBox(40, 20, 100), _aligned())
    half = placement.scaled(0.5, 100, 75)
    assert half.crop == CropBox(20, 10, 50)
    assert np.allclose(half.corners(), placement.corners() * 0.5)
    assert placement.scaled(1.0, 200, 150) == placement
    with pytest.raises(InvalidInputError):
        placement.scaled(0.0, 1, 1)


def test_an_aligned_square_is_the_same_face_at_any_side():
    """A model that works at one side and renders at another (FFHQ: 256 and 1024) asks for the same square at
    both: drawn at 4 × R and averaged down, it is the square drawn at R."""
    photo = load_photo(sample_photos()[0])
    placement = Placement.default_for(photo).aligned(_aligned(at=(250.0, 200.0)))
    small = placement.target(photo.pixels, R).astype(float)
    large = placement.target(photo.pixels, 4 * R).astype(float).reshape(R, 4, R, 4, 3).mean(axis=(1, 3))
    assert np.abs(small - large).mean() < 4  # interpolation differs; a wrong square differs by tens of levels
    mask = np.zeros(photo.pixels.shape[:2], np.uint8)
    mask[: photo.height // 2] = 255
    assert abs(placement.mask(mask, R).mean() - placement.mask(mask, 4 * R).mean()) < 0.02


@pytest.mark.parametrize("aligned", [False, True])
def test_points_map_into_the_square_and_back(aligned):
    placement = Placement(CropBox(25, 10, 120), _aligned() if aligned else None)
    corners = placement.corners()  # the square's corners in photo pixels: (0,0), (1,0), (1,1), (0,1) inside it
    np.testing.assert_allclose(placement.to_square(corners), [[0, 0], [1, 0], [1, 1], [0, 1]], atol=1e-9)
    points = np.array([[60.0, 40.0], [101.5, 77.25]])
    np.testing.assert_allclose(placement.from_square(placement.to_square(points)), points, atol=1e-9)
