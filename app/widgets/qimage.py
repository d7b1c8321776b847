"""numpy pixels → QImage, the one place the GUI turns arrays into something Qt can paint.

A QImage built on a numpy buffer does not own that memory: if the array is freed or edited, the image shows garbage
or crashes. ``numpy_to_qimage`` therefore always returns an image that owns a copy of the pixels.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

_FORMATS = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}


def numpy_to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 [H, W, 3] RGB, [H, W, 4] RGBA or [H, W] grayscale → a QImage that owns its own copy of the pixels.

    Any memory layout is accepted (views, slices, negative strides); the array may be changed or freed afterwards.
    """
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8:
        raise TypeError(f"Expected a uint8 numpy array, got {getattr(pixels, 'dtype', type(pixels).__name__)}.")
    channels = 1 if pixels.ndim == 2 else (pixels.shape[2] if pixels.ndim == 3 else 0)
    if channels not in _FORMATS:
        raise ValueError(f"Expected pixels [H, W], [H, W, 3] or [H, W, 4], got shape {pixels.shape}.")
    height, width = pixels.shape[:2]
    if height < 1 or width < 1:
        raise ValueError(f"Cannot make an image with no pixels (shape {pixels.shape}).")
    data = np.ascontiguousarray(pixels)
    image = QImage(data.data, width, height, data.strides[0], _FORMATS[channels])
    return image.copy()  # detach from numpy's buffer: the copy owns its pixels
