"""app.widgets.qimage: numpy → QImage conversion copies the pixels and keeps colours, layout and formats right."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from app.widgets.qimage import numpy_to_qimage


def _rgb(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = QColor(image.pixel(x, y))
    return c.red(), c.green(), c.blue()


def _noise(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


def test_rgb_pixels_and_size() -> None:
    pixels = _noise(5, 7, 3)
    image = numpy_to_qimage(pixels)
    assert (image.width(), image.height()) == (7, 5)
    assert image.format() == QImage.Format.Format_RGB888
    for y, x in [(0, 0), (4, 6), (2, 3)]:
        assert _rgb(image, x, y) == tuple(pixels[y, x])


def test_grayscale_and_rgba() -> None:
    gray = _noise(4, 6)
    image = numpy_to_qimage(gray)
    assert image.format() == QImage.Format.Format_Grayscale8
    assert _rgb(image, 5, 3) == (gray[3, 5],) * 3
    rgba = _noise(3, 3, 4)
    image = numpy_to_qimage(rgba)
    assert image.format() == QImage.Format.Format_RGBA8888
    assert QColor.fromRgba(image.pixel(1, 2)).alpha() == rgba[2, 1, 3]


def test_owns_a_copy_of_the_data() -> None:
    pixels = _noise(16, 16, 3)
    expected = pixels[8, 9].copy()
    image = numpy_to_qimage(pixels)
    pixels[:] = 0  # editing the array afterwards must not reach the image
    assert _rgb(image, 9, 8) == tuple(expected)
    del pixels
    gc.collect()
    _ = _noise(16, 16, 3) * 0  # reuse freed memory
    assert _rgb(image, 9, 8) == tuple(expected)


def test_views_with_odd_strides() -> None:
    base = _noise(20, 30, 3)
    for view in (base[::2, 1::3], base[:, ::-1], base[3:10, 5:6], np.asfortranarray(base)):
        image = numpy_to_qimage(view)
        assert (image.width(), image.height()) == (view.shape[1], view.shape[0])
        assert _rgb(image, view.shape[1] - 1, view.shape[0] - 1) == tuple(view[-1, -1])
        assert _rgb(image, 0, 0) == tuple(view[0, 0])
    odd = _noise(3, 5, 3)  # 15-byte rows: not 4-byte aligned
    assert _rgb(numpy_to_qimage(odd), 4, 2) == tuple(odd[2, 4])


@pytest.mark.parametrize(
    ("pixels", "error"),
    [
        (np.zeros((4, 4, 3), np.float32), TypeError),
        ([[0, 1], [2, 3]], TypeError),
        (np.zeros((4, 4, 2), np.uint8), ValueError),
        (np.zeros((2, 4, 4, 3), np.uint8), ValueError),
        (np.zeros((0, 4, 3), np.uint8), ValueError),
    ],
)
def test_refuses_bad_input(pixels, error) -> None:
    with pytest.raises(error):
        numpy_to_qimage(pixels)
