"""``inpaint_photo``: K diverse fills of a photo's brushed region, each composited into the photo's own pixels."""

from __future__ import annotations

from collections.abc import Generator as Job
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import Photo
from core.inpainting import InpaintConfig, InpaintResult, inpaint, starts_like
from core.inversion import InversionStep
from core.jobs import CancelToken
from core.placement import DEFAULT_COMPOSITE, Placement, check_composite_mode, unit_mask

FILL_FEATHER = 0.03  # the ramp inside the mask, as a fraction of the square's side


@dataclass(frozen=True, eq=False)
class PhotoInpainting:
    """The ranked candidates, where they go, and the photo filled with the best one."""

    result: InpaintResult
    placement: Placement
    target: np.ndarray  # uint8 [R, R, 3]
    mask: np.ndarray  # float32 [H, W] in [0, 1]: the photo's pixels to fill
    feather: float
    source: np.ndarray  # uint8 [H, W, 3]: the photo as it was (read-only, shared)
    photo: np.ndarray  # uint8 [H, W, 3]: candidate 0 (the best fit) filled in
    masked_fraction: float  # of the model's square to fill
    warnings: list[str] = field(default_factory=list)
    composite: str = DEFAULT_COMPOSITE  # "detail": the photo keeps its grain inside the fill; "replace"

    def filled(self, rank: int) -> np.ndarray:
        """uint8 [H, W, 3]: the photo with candidate ``rank`` filled in (only the masked pixels change); "detail"
        takes the photo's own model-resolution view as the reference (see ``core.sessions.Fill.apply``)."""
        reference = self.target if self.composite == "detail" else None
        return self.placement.composite(self.source, self.result.candidates[rank], fill_mask=self.mask,
                                        feather=self.feather, reference=reference)


def fill_mask_in_square(G: Generator, placement: Placement, mask: np.ndarray) -> torch.Tensor:
    """float [R, R] (1 = fill) of a photo-sized mask; refused when nothing marked lies inside the square."""
    small = torch.from_numpy(placement.mask(mask, G.resolution))
    if not bool((small > 0).any()):
        raise InvalidInputError(f"The mask marks nothing inside {placement.describe()}; paint the region to fill "
                                "on the face.")
    return small


def inpaint_photo(G: Generator, photo: Photo, *, placement: Placement, mask: np.ndarray,
                  config: InpaintConfig, near: np.ndarray | None = None, feather: float = FILL_FEATHER,
                  composite: str = DEFAULT_COMPOSITE, cancel: CancelToken | None = None
                  ) -> Job[InversionStep, None, PhotoInpainting]:
    """K candidates for the ``mask`` pixels (photo-sized; uint8 255 or float 1 = fill); with ``near`` (a latent)
    the starts are drawn around it, the chosen one kept as start 0."""
    config.validate(G.device)
    check_composite_mode(composite)
    unit = unit_mask(mask)
    target = placement.target(photo.pixels, G.resolution)
    small = fill_mask_in_square(G, placement, mask)
    start = None if near is None else starts_like(G, near, config.candidates, seed=config.seed, keep_chosen=True)
    result = yield from inpaint(G, from_uint8_hwc(target, G.device), small, config, start, cancel)
    covered = placement.covered(photo.width, photo.height, G.resolution)
    outside = int(np.count_nonzero(unit * (1 - covered)))
    warnings = list(result.warnings)
    if outside:
        warnings.append(f"{outside} masked pixels lie outside the model's square and were left as they are; "
                        "choose a crop that covers the whole mask.")
    done = PhotoInpainting(result, placement, target, unit, feather, photo.pixels, photo.pixels, float(small.mean()),
                           warnings, composite)
    return replace(done, photo=done.filled(0))
