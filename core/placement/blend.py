"""Put a generated square back into the full-resolution photo, feathered so no seam shows.

The model sees only a small square crop (``CropBox``) of the photo; its output is upscaled to the crop's size in
photo pixels and blended in with a weight that is 1 inside and falls smoothly to 0 at the square's border, so the
photo's own pixels take over exactly where the crop ends. Only the box is touched: everything outside it is
byte-identical to the photo, and only the box (not the whole photo) is ever converted to float.

Two ways to blend (``reference``):
- *replace* (no reference): the upscaled square takes the photo's place — the model's face, at the model's
  sharpness;
- *change* (a reference): only what the square changes relative to ``reference`` (the model's image of the photo
  as it is) is upscaled and added to the photo. An unchanged square leaves the photo's bytes as they were, and an
  edit keeps the photo's own detail above the model's resolution (skin, hair, eyes) wherever it does not move.
"""

from __future__ import annotations

import logging
import math

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
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Blend ``generated`` (uint8 [R, R, 3]) into a copy of ``photo`` (uint8 [H, W, 3]) inside ``box``.

    ``generated`` is upscaled with Lanczos to ``box.size`` × ``box.size`` photo pixels and mixed in with
    ``feather_weights(box.size, feather)``; the result is a new uint8 [H, W, 3] (``photo`` is never modified and
    may be read-only). Pixels outside the box are byte-identical to ``photo``.

    ``keep`` (optional float [H, W] in [0, 1]) says where the photo's own pixels must stay: the blend weight is
    multiplied by ``1 - keep``, so 1 keeps the photo exactly, 0 lets the generated image through (feather
    permitting), and values between mix them. For inpainting pass ``1 - mask``, ideally softened, so only the
    painted region is replaced. Values outside [0, 1] are clipped; NaN or infinity is refused.

    ``reference`` (uint8 [R, R, 3], optional) switches to the *change* blend: ``generated − reference`` is added.
    """
    _check_rgb(photo, "photo")
    _check_square(generated, reference)
    height, width = photo.shape[:2]
    box.validate(width, height)
    weights = feather_weights(box.size, feather)  # [S, S]
    if keep is not None:
        weights *= 1.0 - _keep_in_box(keep, box, width, height)

    out = photo.copy()
    rows, cols = slice(box.y, box.y + box.size), slice(box.x, box.x + box.size)
    region = out[rows, cols].astype(np.float32)  # [S, S, 3]
    region += weights[:, :, None] * _difference(generated, reference, region, box.size)
    out[rows, cols] = np.rint(region).clip(0, 255).astype(np.uint8)
    log.debug(
        "pasted %dx%d result into %s (feather %.3f, keep %s)", *generated.shape[:2], box, feather, keep is not None
    )
    return out


def _difference(generated: np.ndarray, reference: np.ndarray | None, region: np.ndarray, size: int) -> np.ndarray:
    """float32 [S, S, 3] to add to ``region`` (float, the photo's pixels): towards the upscaled square (replace),
    or the upscaled square's change from the upscaled reference (change; exactly 0 where they agree)."""
    upscaled = _upscale(generated, size).astype(np.float32)
    if reference is None:
        return upscaled - region
    return upscaled - _upscale(reference, size).astype(np.float32)


def _check_square(generated: np.ndarray, reference: np.ndarray | None) -> None:
    """A square uint8 RGB model image, and a reference (if any) of the same shape."""
    _check_rgb(generated, "generated image")
    if generated.shape[0] != generated.shape[1]:
        raise InvalidInputError(
            f"The generated image must be square [R, R, 3], got shape {generated.shape}; "
            "pass the model's output unchanged."
        )
    if reference is not None:
        _check_rgb(reference, "reference image")
        if reference.shape != generated.shape:
            raise InvalidInputError(f"The reference image {reference.shape} must have the generated image's shape "
                                    f"{generated.shape}; both come from the same model.")


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


def fill_weights(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """Blend weights float32 [H, W] for filling ``mask`` (float [H, W] in [0, 1], > 0 = fill): exactly 0 wherever
    the mask is 0, rising with smoothstep over ``feather_px`` pixels inside it to the mask's own value.

    The ramp runs *inside* the mask, so every unmasked pixel keeps the photo's value bit for bit, and the seam
    fades where the candidate was fitted to agree with the photo anyway. Depth is counted in 3×3 erosions (the
    array's border counts as outside); a mask thinner than twice the feather gets a shorter ramp (its deepest
    pixel always reaches full weight), so a thin stroke is still fully replaced along its middle.
    """
    if not np.isfinite(feather_px) or feather_px < 0:
        raise InvalidInputError(f"The feather must be a number of pixels ≥ 0 (got {feather_px}).")
    inside = mask > 0
    depth = np.zeros(mask.shape, dtype=np.float32)  # 1 for masked pixels touching the outside, 2 next, …
    layer, steps = inside, math.ceil(feather_px) + 1
    for _ in range(steps):
        if not layer.any():
            break
        depth += layer
        layer = _erode(layer)
    reach = min(feather_px, max(float(depth.max()) - 1.0, 0.0))
    if reach == 0.0:
        return np.where(inside, mask, 0.0).astype(np.float32)
    t = np.clip(depth / (reach + 1.0), 0.0, 1.0)
    return np.where(inside, mask * t * t * (3.0 - 2.0 * t), 0.0).astype(np.float32)


def _erode(inside: np.ndarray) -> np.ndarray:
    """3×3 binary erosion with everything beyond the border counted as outside."""
    padded = np.pad(inside, 1, constant_values=False)
    out = np.ones_like(inside)
    height, width = inside.shape
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy : dy + height, dx : dx + width]
    return out


def composite(photo: np.ndarray, candidate: np.ndarray, mask: np.ndarray, crop: CropBox,
              feather: float = 0.03, reference: np.ndarray | None = None) -> np.ndarray:
    """Fill the masked part of ``crop`` in ``photo`` (uint8 [H, W, 3]) from ``candidate`` (uint8 [R, R, 3]).

    ``mask`` is [H, W] the size of the photo: float in [0, 1], or uint8/bool (255/True = fill). The candidate is
    resized (Lanczos) from the model's resolution to the crop's side and blended with :func:`fill_weights`, the
    feather being ``feather`` × the crop's side. Every pixel where the mask is 0, and everything outside the crop,
    is bit-identical to ``photo`` (masked pixels outside the crop cannot be filled and stay too). Returns a new
    array; only the crop is converted to float. ``reference``: add only the candidate's change from it.
    """
    _check_rgb(photo, "photo")
    _check_square(candidate, reference)
    height, width = photo.shape[:2]
    if not isinstance(mask, np.ndarray) or mask.shape != (height, width):
        raise InvalidInputError(f"The mask must be the size of the photo [{height}, {width}], "
                                f"got {getattr(mask, 'shape', type(mask).__name__)}.")
    crop.validate(width, height)
    if not np.isfinite(feather) or not 0.0 <= feather <= MAX_FEATHER:
        raise InvalidInputError(f"The feather must be between 0 and {MAX_FEATHER} of the crop's side (got {feather}).")
    rows, cols = slice(crop.y, crop.y + crop.size), slice(crop.x, crop.x + crop.size)
    region_mask = mask[rows, cols]
    if region_mask.dtype == np.uint8:
        region_mask = region_mask.astype(np.float32) / 255.0
    region_mask = np.clip(np.nan_to_num(region_mask.astype(np.float32), nan=0.0), 0.0, 1.0)
    alpha = fill_weights(region_mask, feather * crop.size)[:, :, None]  # [S, S, 1]
    out = photo.copy()
    region = out[rows, cols].astype(np.float32)
    region += alpha * _difference(candidate, reference, region, crop.size)
    filled = np.rint(region).clip(0, 255).astype(np.uint8)
    out[rows, cols] = np.where(alpha > 0, filled, out[rows, cols])  # unmasked: the photo's bytes, not a round trip
    return out


def composite_aligned(photo: np.ndarray, candidate: np.ndarray, mask: np.ndarray, transform: np.ndarray,
                      feather_px: float, reference: np.ndarray | None = None) -> np.ndarray:
    """Fill the masked pixels of ``photo`` (uint8 [H, W, 3]) from ``candidate`` made on an aligned (rotated, scaled)
    face square: the candidate is un-warped into the photo first (``core.alignment``), then blended with
    :func:`fill_weights` over ``feather_px`` photo pixels inside the mask. Unmasked pixels keep their bytes.
    ``reference``: add only the candidate's change from it (both un-warped the same way)."""
    from core.alignment import unwarp_and_paste

    _check_rgb(photo, "photo")
    _check_square(candidate, reference)
    if not isinstance(mask, np.ndarray) or mask.shape != photo.shape[:2]:
        raise InvalidInputError(f"The mask must be the size of the photo {list(photo.shape[:2])}.")
    weights = mask.astype(np.float32) / 255.0 if mask.dtype == np.uint8 else mask.astype(np.float32)
    alpha = fill_weights(np.clip(np.nan_to_num(weights, nan=0.0), 0.0, 1.0), feather_px)[:, :, None]
    unwarped = unwarp_and_paste(photo, candidate, transform, feather=0.0).astype(np.float32)
    below = photo if reference is None else unwarp_and_paste(photo, reference, transform, feather=0.0)
    filled = np.rint(photo + alpha * (unwarped - below)).clip(0, 255).astype(np.uint8)
    return np.where(alpha > 0, filled, photo)
