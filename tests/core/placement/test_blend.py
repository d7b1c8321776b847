"""core.placement.blend: feather weights and pasting a generated square back into a full-resolution photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.errors import InvalidInputError
from core.imageio import CropBox
from core.placement import feather_weights, paste_back


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _solid(size: int, value: int) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def _outside(pixels: np.ndarray, box: CropBox) -> np.ndarray:
    """The pixels outside ``box``, flattened (the box zeroed out of a boolean mask)."""
    mask = np.ones(pixels.shape[:2], dtype=bool)
    mask[box.y : box.y + box.size, box.x : box.x + box.size] = False
    return pixels[mask]


# ---- feather_weights ---------------------------------------------------------------------------------------


def test_feather_weights_shape_range_and_symmetry() -> None:
    w = feather_weights(64, 0.1)
    assert w.shape == (64, 64) and w.dtype == np.float32
    assert w.min() >= 0.0 and w.max() == 1.0
    np.testing.assert_array_equal(w, w.T)
    np.testing.assert_array_equal(w, w[::-1, ::-1])
    assert w[32, 32] == 1.0
    assert w[0, 0] < 0.05 and w[0, 32] < 0.05  # near 0 on the border (pixel centres are 0.5 px inside it)


def test_feather_zero_is_a_hard_edge() -> None:
    np.testing.assert_array_equal(feather_weights(17, 0.0), np.ones((17, 17), dtype=np.float32))


def test_feather_is_smooth_and_monotone_towards_the_centre() -> None:
    w = feather_weights(200, 0.1)
    row = w[100, :100]  # border → centre
    assert np.all(np.diff(row) >= 0)
    assert np.all(row[20:] == 1.0)  # 0.1 · 200 = 20 px of fall-off
    assert np.all(row[:19] < 1.0)
    steps = np.diff(row[:21])
    assert steps[0] < steps[9] and steps[-1] < steps[9]  # smoothstep: flat at both ends, steepest mid-way


def test_feather_weights_refuse_bad_arguments() -> None:
    for size, feather in [(0, 0.1), (-3, 0.1), (16, -0.01), (16, 0.51), (16, float("nan"))]:
        with pytest.raises(InvalidInputError):
            feather_weights(size, feather)


def test_feather_weights_for_a_single_pixel() -> None:
    assert feather_weights(1, 0.5).shape == (1, 1)
    assert feather_weights(1, 0.5)[0, 0] == 1.0


# ---- paste_back --------------------------------------------------------------------------------------------


def test_outside_the_box_is_byte_identical_and_the_photo_is_untouched() -> None:
    photo = _noise(120, 160)
    photo.setflags(write=False)  # Photo.pixels is read-only: paste_back must not need to write into it
    before = photo.copy()
    box = CropBox(30, 10, 90)
    out = paste_back(photo, _noise(32, 32, seed=1), box)
    assert out.dtype == np.uint8 and out.shape == photo.shape and out is not photo
    np.testing.assert_array_equal(_outside(out, box), _outside(photo, box))
    np.testing.assert_array_equal(photo, before)


def test_centre_of_the_box_is_the_upscaled_generated_image() -> None:
    photo = _noise(300, 400)
    generated = _noise(64, 64, seed=2)
    box = CropBox(100, 50, 200)
    out = paste_back(photo, generated, box, feather=0.1)
    upscaled = np.asarray(Image.fromarray(generated).resize((200, 200), Image.Resampling.LANCZOS)).astype(int)
    inner = out[box.y + 21 : box.y + 179, box.x + 21 : box.x + 179].astype(int)  # beyond the 20 px feather
    assert np.abs(inner - upscaled[21:179, 21:179]).max() <= 1


def test_hard_edge_with_a_solid_colour_fills_the_whole_box() -> None:
    photo = _noise(90, 70)
    box = CropBox(5, 12, 60)
    out = paste_back(photo, _solid(16, 200), box, feather=0.0)
    assert np.all(out[box.y : box.y + box.size, box.x : box.x + box.size] == 200)
    np.testing.assert_array_equal(_outside(out, box), _outside(photo, box))


def test_same_size_needs_no_resampling() -> None:
    photo = _noise(64, 64)
    generated = _noise(64, 64, seed=3)
    out = paste_back(photo, generated, CropBox(0, 0, 64), feather=0.0)
    np.testing.assert_array_equal(out, generated)


def test_feathered_seam_rises_monotonically_from_the_edge_inward() -> None:
    photo = np.zeros((200, 200, 3), dtype=np.uint8)
    box = CropBox(20, 20, 160)
    out = paste_back(photo, _solid(32, 255), box, feather=0.2).astype(int)
    for line in (out[100, box.x : 100, 0], out[box.y : 100, 100, 1], out[179:100:-1, 100, 2]):
        assert np.all(np.diff(line) >= 0)
        assert line[0] <= 2 and line[-1] == 255
    assert len(np.unique(out[100, box.x : box.x + 32, 0])) > 20  # a gradual ramp, not a step


def test_keep_everywhere_leaves_the_photo_unchanged() -> None:
    photo = _noise(80, 100)
    keep = np.ones((80, 100), dtype=np.float32)
    out = paste_back(photo, _noise(16, 16, seed=4), CropBox(10, 10, 64), feather=0.0, keep=keep)
    np.testing.assert_array_equal(out, photo)


def test_keep_limits_the_blend_to_the_unkept_region() -> None:
    photo = np.zeros((64, 64, 3), dtype=np.uint8)
    keep = np.ones((64, 64), dtype=np.float64)
    keep[:, 32:] = 0.0  # inpaint the right half
    keep[0, 0] = 7.0  # out of range: clipped to 1
    out = paste_back(photo, _solid(8, 255), CropBox(0, 0, 64), feather=0.0, keep=keep)
    assert np.all(out[:, :32] == 0) and np.all(out[:, 32:] == 255)
    half = paste_back(photo, _solid(8, 200), CropBox(0, 0, 64), feather=0.0, keep=np.full((64, 64), 0.5))
    assert np.all(half == 100)


@pytest.mark.parametrize(
    "box",
    [
        CropBox(-1, 0, 10),
        CropBox(0, -1, 10),
        CropBox(95, 0, 10),
        CropBox(0, 75, 10),
        CropBox(0, 0, 0),
        CropBox(0, 0, 101),
    ],
)
def test_bad_boxes_are_refused(box: CropBox) -> None:
    with pytest.raises(InvalidInputError):
        paste_back(_noise(80, 100), _noise(16, 16), box)


def test_bad_inputs_are_refused() -> None:
    photo, generated, box = _noise(40, 40), _noise(16, 16), CropBox(0, 0, 32)
    bad_calls = [
        lambda: paste_back(photo.astype(np.float32), generated, box),
        lambda: paste_back(photo[:, :, 0], generated, box),
        lambda: paste_back(np.zeros((40, 40, 4), np.uint8), generated, box),
        lambda: paste_back(photo, generated.astype(np.uint16), box),
        lambda: paste_back(photo, _noise(16, 20), box),  # not square
        lambda: paste_back(photo, generated, box, feather=0.7),
        lambda: paste_back(photo, generated, box, keep=np.ones((40, 41), np.float32)),
        lambda: paste_back(photo, generated, box, keep=np.ones((40, 40), np.uint8)),
        lambda: paste_back(photo, generated, box, keep=np.full((40, 40), np.nan, np.float32)),
        lambda: paste_back(photo.tolist(), generated, box),
    ]
    for call in bad_calls:
        with pytest.raises(InvalidInputError):
            call()


def test_nan_keep_outside_the_box_is_ignored() -> None:
    keep = np.zeros((40, 40), np.float32)
    keep[39, 39] = np.nan  # never read: only the box region of the keep map matters
    out = paste_back(_noise(40, 40), _solid(8, 9), CropBox(0, 0, 32), feather=0.0, keep=keep)
    assert np.all(out[:32, :32] == 9)


def test_large_photo() -> None:
    photo = _noise(2000, 3000)
    box = CropBox(1200, 400, 1024)
    out = paste_back(photo, _noise(256, 256, seed=5), box, keep=np.zeros((2000, 3000), np.float32))
    assert out.shape == (2000, 3000, 3)
    np.testing.assert_array_equal(out[:400], photo[:400])
    np.testing.assert_array_equal(out[:, 2224:], photo[:, 2224:])
    centre = (slice(800, 1000), slice(1600, 1800))
    assert np.abs(out[centre].astype(int) - photo[centre].astype(int)).mean() > 20  # the generated image is in
