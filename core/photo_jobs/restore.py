"""``restore_photo``: super-resolution or colorization — invert the photo's square through a degradation."""

from __future__ import annotations

from collections.abc import Generator as Job
from dataclasses import dataclass

import numpy as np
import torch

from core.device import from_uint8_hwc
from core.generators import Generator
from core.imageio import Photo
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.jobs import CancelToken
from core.metrics import psnr
from core.objectives.operators import parse_operator
from core.photo_jobs.invert import result_reference
from core.placement import DEFAULT_COMPOSITE, DEFAULT_FEATHER, Placement, check_composite_mode


@dataclass(frozen=True, eq=False)
class PhotoRestoration:
    result: InversionResult
    placement: Placement
    target: np.ndarray  # uint8 [R, R, 3]: the photo's square
    observation: np.ndarray  # uint8 [r, r, 3]: what the model was asked to match (the degraded square)
    observation_psnr: list[float]  # per start: the restored square degraded again against the observation
    photo: np.ndarray  # uint8 [H, W, 3]: the restored square composited into the photo
    reference: np.ndarray | None = None  # uint8 [R, R, 3]: the restored square as degraded ("detail" composites)


def restore_photo(G: Generator, photo: Photo, *, placement: Placement, config: InversionConfig,
                  feather: float = DEFAULT_FEATHER, composite: str = DEFAULT_COMPOSITE,
                  cancel: CancelToken | None = None) -> Job[InversionStep, None, PhotoRestoration]:
    """Restore the photo's square through ``config.operator`` (e.g. "downsample4", "grayscale").

    ``composite`` "detail" adds to the photo only what the restoration brings (the restored square minus itself
    seen through the degradation: the missing detail, the missing colour); "replace" pastes the square."""
    check_composite_mode(composite)
    operator = parse_operator(config.operator)
    target = placement.target(photo.pixels, G.resolution)
    result = yield from invert(G, from_uint8_hwc(target, G.device), config, None, cancel)
    with torch.no_grad():
        seen = operator(from_uint8_hwc(result.images))
        fit = psnr(seen, operator.observe(from_uint8_hwc(target)).expand_as(seen))
    reference = result_reference(result) if composite == "detail" else None
    composited = placement.composite(photo.pixels, result.best_image, feather=feather, reference=reference)
    return PhotoRestoration(result, placement, target, operator.observe(target),
                            [round(float(v), 4) for v in fit], composited, reference)
