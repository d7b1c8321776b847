"""Align a photo's face to the model's own framing, render the aligned square, and paste a result back.

The transform is a similarity (rotation, uniform scale, translation) from photo pixels to model pixels, fitted by
least squares to three points — both eye centres and the mouth centre — so a tilted, off-centre face comes out
level and where the model's own faces are. The model square is rendered from the full-resolution photo, and the
generated square is mapped back at the photo's resolution, feathered at the square's edges; every photo pixel
outside the square keeps its exact bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from core.alignment import geometry
from core.alignment.faces import Face, find_faces
from core.alignment.framing import Framing
from core.errors import InvalidInputError, NoFaceFoundError
from core.imageio import MAX_PIXELS

SCHEMA_VERSION = 1
MAX_FEATHER: float = 0.5  # as in core.placement.blend: half the side reaches the centre from every edge


@dataclass(frozen=True)
class Alignment:
    """How one face of a photo maps onto the model's image: what a document stores to redo or undo the warp."""

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]  # 2×3, photo pixels → model pixels
    resolution: int  # the model's side in pixels
    face_index: int  # which face of the photo (0 = the largest)
    points: tuple[tuple[float, float], ...]  # photo pixels of the fitted points: image-left eye, other eye, mouth

    @property
    def transform(self) -> np.ndarray:
        return np.array(self.matrix, dtype=np.float64)  # [2, 3]

    @property
    def angle(self) -> float:
        """Degrees the photo is turned by the warp (positive = clockwise on screen)."""
        return geometry.angle_of(self.transform)

    @property
    def scale(self) -> float:
        """Model pixels per photo pixel."""
        return geometry.scale_of(self.transform)

    def corners(self) -> np.ndarray:
        """float64 [4, 2]: the model square's corners in photo pixels (top-left, top-right, bottom-right,
        bottom-left)."""
        r = self.resolution
        square = np.array([[0, 0], [r, 0], [r, r], [0, r]], np.float64)
        return geometry.apply(geometry.invert(self.transform), square)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "matrix": [list(r) for r in self.matrix],
                "resolution": self.resolution, "face_index": self.face_index, "points": [list(p) for p in self.points],
                "angle_degrees": round(self.angle, 4), "scale": round(self.scale, 6)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alignment:
        try:
            matrix = np.array(d["matrix"], dtype=np.float64)
            points = np.array(d["points"], dtype=np.float64)
            resolution, face_index = d["resolution"], d["face_index"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"The saved alignment is incomplete or malformed ({exc}); align again.") from exc
        if d.get("schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
            raise InvalidInputError("The saved alignment comes from a newer version; update Landscape Studio.")
        if (matrix.shape != (2, 3) or points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(matrix).all()
                or not isinstance(resolution, int) or resolution < 1 or not isinstance(face_index, int)
                or face_index < 0):
            raise InvalidInputError("The saved alignment has the wrong shape or values; align again.")
        geometry.invert(matrix)  # refuses a degenerate transform
        return cls(_rows(matrix), resolution, face_index, tuple((float(x), float(y)) for x, y in points))


def _rows(matrix: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    return tuple(tuple(float(v) for v in row) for row in matrix)  # type: ignore[return-value]


def align_transform(face: Face, framing: Framing, resolution: int) -> np.ndarray:
    """The 2×3 similarity taking the face's eyes and mouth (photo pixels) onto ``framing`` at ``resolution``."""
    return geometry.umeyama(face.key_points(), framing.points(resolution))


def align_faces(pixels: np.ndarray, framing: Framing, resolution: int) -> tuple[list[Face], list[Alignment]]:
    """Every face in uint8 [H, W, 3] ``pixels`` (largest first) and its alignment; ``NoFaceFoundError`` if none."""
    faces = find_faces(pixels)
    alignments = [Alignment(_rows(align_transform(f, framing, resolution)), resolution, i,
                            tuple((float(x), float(y)) for x, y in f.key_points())) for i, f in enumerate(faces)]
    return faces, alignments


def pick(alignments: list[Alignment], face_index: int) -> Alignment:
    """The alignment of face ``face_index`` (0 = largest), with a clear error when the photo has fewer faces."""
    if not 0 <= face_index < len(alignments):
        found = f"{len(alignments)} face" + ("" if len(alignments) == 1 else "s")
        raise NoFaceFoundError(f"Face {face_index} was asked for, but the photo has {found} (numbered from 0, "
                               "largest first); choose another --face.")
    return alignments[face_index]


def warp_to_model(pixels: np.ndarray, transform: np.ndarray, resolution: int) -> np.ndarray:
    """The aligned face: uint8 [R, R, 3] rendered from the full-resolution uint8 [H, W, 3] photo."""
    _check_rgb(pixels, "photo")
    return geometry.render(pixels, geometry.invert(np.asarray(transform, np.float64)), resolution)


def unwarp_and_paste(pixels: np.ndarray, generated: np.ndarray, transform: np.ndarray,
                     feather: float = 0.08, reference: np.ndarray | None = None) -> np.ndarray:
    """Map ``generated`` (uint8 [R, R, 3], model pixels) back into a copy of ``pixels`` through ``transform``.

    The blend weight is 1 inside the warped square and falls with smoothstep to 0 over ``feather`` × R model
    pixels towards its edges (0 = a hard edge), so only the face square changes and every other pixel keeps its
    exact bytes. The square is upscaled with Lanczos to the photo's scale before the bicubic affine step.

    With ``reference`` (uint8 [R, R, 3]) only the square's change from it is mapped back and added (see
    ``core.placement.blend``): where the two agree the photo keeps its bytes and its own detail.
    """
    _check_rgb(pixels, "photo")
    _check_rgb(generated, "generated image")
    if generated.shape[0] != generated.shape[1]:
        raise InvalidInputError(f"The generated image must be square [R, R, 3], got {generated.shape}.")
    if reference is not None and (not isinstance(reference, np.ndarray) or reference.shape != generated.shape
                                  or reference.dtype != np.uint8):
        raise InvalidInputError(f"The reference image must be uint8 pixels shaped like the generated image "
                                f"{generated.shape}.")
    if not math.isfinite(feather) or not 0.0 <= feather <= MAX_FEATHER:
        raise InvalidInputError(f"The feather must be between 0 and {MAX_FEATHER} of the square's side "
                                f"(got {feather}).")
    transform = np.asarray(transform, np.float64)
    size, (height, width) = generated.shape[0], pixels.shape[:2]
    corners = geometry.apply(geometry.invert(transform), np.array([[0, 0], [size, 0], [0, size], [size, size]]))
    x0, y0 = (max(0, math.floor(v)) for v in corners.min(0))
    x1, y1 = min(width, math.ceil(corners[:, 0].max())), min(height, math.ceil(corners[:, 1].max()))
    out = pixels.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    ys, xs = np.mgrid[y0:y1, x0:x1]
    uv = geometry.apply(transform, np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], 1)).reshape(y1 - y0, x1 - x0, 2)
    weights = _edge_weights(uv, size, feather)  # [h, w]
    side = size / geometry.scale_of(transform)  # the square's side in photo pixels
    if side * side > MAX_PIXELS:  # a tiny scale would ask for a 12 GB upscaled square
        raise InvalidInputError(f"The alignment scales the model's square to {side:,.0f} photo pixels a side, larger "
                                f"than any photo ({MAX_PIXELS / 1e6:g} megapixels); align the face again.")
    upscaled_side = max(size, round(side))
    box_to_up = (upscaled_side / size) * (transform @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]], np.float64))

    def unwarped(square: np.ndarray) -> np.ndarray:
        up = square if upscaled_side == size else np.asarray(
            Image.fromarray(np.ascontiguousarray(square)).resize((upscaled_side, upscaled_side),
                                                                 Image.Resampling.LANCZOS))
        return geometry.render(up, box_to_up, (x1 - x0, y1 - y0)).astype(np.float32)

    region = out[y0:y1, x0:x1]
    blended = region.astype(np.float32)
    below = blended if reference is None else unwarped(reference)
    blended += weights[:, :, None] * (unwarped(generated) - below)
    out[y0:y1, x0:x1] = np.where(weights[:, :, None] > 0, np.rint(blended).clip(0, 255).astype(np.uint8), region)
    return out


def _edge_weights(uv: np.ndarray, size: int, feather: float) -> np.ndarray:
    """Blend weights float32 [h, w] from model coordinates: smoothstep of the distance to the square's nearest edge."""
    distance = np.minimum(np.minimum(uv[..., 0], size - uv[..., 0]), np.minimum(uv[..., 1], size - uv[..., 1]))
    if feather == 0.0:
        return (distance > 0).astype(np.float32)
    t = np.clip(distance / (feather * size), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _check_rgb(pixels: np.ndarray, what: str) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidInputError(f"The {what} must be uint8 RGB pixels [H, W, 3], got "
                                f"{getattr(pixels, 'dtype', type(pixels).__name__)} {getattr(pixels, 'shape', '')}.")
