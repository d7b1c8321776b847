"""Inpainting fills stacked over the result: what a document keeps of each applied fill, and how a project stores it.

A fill is a pixel layer: the chosen candidate (the model's square) blended into the brushed pixels only, on top of
whatever the document showed when it was applied (the adopted result with its edits, and the fills before it).
Keeping the layers — rather than baking them into one image — lets the history undo one fill while the others
stay, and lets an edit of the result underneath show through everywhere a fill does not cover.

In a project file each fill is a ``"fills"`` manifest entry (crop, alignment, feather, label) and two arrays,
``fill_image_<i>`` (uint8 [R, R, 3]) and ``fill_mask_<i>`` (uint8 [H, W]). The limits are what loading accepts;
saving checks the same ones, so a saved project always opens again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.alignment import Alignment
from core.errors import InvalidInputError
from core.imageio import MAX_PIXELS, CropBox
from core.placement import MAX_FEATHER, Placement

MAX_FILLS = 64  # layers in one document: far more than anyone stacks, few enough to bound a project's size
MAX_LABEL_CHARS = 200
MAX_RESOLUTION = 8192
IMAGE_PREFIX, MASK_PREFIX = "fill_image_", "fill_mask_"


@dataclass(frozen=True, eq=False)
class Fill:
    """One applied inpainting candidate: ``image`` blended into the ``mask`` pixels through ``placement``."""

    image: np.ndarray  # uint8 [R, R, 3]: the candidate, as the model made it
    mask: np.ndarray  # uint8 [H, W], photo-sized: 255 = filled
    placement: Placement  # the square the candidate was made for
    feather: float  # the ramp inside the mask, as a fraction of the square's side
    label: str = "inpainting fill"  # what the history calls it ("inpainting candidate #2")

    def __post_init__(self) -> None:
        image, mask = self.image, self.mask
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                and image.shape[0] == image.shape[1] and image.shape[2] == 3 and image.shape[0] > 0):
            raise InvalidInputError("A fill's image must be a square uint8 RGB array [R, R, 3].")
        if not (isinstance(mask, np.ndarray) and mask.dtype == np.uint8 and mask.ndim == 2 and mask.size > 0):
            raise InvalidInputError("A fill's mask must be a photo-sized uint8 array [H, W].")
        if not isinstance(self.placement, Placement):
            raise InvalidInputError("A fill's placement must be a Placement.")
        feather = self.feather
        if isinstance(feather, bool) or not isinstance(feather, int | float) or not 0 <= feather <= MAX_FEATHER:
            raise InvalidInputError(f"A fill's feather must be a number from 0 to {MAX_FEATHER} (got {feather!r}).")
        if not isinstance(self.label, str) or len(self.label) > MAX_LABEL_CHARS:
            raise InvalidInputError(f"A fill's label must be text of at most {MAX_LABEL_CHARS} characters.")
        object.__setattr__(self, "image", _read_only(image))
        object.__setattr__(self, "mask", _read_only(mask))

    def apply(self, pixels: np.ndarray, *, detail: bool = True) -> np.ndarray:
        """A copy of ``pixels`` (the photo's size) with this fill blended into its masked pixels.

        ``detail``: the candidate replaces only what the model can see of ``pixels`` — their own view of the square
        at the model's resolution is the reference — so the brushed region takes the candidate's shapes and
        colours while keeping the photo's grain above the model's resolution (a frequency split; a fill no longer
        looks like a blurry patch). Otherwise the candidate replaces the masked pixels outright.
        """
        reference = self.placement.target(pixels, self.image.shape[0]) if detail else None
        return self.placement.composite(pixels, self.image, fill_mask=self.mask, feather=float(self.feather),
                                        reference=reference)


def _read_only(array: np.ndarray) -> np.ndarray:
    if array.flags.writeable:
        array = np.array(array, copy=True)
        array.setflags(write=False)
    return array


def stack(pixels: np.ndarray, fills: Iterable[Fill], *, detail: bool = True) -> np.ndarray:
    """``pixels`` with every fill applied in order (the first applied lies lowest); ``pixels`` when there are none."""
    for fill in fills:
        pixels = fill.apply(pixels, detail=detail)
    return pixels


# -- project files -----------------------------------------------------------------------------------------------
def image_key(i: int) -> str:
    return f"{IMAGE_PREFIX}{i}"


def mask_key(i: int) -> str:
    return f"{MASK_PREFIX}{i}"


def is_fill_key(key: str) -> bool:
    return key.startswith((IMAGE_PREFIX, MASK_PREFIX))


def keys(count: int) -> list[str]:
    return [key for i in range(count) for key in (image_key(i), mask_key(i))]


def entries(fills: tuple[Fill, ...]) -> list[dict[str, Any]]:
    """The manifest's ``"fills"`` value; refuses more layers than loading accepts."""
    if len(fills) > MAX_FILLS:
        raise InvalidInputError(f"Cannot save {len(fills)} inpainting fills: a project holds at most {MAX_FILLS}.")
    return [{"crop": f.placement.crop.to_dict(),
             "alignment": None if f.placement.alignment is None else f.placement.alignment.to_dict(),
             "feather": float(f.feather), "label": f.label} for f in fills]


def arrays(fills: tuple[Fill, ...]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, fill in enumerate(fills):
        out[image_key(i)], out[mask_key(i)] = fill.image, fill.mask
    return out


def entries_problem(value: Any) -> str | None:
    """What is wrong with a loaded ``"fills"`` value, as a phrase (None when it is well formed)."""
    if not isinstance(value, list) or len(value) > MAX_FILLS:
        return f"it is not a list of at most {MAX_FILLS} fills"
    for entry in value:
        if not (isinstance(entry, dict) and isinstance(entry.get("crop"), dict)
                and isinstance(entry.get("alignment"), dict | None) and isinstance(entry.get("label"), str)):
            return "a fill is not {crop: object, alignment: object or null, feather: number, label: text}"
    return None


def shape_ok(key: str, shape: tuple[int, ...]) -> bool:
    """A plausible fill array: a square RGB image, or a mask of at most the photo limit."""
    if not shape or min(shape) < 1:
        return False
    if key.startswith(IMAGE_PREFIX):
        return len(shape) == 3 and shape[0] == shape[1] <= MAX_RESOLUTION and shape[2] == 3
    return len(shape) == 2 and math.prod(shape) <= MAX_PIXELS


def fills(value: list[dict[str, Any]], loaded: dict[str, np.ndarray]) -> tuple[Fill, ...]:
    """The fills of a checked ``"fills"`` entry and its loaded arrays (each checks its own values)."""
    out = []
    for i, entry in enumerate(value):
        alignment = None if entry["alignment"] is None else Alignment.from_dict(entry["alignment"])
        placement = Placement(CropBox.from_dict(entry["crop"]), alignment)
        feather: Any = entry.get("feather")  # checked by Fill
        out.append(Fill(loaded[image_key(i)], loaded[mask_key(i)], placement, feather, entry["label"]))
    return tuple(out)
