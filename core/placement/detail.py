"""How much of a photo's own fine detail a composite keeps: the measure behind the "detail" composite.

The model works at a fraction of a photo's resolution, so pasting its square over a face blurs it. The measure is
the energy of the Laplacian (of luma) inside a box — the part of the image a blur removes first — of the
composite relative to the photo's: 1.0 means as sharp as the photo, 0.3 means most fine detail is gone.
"""

from __future__ import annotations

import numpy as np

from core.errors import InvalidInputError
from core.imageio import CropBox

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601


def high_frequency_energy(pixels: np.ndarray, box: CropBox) -> float:
    """Mean squared 4-neighbour Laplacian of the luma of uint8 [H, W, 3] ``pixels`` inside ``box`` (≥ 3 px)."""
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidInputError(f"Expected RGB pixels [H, W, 3], got {getattr(pixels, 'shape', type(pixels))}.")
    box.validate(pixels.shape[1], pixels.shape[0])
    if box.size < 3:
        raise InvalidInputError(f"The box must be at least 3 pixels wide to measure detail (got {box.size}).")
    luma = pixels[box.y:box.y + box.size, box.x:box.x + box.size].astype(np.float32) @ LUMA  # [S, S]
    laplacian = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    return float(np.mean(laplacian.astype(np.float64) ** 2))


def detail_kept(photo: np.ndarray, composite: np.ndarray, box: CropBox) -> float:
    """High-frequency energy of ``composite`` over that of ``photo`` inside ``box`` (same-sized uint8 images)."""
    if photo.shape != composite.shape:
        raise InvalidInputError(f"The composite {composite.shape} must be the photo's size {photo.shape}.")
    reference = high_frequency_energy(photo, box)
    if reference == 0.0:
        raise InvalidInputError("The photo has no fine detail inside the box (a flat area); pick the face's box.")
    return high_frequency_energy(composite, box) / reference
