"""``invert_photo``: a photo and its placement in, the inversion and the photo with the result composited out."""

from __future__ import annotations

from collections.abc import Generator as Job
from dataclasses import dataclass

import numpy as np
import torch

from core.device import from_uint8_hwc, to_uint8_hwc
from core.generators import Generator
from core.generators.tuning import tuned_copy
from core.imageio import Photo
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.jobs import CancelToken
from core.objectives.operators import parse_operator
from core.photo_jobs.theta_rule import with_session_theta
from core.placement import DEFAULT_COMPOSITE, DEFAULT_FEATHER, Placement, check_composite_mode


@dataclass(frozen=True, eq=False)
class PhotoInversion:
    """One inversion of one photo: the run, what the model was asked for, and the photo with the result in it."""

    result: InversionResult
    placement: Placement
    target: np.ndarray  # uint8 [R, R, 3]: the model's view of the photo
    photo: np.ndarray  # uint8 [H, W, 3]: the photo with the best reconstruction composited, full resolution
    masked_fraction: float  # of the model's square ignored by the loss (0 without a mask)


def model_inputs(G: Generator, photo: Photo, placement: Placement, mask: np.ndarray | None
                 ) -> tuple[np.ndarray, torch.Tensor | None]:
    """The target (uint8 [R, R, 3]) and the loss mask (float [R, R], 1 = ignored; None when nothing is marked)."""
    target = placement.target(photo.pixels, G.resolution)
    if mask is None or not np.any(mask):
        return target, None
    return target, torch.from_numpy(placement.mask(mask, G.resolution))


def result_reference(result: InversionResult) -> np.ndarray:
    """uint8 [R, R, 3]: the model's image of the photo as it is, the "detail" composite's reference — the
    reconstruction itself, or for a restoration (``config.operator``) the restored square seen through the
    degradation, so only what the restoration adds (detail, colour) enters the photo."""
    if result.config.operator is None:
        return result.best_image
    return parse_operator(result.config.operator).seen(result.best_image)


def full_render(G: Generator, result: InversionResult) -> np.ndarray:
    """uint8 [S, S, 3]: the best latent at ``G``'s render resolution (through its pivotal tuning, if any), or the
    result's own image when the model works at its full resolution anyway."""
    if G.render_resolution == G.resolution:
        return result.best_image
    model = G if result.tuning is None else tuned_copy(G, result.tuning)
    with torch.no_grad():
        code = torch.from_numpy(result.latents[result.best_index][None]).to(G.device)
        return to_uint8_hwc(model.render(code, result.space))[0]


def invert_photo(G: Generator, photo: Photo, *, placement: Placement, config: InversionConfig,
                 mask: np.ndarray | None = None, theta: str | None = None, feather: float = DEFAULT_FEATHER,
                 composite: str = DEFAULT_COMPOSITE, cancel: CancelToken | None = None
                 ) -> Job[InversionStep, None, PhotoInversion]:
    """Invert the photo's square (``mask``: photo-sized, marked pixels are ignored by the loss) with ``config``,
    through the session's θ ``theta`` where the method uses one (:func:`with_session_theta`).

    ``composite`` "detail": the reconstruction is the photo's reference, so the composite is the photo unchanged
    (edits later add only their change); "replace": the photo with the model's square pasted in."""
    check_composite_mode(composite)
    config = with_session_theta(config, theta)
    target, small = model_inputs(G, photo, placement, mask)
    result = yield from invert(G, from_uint8_hwc(target, G.device), config, small, cancel)
    return placed_result(G, photo, placement, target, result, small=small, feather=feather, composite=composite)


def placed_result(G: Generator, photo: Photo, placement: Placement, target: np.ndarray, result: InversionResult,
                  *, small: torch.Tensor | None = None, feather: float = DEFAULT_FEATHER,
                  composite: str = DEFAULT_COMPOSITE) -> PhotoInversion:
    """An inversion of the photo's square put back into the photo (``composite`` as in :func:`invert_photo`)."""
    reference = result_reference(result) if composite == "detail" else None
    image = result.best_image if reference is not None else full_render(G, result)
    composited = placement.composite(photo.pixels, image, feather=feather, reference=reference)
    fraction = 0.0 if small is None else float(small.mean())
    return PhotoInversion(result, placement, target, composited, fraction)
