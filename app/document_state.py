"""What the document controller holds about the open photo and its adopted result (plain frozen data).

Kept apart from the controller so views, presenters and workers can share the types without the controller's
Qt machinery; ``app.controller`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.alignment import Alignment
from core.generators.tuning import WeightDelta
from core.imageio import CropBox, Photo, display_pixels, load_photo
from core.inversion import InversionResult
from core.resources import sample_face_crop


@dataclass(frozen=True)
class OpenedPhoto:
    """A loaded photo with its on-screen copy and the crop to start with."""

    photo: Photo
    display: np.ndarray  # uint8 HWC, at most 4096 px a side
    crop: CropBox


@dataclass(frozen=True)
class Adopted:
    """An inversion result placed into the photo: what the canvas shows as "after" and what export writes."""

    result: InversionResult | None  # the run it came from (None when restored from a project file)
    crop: CropBox  # the crop it was made for
    display: np.ndarray  # the display copy with the reconstruction pasted in
    latent: np.ndarray  # [*shape] the best latent: what edits move
    image: np.ndarray  # uint8 [R, R, 3] the reconstruction of ``latent`` as adopted
    fill_mask: np.ndarray | None = None  # uint8 [H, W]: an inpainting fills only these pixels (None: the crop)
    tuning: WeightDelta | None = None  # the generator copy tuned for this photo ("pivotal"); None: the model
    space: str | None = None  # the latent space ``latent`` lives in (None: the model's default)
    alignment: Alignment | None = None  # how the square was placed: an aligned face (None: through ``crop``)


def open_photo_job(path: Path) -> OpenedPhoto:
    photo = load_photo(path)
    recorded = sample_face_crop(path)
    crop = CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height)
    return OpenedPhoto(photo, display_pixels(photo), crop)


def display_box(box: CropBox, photo: Photo, display: np.ndarray) -> CropBox:
    """The crop box in display-copy pixels."""
    scale = display.shape[1] / photo.width
    size = max(1, round(box.size * scale))
    x = min(round(box.x * scale), display.shape[1] - size)
    y = min(round(box.y * scale), display.shape[0] - size)
    return CropBox(max(0, x), max(0, y), size)
