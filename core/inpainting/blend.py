"""Paste a generated square back into the full-resolution photo, feathered so no seam shows.

The model sees only a small square crop (``CropBox``) of the photo; its output is upscaled to the crop's size in
photo pixels and blended in with a weight that is 1 inside and falls smoothly to 0 at the square's border, so the
photo's own pixels take over exactly where the crop ends. Only the box is touched: everything outside it is
byte-identical to the photo, and only the box (not the whole photo) is ever converted to float.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from core.errors import InvalidInputError
from core.imageio import CropBox

log = logging.getLogger(__name__)

MAX_FEATHER: float = 0.5  # a feather of half the side reaches the centre from every edge


def feather_weights(size: int, feather: float) -> np.ndarray:
    """Blend weights float32 [size, size] in [0, 1]: 1 inside, falling smoothly to 0 towards the square's border.

    ``feather`` is the width of the fall-off as a fraction of ``size`` (0..0.5; 0 = a hard edge, all ones).
    The weight is smoothstep(d / (feather · size)) of d, the distance in pixels from a pixel's centre to the
    nearest edge, so it has zero slope both where it starts and where it reaches 1 (no visible band at either end).
    The outermost pixels sit half a pixel from the edge and so get a small weight, not exactly 0.
    """
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise InvalidInputError(f"The feather size must be a whole number of pixels ≥ 1 (got {size!r}).")
    if not np.isfinite(feather) or not 0.0 <= feather <= MAX_FEATHER:
        raise InvalidInputError(f"The feather must be between 0 and {MAX_FEATHER} of the crop's side (got {feather}).")
    width = float(feather) * int(size)  # fall-off width in pixels
    if width == 0.0:
        return np.ones((size, size), dtype=np.float32)
    centres = np.arange(size, dtype=np.float64) + 0.5
    t = np.clip(np.minimum(centres, size - centres) / width, 0.0, 1.0)
    ramp = (t * t * (3.0 - 2.0 * t)).astype(np.float32)  # [size], smoothstep of the distance to the nearer end
    # Distance to the nearest edge is the smaller of the row and column distances; smoothstep is monotone.
    return np.minimum.outer(ramp, ramp)


def paste_back(
    photo: np.ndarray,
    generated: np.ndarray,
    box: CropBox,
    feather: float = 0.08,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Blend ``generated`` (uint8 [R, R, 3]) into a copy of ``photo`` (uint8 [H, W, 3]) inside ``box``.

    ``generated`` is upscaled with Lanczos to ``box.size`` × ``box.size`` photo pixels and mixed in with
    ``feather_weights(box.size, feather)``; the result is a new uint8 [H, W, 3] (``photo`` is never modified and
    may be read-only). Pixels outside the box are byte-identical to ``photo``.

    ``keep`` (optional float [H, W] in [0, 1]) says where the photo's own pixels must stay: the blend weight is
    multiplied by ``1 - keep``, so 1 keeps the photo exactly, 0 lets the generated image through (feather
    permitting), and values between mix them. For inpainting pass ``1 - mask``, ideally softened, so only the
    painted region is replaced. Values outside [0, 1] are clipped; NaN or infinity is refused.
    """
    _check_rgb(photo, "photo")
    _check_rgb(generated, "generated image")
    if generated.shape[0] != generated.shape[1]:
        raise InvalidInputError(
            f"The generated image must be square [R, R, 3], got shape {generated.shape}; "
            "pass the model's output unchanged."
        )
    height, width = photo.shape[:2]
    box.validate(width, height)
    weights = feather_weights(box.size, feather)  # [S, S]
    if keep is not None:
        weights *= 1.0 - _keep_in_box(keep, box, width, height)

    upscaled = _upscale(generated, box.size)  # uint8 [S, S, 3]
    out = photo.copy()
    rows, cols = slice(box.y, box.y + box.size), slice(box.x, box.x + box.size)
    region = out[rows, cols].astype(np.float32)  # [S, S, 3]
    region += weights[:, :, None] * (upscaled.astype(np.float32) - region)
    out[rows, cols] = np.rint(region).clip(0, 255).astype(np.uint8)
    log.debug(
        "pasted %dx%d result into %s (feather %.3f, keep %s)", *generated.shape[:2], box, feather, keep is not None
    )
    return out


def _upscale(generated: np.ndarray, size: int) -> np.ndarray:
    """uint8 [R, R, 3] → uint8 [size, size, 3] with Lanczos (a copy even when no resizing is needed)."""
    if generated.shape[0] == size:
        return np.array(generated, copy=True)
    image = Image.fromarray(np.ascontiguousarray(generated))
    return np.asarray(image.resize((size, size), Image.Resampling.LANCZOS))


def _keep_in_box(keep: np.ndarray, box: CropBox, width: int, height: int) -> np.ndarray:
    """The box region of a float [H, W] keep map as float32 [S, S] clipped to [0, 1] (only the box is read)."""
    if not isinstance(keep, np.ndarray) or keep.ndim != 2 or keep.shape != (height, width):
        shape = getattr(keep, "shape", type(keep).__name__)
        raise InvalidInputError(
            f"The keep map must be a float array the size of the photo [{height}, {width}], got {shape}."
        )
    if not np.issubdtype(keep.dtype, np.floating):
        raise InvalidInputError(f"The keep map must hold floats in [0, 1], got {keep.dtype}; convert it first.")
    region = keep[box.y : box.y + box.size, box.x : box.x + box.size].astype(np.float32)
    if not np.isfinite(region).all():
        raise InvalidInputError("The keep map contains NaN or infinite values inside the crop; repaint the mask.")
    return np.clip(region, 0.0, 1.0, out=region)


def _check_rgb(pixels: np.ndarray, what: str) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        dtype, shape = getattr(pixels, "dtype", type(pixels).__name__), getattr(pixels, "shape", "?")
        raise InvalidInputError(f"The {what} must be uint8 RGB pixels [H, W, 3], got {dtype} of shape {shape}.")
    if pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise InvalidInputError(f"The {what} has no pixels (shape {pixels.shape}).")
