"""The canvas's arithmetic, free of Qt: mask maths (brush dabs, strokes, undo patches) and crop geometry.

Everything here works in photo pixel coordinates: pixel (col, row) covers [col, col + 1) × [row, row + 1), so its
centre is at (col + 0.5, row + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.imageio import CropBox

MIN_CROP = 16  # photo pixels
Rect = tuple[int, int, int, int]  # x, y, width, height in photo pixels


@dataclass(eq=False)  # eq=False: comparing ndarrays field by field is ambiguous
class MaskEdit:
    """A rectangular patch of the mask before and after an edit: undo data, only the touched bounding box."""

    x: int
    y: int
    before: np.ndarray  # uint8 [h, w]
    after: np.ndarray  # uint8 [h, w]

    @property
    def rect(self) -> Rect:
        return self.x, self.y, int(self.before.shape[1]), int(self.before.shape[0])


# ---------------------------------------------------------------------------------------------------- mask maths
def dab_values(dist: np.ndarray, radius: float, feather: float) -> np.ndarray:
    """Distance (photo px) from the stroke's spine → uint8 coverage 0..255.

    A hard brush (feather 0) still gets a one-pixel anti-aliased rim; feather 1 fades from the centre to the rim.
    """
    width = max(radius * feather, 1.0)
    v = np.clip((radius + 0.5 - dist) / width, 0.0, 1.0)
    v = v * v * (3.0 - 2.0 * v)  # smoothstep: no visible ring where the falloff starts
    return (v * 255.0 + 0.5).astype(np.uint8)


def paint_segment(
    mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float, feather: float, erase: bool
) -> Rect | None:
    """Paint a round brush swept from ``p0`` to ``p1`` into ``mask`` in place; returns the dirty rect, or None.

    Sweeping the whole segment (distance to a line segment, not dabs at intervals) leaves no gaps however fast the
    mouse moves. Brush = max with the dab, eraser = min with 255 - dab, so repainting a pixel never builds up.
    """
    rect = segment_rect(mask.shape, p0, p1, radius)
    if rect is None:
        return None
    x, y, w, h = rect
    xs = np.arange(x, x + w, dtype=np.float32)[None, :] + np.float32(0.5 - p0[0])  # [1, w]
    ys = np.arange(y, y + h, dtype=np.float32)[:, None] + np.float32(0.5 - p0[1])  # [h, 1]
    dx, dy = np.float32(p1[0] - p0[0]), np.float32(p1[1] - p0[1])
    length2 = dx * dx + dy * dy
    if length2 > 1e-6:
        t = np.clip((xs * dx + ys * dy) / length2, 0.0, 1.0)
        dist = np.hypot(xs - t * dx, ys - t * dy)  # [h, w]
    else:
        dist = np.hypot(xs, ys)
    dab = dab_values(dist, radius, feather)
    region = mask[y : y + h, x : x + w]
    if erase:
        np.minimum(region, 255 - dab, out=region)
    else:
        np.maximum(region, dab, out=region)
    return rect


def segment_rect(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float], radius: float
                 ) -> Rect | None:
    """The pixels a brush of ``radius`` swept from p0 to p1 can touch, clipped to a mask of ``shape`` [H, W]."""
    reach = radius + 1.0
    x0 = max(0, math.floor(min(p0[0], p1[0]) - reach))
    y0 = max(0, math.floor(min(p0[1], p1[1]) - reach))
    x1 = min(shape[1], math.ceil(max(p0[0], p1[0]) + reach))
    y1 = min(shape[0], math.ceil(max(p0[1], p1[1]) + reach))
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def union_rect(a: Rect | None, b: Rect) -> Rect:
    if a is None:
        return b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0


def changed_edit(x: int, y: int, before: np.ndarray, after: np.ndarray) -> MaskEdit | None:
    """A MaskEdit trimmed to the pixels that actually differ, or None when nothing changed."""
    diff = before != after
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return MaskEdit(x + int(c0), y + int(r0), before[r0:r1, c0:c1].copy(), after[r0:r1, c0:c1].copy())


def replacement_edit(mask: np.ndarray, after: np.ndarray) -> MaskEdit:
    """The edit that makes ``mask`` ``after``: only the pixels that differ (empty arrays when none do)."""
    empty = np.zeros((0, 0), np.uint8)
    return changed_edit(0, 0, mask, after) or MaskEdit(0, 0, empty, empty)


def write_edit(mask: np.ndarray, edit: MaskEdit, undo: bool = False) -> Rect:
    """Write ``edit.after`` (``edit.before`` when undoing) into ``mask`` in place at (edit.x, edit.y); returns the
    rect written. ValueError if the patch does not fit the mask."""
    x, y, w, h = edit.rect
    if x < 0 or y < 0 or x + w > mask.shape[1] or y + h > mask.shape[0]:
        raise ValueError(f"The mask edit at {edit.rect} does not fit the {mask.shape[::-1]} photo.")
    mask[y : y + h, x : x + w] = edit.before if undo else edit.after
    return edit.rect


class MaskStroke:
    """One press→release brush or eraser stroke: paints segments and remembers the old pixels it covered.

    Only the stroke's bounding box is backed up (grown before each segment is painted), so a stroke on a
    200-megapixel photo costs memory in proportion to the area it touched, not the photo.
    """

    def __init__(self, mask: np.ndarray, radius: float, feather: float, erase: bool) -> None:
        self.mask, self.radius, self.feather, self.erase = mask, radius, feather, erase
        self.rect: Rect | None = None
        self.before = np.zeros((0, 0), np.uint8)  # uint8 [h, w] of the mask under self.rect before the stroke

    def add_segment(self, p0: tuple[float, float], p1: tuple[float, float]) -> Rect | None:
        rect = segment_rect(self.mask.shape, p0, p1, self.radius)
        if rect is None:
            return None
        grown = union_rect(self.rect, rect)
        if grown != self.rect:
            x, y, w, h = grown
            before = self.mask[y : y + h, x : x + w].copy()
            if self.rect is not None:  # pixels already painted: keep their pre-stroke values
                ox, oy, ow, oh = self.rect
                before[oy - y : oy - y + oh, ox - x : ox - x + ow] = self.before
            self.rect, self.before = grown, before
        return paint_segment(self.mask, p0, p1, self.radius, self.feather, self.erase)

    def finish(self) -> MaskEdit | None:
        """The stroke's undo patch, trimmed to what changed; None when the stroke changed nothing."""
        if self.rect is None:
            return None
        x, y, w, h = self.rect
        return changed_edit(x, y, self.before, self.mask[y : y + h, x : x + w])


