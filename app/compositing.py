"""On-screen composites of a generated crop: only the crop's part of the display copy is touched (fast)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.document_state import OpenedPhoto, display_box
from core.imageio import CropBox
from core.placement.blend import composite


def display_mask(mask: np.ndarray, opened: OpenedPhoto) -> np.ndarray:
    """The full-resolution mask (uint8 [H, W]) at the display copy's size, for on-screen composites."""
    height, width = opened.display.shape[:2]
    if mask.shape == (height, width):
        return mask
    return np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.BILINEAR))


def fill_patch(opened: OpenedPhoto, crop: CropBox, image: np.ndarray, mask: np.ndarray, feather: float
               ) -> tuple[np.ndarray, CropBox]:
    """The crop's display pixels with ``image`` filling the masked part: (patch uint8 [s, s, 3], display box)."""
    box = display_box(crop, opened.photo, opened.display)
    region = opened.display[box.y:box.y + box.size, box.x:box.x + box.size]
    small = display_mask(mask, opened)[box.y:box.y + box.size, box.x:box.x + box.size]
    return composite(region, image, small, CropBox(0, 0, box.size), feather), box
