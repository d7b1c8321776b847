"""Where the model's square lies in a photo: the one rule for targets, masks and pasting results back.

A photo meets the model through a ``Placement``: either a square crop box or an aligned (turned, scaled) face
square. Every caller — the CLI, the GUI, the benchmarks, the batch runner — asks the placement for the model's
target and mask and hands it the generated square to composite back, so the rule is written once here.

The crop box is kept even while an alignment is used: the editor lets a person switch back to their own crop,
and a project remembers both. ``alignment`` wins when set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.alignment import Alignment, geometry, unwarp_and_paste, warp_to_model
from core.errors import InvalidInputError
from core.imageio import CropBox, Photo, crop_and_resize, crop_and_resize_mask
from core.placement.blend import composite, composite_aligned, paste_back
from core.resources import sample_face_crop

DEFAULT_FEATHER = 0.08  # paste-back fall-off as a fraction of the square's side
COMPOSITE_MODES = ("detail", "replace")  # add the model's change and keep the photo's detail | paste the model's face
DEFAULT_COMPOSITE = "detail"


def check_composite_mode(mode: str) -> str:
    """``mode`` when it is one of :data:`COMPOSITE_MODES`, else a clear error."""
    if mode not in COMPOSITE_MODES:
        raise InvalidInputError(f"Unknown composite '{mode}'; choose one of: {', '.join(COMPOSITE_MODES)}.")
    return mode


@dataclass(frozen=True)
class Placement:
    """The square the model sees: ``alignment`` when set (an aligned face), else ``crop`` (photo pixels)."""

    crop: CropBox
    alignment: Alignment | None = None

    @classmethod
    def default_for(cls, photo: Photo, crop: CropBox | None = None) -> Placement:
        """The given crop, else the face box recorded for a bundled sample photo, else the largest centred square.

        Face alignment is not a default here: it needs the face finder and the model's framing (``core.alignment``),
        and a caller chooses it with :meth:`aligned`.
        """
        if crop is None:
            recorded = sample_face_crop(photo.source) if photo.source is not None else None
            crop = CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height)
        crop.validate(photo.width, photo.height)
        return cls(crop)

    def aligned(self, alignment: Alignment | None) -> Placement:
        """The same crop with ``alignment`` used instead (None: back to the crop)."""
        return replace(self, alignment=alignment)

    def with_crop(self, crop: CropBox) -> Placement:
        return replace(self, crop=crop)

    @property
    def is_aligned(self) -> bool:
        return self.alignment is not None

    def describe(self) -> str:
        """Plain words for messages and reports."""
        if self.alignment is None:
            return f"the crop {self.crop.x},{self.crop.y},{self.crop.size}"
        return f"aligned face {self.alignment.face_index} (turned {self.alignment.angle:+.1f}°)"

    def to_dict(self) -> dict[str, Any]:
        """What a report records: the crop only when it was used, the alignment when it was."""
        return {"crop": None if self.alignment else self.crop.to_dict(),
                "alignment": None if self.alignment is None else self.alignment.to_dict()}

    # -- photo → model -----------------------------------------------------------------------------------------
    def target(self, pixels: np.ndarray, resolution: int) -> np.ndarray:
        """uint8 [R, R, 3]: what the model is asked to reproduce, rendered from the full-resolution pixels (at any
        ``resolution``: an aligned square is the same face whatever the side it is drawn at)."""
        if self.alignment is None:
            return crop_and_resize(pixels, self.crop, resolution)
        return warp_to_model(pixels, self.alignment_at(resolution).transform, resolution)

    def mask(self, mask: np.ndarray, resolution: int) -> np.ndarray:
        """float32 [R, R] in [0, 1]: a photo-sized mask (uint8 255 = marked, or float in [0, 1]) in the square."""
        weights = unit_mask(mask)
        if self.alignment is None:
            return crop_and_resize_mask(weights, self.crop, resolution)
        rgb = np.repeat(np.rint(weights * 255).astype(np.uint8)[:, :, None], 3, axis=2)
        transform = self.alignment_at(resolution).transform
        return (warp_to_model(rgb, transform, resolution)[:, :, 0] / 255.0).astype(np.float32)

    def touches(self, mask: np.ndarray) -> bool:
        """Some marked pixel of a photo-sized mask lies inside the square (the model can fill it)."""
        if self.alignment is None:
            box = self.crop
            return bool(np.any(mask[box.y:box.y + box.size, box.x:box.x + box.size]))
        return bool((self.mask(mask, self.alignment.resolution) > 0).any())

    def covered(self, width: int, height: int, resolution: int) -> np.ndarray:
        """float32 [H, W]: 1 where the square covers the photo (a masked pixel elsewhere cannot be filled)."""
        if self.alignment is None:
            covered = np.zeros((height, width), np.float32)
            covered[self.crop.y:self.crop.y + self.crop.size, self.crop.x:self.crop.x + self.crop.size] = 1.0
            return covered
        white = np.full((resolution, resolution, 3), 255, np.uint8)
        pasted = unwarp_and_paste(np.zeros((height, width, 3), np.uint8), white, self.alignment.transform, 0.0)
        return (pasted[..., 0] > 0).astype(np.float32)

    # -- model → photo -----------------------------------------------------------------------------------------
    def composite(self, pixels: np.ndarray, image: np.ndarray, *, fill_mask: np.ndarray | None = None,
                  feather: float = DEFAULT_FEATHER, reference: np.ndarray | None = None) -> np.ndarray:
        """uint8 [H, W, 3]: a copy of ``pixels`` with ``image`` (uint8 [R, R, 3]) blended in at their resolution.

        Without ``fill_mask`` the whole square changes, feathered at its edges over ``feather`` × its side; with
        one (``pixels``' size) only the masked pixels change, the ramp running inside the mask. Every other pixel
        keeps its exact bytes. Without ``reference`` the square replaces the photo; with one (the model's image of
        the photo as it is, uint8 [R, R, 3]) only ``image − reference`` is added, so the photo keeps its own detail
        (``core.placement.blend``).
        """
        if self.alignment is None:
            if fill_mask is None:
                return paste_back(pixels, image, self.crop, feather, reference=reference)
            return composite(pixels, image, fill_mask, self.crop, feather, reference=reference)
        alignment = self.alignment_at(image.shape[0])  # a full-resolution render maps through a scaled transform
        transform = alignment.transform
        if fill_mask is None:
            return unwarp_and_paste(pixels, image, transform, feather, reference=reference)
        side = image.shape[0] / alignment.scale  # the square's side in these pixels
        return composite_aligned(pixels, image, fill_mask, transform, feather * side, reference=reference)

    def alignment_at(self, side: int) -> Alignment:
        """The alignment for a model square of ``side`` pixels (e.g. the 1024-px render of a model that works at
        256): the same face, its transform scaled by ``side / resolution``."""
        assert self.alignment is not None
        if side == self.alignment.resolution:
            return self.alignment
        factor = side / self.alignment.resolution
        matrix = np.diag([factor, factor, 1.0]) @ np.vstack([self.alignment.transform, [0.0, 0.0, 1.0]])
        return replace(self.alignment, matrix=_rows(matrix), resolution=side)

    def corners(self) -> np.ndarray:
        """float64 [4, 2]: the square's corners in photo pixels (top-left, top-right, bottom-right, bottom-left)."""
        if self.alignment is None:
            x, y, s = self.crop.x, self.crop.y, self.crop.size
            return np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], np.float64)
        return self.alignment.corners()

    # -- points ------------------------------------------------------------------------------------------------
    def to_square(self, points: np.ndarray) -> np.ndarray:
        """Photo-pixel points [K, 2] (x, y) → (x, y) fractions of the model's square (0 at its top-left corner)."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        if self.alignment is None:
            return (points - [self.crop.x, self.crop.y]) / self.crop.size
        return geometry.apply(self.alignment.transform, points) / self.alignment.resolution

    def from_square(self, fractions: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_square`: fractions of the square → photo-pixel points [K, 2]."""
        fractions = np.asarray(fractions, np.float64).reshape(-1, 2)
        if self.alignment is None:
            return fractions * self.crop.size + [self.crop.x, self.crop.y]
        inverse = geometry.invert(self.alignment.transform)
        return geometry.apply(inverse, fractions * self.alignment.resolution)

    # -- other pixel grids ------------------------------------------------------------------------------------
    def scaled(self, factor: float, width: int, height: int) -> Placement:
        """The same square on a copy of the photo scaled by ``factor`` (``width`` × ``height`` pixels), e.g. the
        editor's display copy: previews there cost a fraction of full-resolution work."""
        if not math.isfinite(factor) or factor <= 0:
            raise InvalidInputError(f"The scale must be a positive number (got {factor}).")
        size = max(1, round(self.crop.size * factor))
        x = max(0, min(round(self.crop.x * factor), width - size))
        y = max(0, min(round(self.crop.y * factor), height - size))
        alignment = self.alignment
        if alignment is not None:
            matrix = alignment.transform @ np.diag([1.0 / factor, 1.0 / factor, 1.0])
            points = tuple((px * factor, py * factor) for px, py in alignment.points)
            alignment = replace(alignment, matrix=_rows(matrix), points=points)
        return Placement(CropBox(x, y, size), alignment)

    def patch(self, pixels: np.ndarray, image: np.ndarray, *, fill_mask: np.ndarray | None = None,
              feather: float = DEFAULT_FEATHER, reference: np.ndarray | None = None) -> tuple[np.ndarray, CropBox]:
        """Only the square's bounding box of :meth:`composite`: (uint8 [s, s, 3], where it lies in ``pixels``).

        Much cheaper than compositing the whole photo for a live preview. An aligned square's box may reach past
        the photo; it is padded with the photo's edge there (a viewer clips it).
        """
        if self.alignment is None:
            box = self.crop
            region = np.ascontiguousarray(pixels[box.y:box.y + box.size, box.x:box.x + box.size])
            small = None if fill_mask is None else fill_mask[box.y:box.y + box.size, box.x:box.x + box.size]
            local_box = Placement(CropBox(0, 0, box.size))
            return local_box.composite(region, image, fill_mask=small, feather=feather, reference=reference), box
        corners = self.corners()
        x0, y0 = (math.floor(v) for v in corners.min(0))
        size = max(1, math.ceil(max(*(corners.max(0) - (x0, y0)))))
        region = _padded(pixels, x0, y0, size, "edge")
        small = None if fill_mask is None else _padded(fill_mask, x0, y0, size, "constant")
        shifted = self.alignment.transform @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64)
        local = Placement(CropBox(0, 0, size), replace(self.alignment, matrix=_rows(shifted)))
        return local.composite(region, image, fill_mask=small, feather=feather, reference=reference), CropBox(x0, y0,
                                                                                                          size)


