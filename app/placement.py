"""Where a generated square goes in the photo: the manual crop box, or an aligned (turned, scaled) face square.

Plain numpy helpers shared by the controllers (they run on the engine thread). Without an alignment every helper
does exactly what the crop-box code did before (``paste_back`` / ``composite`` into the crop); with one, the model
square is rendered with ``warp_to_model`` and pasted back with ``unwarp_and_paste`` / ``composite_aligned``. The
alignment's matrix maps full-resolution photo pixels to model pixels; the display copy may be smaller, so its
matrix is composed with the display scale.
"""

from __future__ import annotations

import math

import numpy as np

from app.compositing import display_mask, fill_patch
from app.document_state import OpenedPhoto, display_box
from core.alignment import Alignment, unwarp_and_paste, warp_to_model
from core.alignment.geometry import apply as apply_transform
from core.alignment.geometry import invert, scale_of
from core.imageio import CropBox, crop_and_resize, crop_and_resize_mask
from core.placement.blend import composite, composite_aligned, paste_back


def model_target(pixels: np.ndarray, crop: CropBox, alignment: Alignment | None, resolution: int) -> np.ndarray:
    """uint8 [R, R, 3]: what the model is asked to reproduce, from the full-resolution photo."""
    if alignment is None:
        return crop_and_resize(pixels, crop, resolution)
    return warp_to_model(pixels, alignment.transform, resolution)


def model_mask(mask: np.ndarray, crop: CropBox, alignment: Alignment | None, resolution: int) -> np.ndarray:
    """float [R, R] in [0, 1]: the brush mask (uint8 [H, W], 255 = brushed) seen in the model's square."""
    if alignment is None:
        return crop_and_resize_mask(mask / 255.0, crop, resolution)
    rgb = np.repeat(np.ascontiguousarray(mask, dtype=np.uint8)[:, :, None], 3, axis=2)
    return warp_to_model(rgb, alignment.transform, resolution)[:, :, 0] / 255.0


def display_transform(alignment: Alignment, opened: OpenedPhoto) -> np.ndarray:
    """The 2×3 matrix from display-copy pixels to model pixels (the display copy may be downscaled)."""
    scale = opened.display.shape[1] / opened.photo.width
    return alignment.transform @ np.diag([1.0 / scale, 1.0 / scale, 1.0])


def display_target(opened: OpenedPhoto, crop: CropBox, alignment: Alignment | None, size: int) -> np.ndarray:
    """uint8 [size, size, 3]: the model's target rendered cheaply from the display copy (a preview)."""
    if alignment is None:
        return crop_and_resize(opened.display, display_box(crop, opened.photo, opened.display), size)
    to_preview = np.diag([size / alignment.resolution] * 2) @ display_transform(alignment, opened)
    return warp_to_model(opened.display, to_preview, size)


def square_corners(alignment: Alignment) -> np.ndarray:
    """float [4, 2]: the model square's corners in photo pixels (top-left, top-right, bottom-right, bottom-left)."""
    r = alignment.resolution
    return apply_transform(invert(alignment.transform), np.array([[0, 0], [r, 0], [r, r], [0, r]], np.float64))


def place(pixels: np.ndarray, image: np.ndarray, crop: CropBox, transform: np.ndarray | None,
          fill_mask: np.ndarray | None, feather: float) -> np.ndarray:
    """``image`` (uint8 [R, R, 3]) blended into a copy of ``pixels`` through ``crop`` or ``transform`` (same
    pixel grid as ``pixels``); with ``fill_mask`` (that grid's size) only the masked pixels change."""
    if transform is None:
        if fill_mask is None:
            return paste_back(pixels, image, crop, feather)
        return composite(pixels, image, fill_mask, crop, feather)
    if fill_mask is None:
        return unwarp_and_paste(pixels, image, transform, feather)
    side = image.shape[0] / scale_of(transform)  # the square's side in these pixels
    return composite_aligned(pixels, image, fill_mask, transform, feather * side)


def place_in_photo(pixels: np.ndarray, image: np.ndarray, crop: CropBox, alignment: Alignment | None,
                   fill_mask: np.ndarray | None, feather: float) -> np.ndarray:
    """The full-resolution photo with ``image`` placed (what export writes)."""
    return place(pixels, image, crop, None if alignment is None else alignment.transform, fill_mask, feather)


def place_in_display(opened: OpenedPhoto, image: np.ndarray, crop: CropBox, alignment: Alignment | None,
                     fill_mask: np.ndarray | None, feather: float) -> np.ndarray:
    """The display copy with ``image`` placed (what the canvas shows as "after")."""
    small = None if fill_mask is None else display_mask(fill_mask, opened)
    if alignment is None:
        return place(opened.display, image, display_box(crop, opened.photo, opened.display), None, small, feather)
    return place(opened.display, image, crop, display_transform(alignment, opened), small, feather)


def placed_patch(opened: OpenedPhoto, image: np.ndarray, crop: CropBox, alignment: Alignment | None,
                 fill_mask: np.ndarray | None, feather: float) -> tuple[np.ndarray, CropBox]:
    """A small square of display pixels with ``image`` placed, and where it lies in photo pixels: (patch, box).

    With an alignment the square is the bounding box of the turned model square (itself a square), padded with the
    photo's edge where it reaches past the photo (the canvas clips it to the photo)."""
    if alignment is None:
        if fill_mask is not None:
            patch, _ = fill_patch(opened, crop, image, fill_mask, feather)
            return patch, crop
        box = display_box(crop, opened.photo, opened.display)
        region = opened.display[box.y:box.y + box.size, box.x:box.x + box.size]
        return paste_back(region, image, CropBox(0, 0, box.size), feather), crop
    transform = display_transform(alignment, opened)
    r = image.shape[0]
    corners = apply_transform(invert(transform), np.array([[0, 0], [r, 0], [r, r], [0, r]], np.float64))
    x0, y0 = (math.floor(v) for v in corners.min(0))
    size = max(1, math.ceil(max(*(corners.max(0) - (x0, y0)))))
    region = _padded(opened.display, x0, y0, size, "edge")
    shifted = transform @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
    small = None if fill_mask is None else _padded(display_mask(fill_mask, opened), x0, y0, size, "constant")
    patch = place(region, image, crop, shifted, small, feather)
    scale = opened.photo.width / opened.display.shape[1]
    return patch, CropBox(round(x0 * scale), round(y0 * scale), max(1, round(size * scale)))


def _padded(pixels: np.ndarray, x0: int, y0: int, size: int, mode: str) -> np.ndarray:
    """``pixels[y0:y0+size, x0:x0+size]``, padded where the square reaches past the array."""
    height, width = pixels.shape[:2]
    pad = [(max(0, -y0), max(0, y0 + size - height)), (max(0, -x0), max(0, x0 + size - width))]
    pad += [(0, 0)] * (pixels.ndim - 2)
    inner = pixels[max(0, y0):max(0, y0 + size), max(0, x0):max(0, x0 + size)]
    return np.ascontiguousarray(np.pad(inner, pad, mode=mode))
