"""2-D similarity transforms and affine resampling of photos, shared by the face finder and the aligner.

Coordinates are continuous pixels: x right, y down, pixel (i, j) covers [j, j+1) × [i, i+1), so its centre is at
(j + 0.5, i + 0.5) — the convention Pillow's affine transform uses, so matrices pass to it unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from core.errors import InvalidInputError

PRESHRINK_ABOVE: float = 1.5  # photo pixels per output pixel above which the region is Lanczos-shrunk first


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map float [N, 2] points through a 2×3 affine matrix → float64 [N, 2]."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def invert(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a 2×3 affine matrix (refused when singular)."""
    linear = matrix[:, :2]
    det = float(np.linalg.det(linear))
    if not math.isfinite(det) or abs(det) < 1e-12:
        raise InvalidInputError("The alignment transform is degenerate (zero scale); detect the face again.")
    inv = np.linalg.inv(linear)
    return np.hstack([inv, -(inv @ matrix[:, 2])[:, None]])


def scale_of(matrix: np.ndarray) -> float:
    """The uniform scale of a similarity (for a general affine: the square root of its area change)."""
    return math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))


def angle_of(matrix: np.ndarray) -> float:
    """The rotation of a similarity in degrees (positive turns x towards y, i.e. clockwise on screen)."""
    return math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation; never a reflection) taking ``src`` to ``dst``.

    Umeyama (1991) on float [N, 2] point sets, N ≥ 2 → a 2×3 matrix. A reflection would mirror the face, which no
    photo needs, so the SVD's sign is fixed to keep a proper rotation.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise InvalidInputError(f"A similarity needs matching [N, 2] point sets with N ≥ 2, got {src.shape}, "
                                f"{dst.shape}.")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var_s = float((s**2).sum() / len(src))
    if var_s < 1e-12:
        raise InvalidInputError("The face's landmarks all fall on one point; it is too small to align.")
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, 1.0 if np.linalg.det(u) * np.linalg.det(vt) > 0 else -1.0])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(sigma) @ sign)) / var_s
    return np.hstack([scale * rotation, (mu_d - scale * rotation @ mu_s)[:, None]])


def render(pixels: np.ndarray, out_to_photo: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resample uint8 [H, W, 3] ``pixels`` into a ``size`` (side, or (width, height)) image → uint8 [h, w, 3].

    ``out_to_photo`` (2×3) maps output coordinates to photo coordinates. Only the square's footprint in the photo
    is read; beyond the photo's border its edge pixels are repeated (black would teach the model a frame). When
    the photo is much larger than the output, the footprint is first shrunk with Lanczos so the final bicubic
    affine step is near 1:1 and does not alias.
    """
    height, width = pixels.shape[:2]
    out_w, out_h = (size, size) if isinstance(size, int) else size
    corners = apply(out_to_photo, np.array([[0, 0], [out_w, 0], [0, out_h], [out_w, out_h]], dtype=np.float64))
    scale = scale_of(out_to_photo)
    margin = 4.0 * max(scale, 1.0) + 2.0
    x0, y0 = (math.floor(v - margin) for v in corners.min(0))
    x1, y1 = (math.ceil(v + margin) for v in corners.max(0))
    if (x1 - x0) * (y1 - y0) > 400_000_000:
        raise InvalidInputError("The face square is far larger than the photo; detect the face again.")
    rows = np.clip(np.arange(y0, y1), 0, height - 1)
    cols = np.clip(np.arange(x0, x1), 0, width - 1)
    region = Image.fromarray(np.ascontiguousarray(pixels[rows][:, cols]))
    fx = fy = 1.0
    if scale > PRESHRINK_ABOVE:
        new = (max(1, round(region.width / scale)), max(1, round(region.height / scale)))
        fx, fy = region.width / new[0], region.height / new[1]
        region = region.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0)
    to_region = np.array([[1 / fx, 0, -x0 / fx], [0, 1 / fy, -y0 / fy]]) @ np.vstack([out_to_photo, [0, 0, 1]])
    out = region.transform((out_w, out_h), Image.Transform.AFFINE, tuple(to_region.ravel()),
                           resample=Image.Resampling.BICUBIC)
    return np.asarray(out).copy()