def unit_mask(mask: np.ndarray) -> np.ndarray:
    """float32 [H, W] in [0, 1] from a uint8 (255 = marked), bool or float mask."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise InvalidInputError(f"A mask must be a 2-D array the size of the photo, got "
                                f"{getattr(mask, 'shape', type(mask).__name__)}.")
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) / 255.0
    values = np.nan_to_num(mask.astype(np.float32), nan=0.0)
    return np.clip(values, 0.0, 1.0)


def _rows(matrix: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    return (tuple(float(v) for v in matrix[0]), tuple(float(v) for v in matrix[1]))  # type: ignore[return-value]


def _padded(pixels: np.ndarray, x0: int, y0: int, size: int, mode: str) -> np.ndarray:
    """``pixels[y0:y0+size, x0:x0+size]``, padded where the square reaches past the array."""
    height, width = pixels.shape[:2]
    pad = [(max(0, -y0), max(0, y0 + size - height)), (max(0, -x0), max(0, x0 + size - width))]
    pad += [(0, 0)] * (pixels.ndim - 2)
    inner = pixels[max(0, y0):max(0, y0 + size), max(0, x0):max(0, x0 + size)]
    return np.ascontiguousarray(np.pad(inner, pad, mode=mode))  # type: ignore[call-overload]
