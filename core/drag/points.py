"""Handle and target points of a drag edit, and the JSON file the command line reads them from.

A points file names each pair in pixels of the image the model renders (1024 for the FFHQ model, the
checkpoint's resolution for a StyleGAN2), top-left origin, x to the right and y down — the numbers an image
viewer shows::

    {"points": [{"handle": [412, 530], "target": [412, 490]}],
     "mask": "may_move.png"}

``mask`` (optional, relative to the file) is a greyscale image of the same square: white where the face may
change, black where it must stay. ``"units": "fraction"`` reads the coordinates as fractions of the square instead,
and ``"units": "photo"`` as pixels of the photo a command edits (mapped through its crop or face alignment).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidInputError

MAX_POINTS = 16  # more pairs than anyone places by hand; each costs a feature sample per step
UNITS = ("pixels", "fraction", "photo")
PhotoToSquare = Callable[[np.ndarray], np.ndarray]  # photo-pixel points [K, 2] → fractions of the square


@dataclass(frozen=True)
class DragPoint:
    """One handle and where it should go, as (x, y) fractions of the model's square."""

    handle: tuple[float, float]
    target: tuple[float, float]

    def to_pixels(self, side: int) -> dict[str, list[float]]:
        """This pair in pixels of a ``side``-pixel square (what a points file holds)."""
        return {"handle": [self.handle[0] * side, self.handle[1] * side],
                "target": [self.target[0] * side, self.target[1] * side]}


def check_points(points: list[DragPoint]) -> list[DragPoint]:
    """At least one pair, at most ``MAX_POINTS``, every coordinate a finite fraction within the square."""
    if not points:
        raise InvalidInputError("A drag needs at least one handle point and its target.")
    if len(points) > MAX_POINTS:
        raise InvalidInputError(f"A drag takes at most {MAX_POINTS} point pairs (got {len(points)}).")
    for number, point in enumerate(points, 1):
        for name, (x, y) in (("handle", point.handle), ("target", point.target)):
            if not (math.isfinite(x) and math.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise InvalidInputError(f"Point pair {number}: the {name} lies outside the model's square (at "
                                        f"{x:.1%}, {y:.1%} of its width and height).")
    return points


def _pair(value: Any, where: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise InvalidInputError(f"{where} must be two numbers [x, y] (got {value!r}).")
    return float(value[0]), float(value[1])


def parse_points(data: Any, side: int, photo_to_square: PhotoToSquare | None = None) -> list[DragPoint]:
    """The pairs of a points document (parsed JSON) whose pixel coordinates refer to a ``side``-pixel square (or,
    with ``"units": "photo"``, to the photo that ``photo_to_square`` maps into it)."""
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise InvalidInputError('A points file is a JSON object with a "points" list, e.g. '
                                '{"points": [{"handle": [412, 530], "target": [412, 490]}]}.')
    units = data.get("units", "pixels")
    if units not in UNITS:
        raise InvalidInputError(f'"units" must be one of {", ".join(UNITS)} (got {units!r}).')
    if units == "photo" and photo_to_square is None:
        raise InvalidInputError('"units": "photo" needs a photo to map from; give the photo, or use "pixels".')
    pairs = []
    for number, entry in enumerate(data["points"], 1):
        if not isinstance(entry, dict):
            raise InvalidInputError(f'Point pair {number} must be an object with "handle" and "target".')
        pairs.append([_pair(entry.get(key), f"Point pair {number}'s {key}") for key in ("handle", "target")])
    coords = np.asarray(pairs, np.float64).reshape(-1, 2)  # [2K, 2]: handle, target, handle, …
    if units == "photo":
        assert photo_to_square is not None
        coords = photo_to_square(coords) if len(coords) else coords
    elif units == "pixels":
        coords = coords / side
    points = [DragPoint((float(coords[i, 0]), float(coords[i, 1])), (float(coords[i + 1, 0]), float(coords[i + 1, 1])))
              for i in range(0, len(coords), 2)]
    return check_points(points)


def read_points_file(path: Path, side: int,
                     photo_to_square: PhotoToSquare | None = None) -> tuple[list[DragPoint], np.ndarray | None]:
    """The pairs of a points file and its may-move mask (float32 [side, side] in [0, 1], or None)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"Cannot read the points file {path}: {exc.strerror or exc}.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"The points file {path} is not valid JSON ({exc}).") from exc
    points = parse_points(data, side, photo_to_square)
    mask_name = data.get("mask")
    if mask_name is None:
        return points, None
    if not isinstance(mask_name, str):
        raise InvalidInputError(f'"mask" must be the name of an image file (got {mask_name!r}).')
    return points, read_mask(Path(path).parent / mask_name, side)


def read_mask(path: Path, side: int) -> np.ndarray:
    """A greyscale may-move mask (white = may move) at ``side`` × ``side``, float32 in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            grey = image.convert("L").resize((side, side), Image.Resampling.BILINEAR)
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidInputError(f"Cannot read the drag mask {path}: {exc}.") from exc
    mask = np.asarray(grey, np.float32) / 255.0
    if not mask.any():
        raise InvalidInputError(f"The drag mask {path} is all black: nothing may move.")
    return mask