def mask_values(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 0..255, bool, or float 0..1 → uint8 0..255; ValueError unless shaped ``shape`` [H, W]."""
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"The mask is {mask.shape[::-1]} but the photo is {shape[::-1]}; they must match.")
    if mask.dtype == np.bool_:
        return mask.astype(np.uint8) * 255
    if np.issubdtype(mask.dtype, np.floating):
        return np.rint(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.uint8)
    if mask.dtype != np.uint8:
        raise ValueError(f"A mask must be uint8, bool or float, got {mask.dtype}.")
    return mask


# ---------------------------------------------------------------------------------------------------- crop maths
def moved_crop(box: CropBox, x: float, y: float, width: int, height: int) -> CropBox:
    """``box`` with its corner moved to (x, y), kept inside a ``width`` × ``height`` photo."""
    return CropBox(min(max(round(x), 0), width - box.size), min(max(round(y), 0), height - box.size), box.size)


def resized_crop(box: CropBox, corner: int, x: float, y: float, width: int, height: int, min_size: int) -> CropBox:
    """``box`` with corner ``corner`` (0 TL, 1 TR, 2 BR, 3 BL) dragged to (x, y): the opposite corner stays put,
    the box stays square (the longer drag axis wins) and inside the photo, and no smaller than ``min_size``."""
    sx, sy = (-1, 1, 1, -1)[corner], (-1, -1, 1, 1)[corner]
    ax = box.x if sx > 0 else box.x + box.size  # the fixed, opposite corner
    ay = box.y if sy > 0 else box.y + box.size
    room = min(width - ax if sx > 0 else ax, height - ay if sy > 0 else ay)
    size = round(max(sx * (x - ax), sy * (y - ay)))
    size = max(min(size, room), min(min_size, room))
    return CropBox(ax if sx > 0 else ax - size, ay if sy > 0 else ay - size, size)


def crop_corners(box: CropBox) -> list[tuple[int, int]]:
    """Corners (x, y) in the order resized_crop numbers them: TL, TR, BR, BL."""
    x0, y0, x1, y1 = box.x, box.y, box.x + box.size, box.y + box.size
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def crop_grab(box: CropBox, x: float, y: float, reach: float) -> str | int | None:
    """The corner (0..3) of ``box`` within ``reach`` of (x, y) on both axes, "move" inside the box, or None."""
    for index, (cx, cy) in enumerate(crop_corners(box)):
        if abs(cx - x) <= reach and abs(cy - y) <= reach:
            return index
    return "move" if box.x <= x <= box.x + box.size and box.y <= y <= box.y + box.size else None


# ---------------------------------------------------------------------------------------------------- view maths
def fit_scale(photo: tuple[int, int], view: tuple[int, int], padding: int) -> float:
    """The zoom that shows a whole ``photo`` (width, height) in a ``view`` (width, height, screen pixels) with
    ``padding`` screen pixels around it."""
    vw, vh = view[0] - 2 * padding, view[1] - 2 * padding
    return min(max(vw, 1) / photo[0], max(vh, 1) / photo[1])


def scene_margins(photo: tuple[int, int], scale: float, view: tuple[int, int]) -> tuple[float, float]:
    """Margins (photo pixels) around the scene: almost half a view along an axis where the ``photo`` at ``scale`` is
    larger than the ``view`` (so any edge can be panned to the middle); none where it fits, so a small photo stays
    centred."""
    (w, h), (vw, vh) = photo, view
    return 0.45 * vw / scale if w * scale > vw else 0.0, 0.45 * vh / scale if h * scale > vh else 0.0
