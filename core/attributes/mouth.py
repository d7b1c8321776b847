"""The mouth's shape, read off the face mesh (:mod:`core.alignment.faces`): how wide it is, how far its corners
rise above the middle of the lips, and how far the lips part — each in units of the distance between the outer
eye corners, so the figures do not depend on the face's size in the image.

A smile widens the mouth and lifts its corners. No smile classifier ships under a licence we can use, but this
geometry needs none: it labels a model's samples for a smile direction (:mod:`core.directions.attributes`) and
measures what an edit did, on any model whose faces the mesh finds. On the embedded model the direction it gives
lies at cosine 0.52 to the hand-labelled "smile" and moves the same measures further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.alignment.faces import Face, find_faces
from core.errors import NoFaceFoundError

MOUTH_CORNERS = (61, 291)  # Face Mesh: the lips' outer corners (image left, image right)
LIP_MIDDLE = (13, 14)  # the inner lips' middle points (upper, lower)
EYE_CORNERS = (33, 263)  # the eyes' outer corners: the face's scale


@dataclass(frozen=True)
class MouthShape:
    """Lengths in units of the outer-eye-corner distance."""

    width: float  # corner to corner
    lift: float  # how far the corners sit above the lips' middle (image up is positive)
    opening: float  # the gap between the inner lips

    def as_array(self) -> np.ndarray:
        return np.array([self.width, self.lift, self.opening], np.float64)


def mouth_shape(face: Face) -> MouthShape:
    points = face.landmarks[:, :2].astype(np.float64)
    scale = max(float(np.linalg.norm(points[EYE_CORNERS[1]] - points[EYE_CORNERS[0]])), 1e-9)
    left, right = points[MOUTH_CORNERS[0]], points[MOUTH_CORNERS[1]]
    upper, lower = points[LIP_MIDDLE[0]], points[LIP_MIDDLE[1]]
    lift = (upper[1] + lower[1]) / 2 - (left[1] + right[1]) / 2  # y grows downward
    return MouthShape(float(np.linalg.norm(right - left)) / scale, float(lift) / scale,
                      float(np.linalg.norm(lower - upper)) / scale)


def read_mouth(image: np.ndarray) -> MouthShape | None:
    """The shape of the most confident face's mouth in ``image`` (uint8 [H, W, 3]); None when no face is found."""
    try:
        return mouth_shape(find_faces(image)[0])
    except NoFaceFoundError:
        return None


def read_mouths(images: np.ndarray) -> np.ndarray:
    """float64 [N, 3] (width, lift, opening) of ``images`` uint8 [N, H, W, 3]; a row of NaN where no face is found."""
    rows = [read_mouth(image) for image in images]
    return np.array([np.full(3, np.nan) if row is None else row.as_array() for row in rows]).reshape(-1, 3)


def smile_scores(mouths: np.ndarray) -> np.ndarray:
    """One number per face [N]: width and lift, each standardised over these faces, summed (NaN: no face). The two
    are weighted alike since a smile shows in both, and their spreads differ (≈ 0.07 and 0.03 of the eye
    distance on the embedded model)."""
    found = ~np.isnan(mouths).any(1)
    shape = mouths[found, :2]
    spread = np.maximum(shape.std(0), 1e-9)
    scores = np.full(len(mouths), np.nan)
    scores[found] = ((shape - shape.mean(0)) / spread).sum(1)
    return scores
