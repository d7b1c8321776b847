"""``slice_photo``: invert a photo, then compute the loss landscape around the result.

One rule for where a slice is centred, whoever asks: in X on the run's best latent (the path's end is not always
its best point); in Z on the path's own centre, as θ's best z is not recorded.
"""

from __future__ import annotations

from collections.abc import Generator as Job
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import Photo
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.jobs import CancelToken, observed
from core.landscape import LandscapeSlice, SliceConfig, SliceRow, landscape_trajectory, latent_trajectory
from core.landscape.slicing import slice_for_photo as slice_around
from core.photo_jobs.invert import model_inputs
from core.photo_jobs.theta_rule import with_session_theta
from core.placement import Placement
from core.theta import LandscapeMapping

SLICE_METHODS = {"x": "direct", "z": "landscape"}  # the inversion whose path a slice of each space follows


@dataclass(frozen=True, eq=False)
class PhotoSlice:
    inversion: InversionResult
    slice: LandscapeSlice
    target: np.ndarray  # uint8 [R, R, 3]
    placement: Placement | None  # None when the target was given (a generated face)


def slice_inversion_config(config: InversionConfig, space: str) -> InversionConfig:
    """The inversion a slice of ``space`` runs first: the method whose path lies in that space, few previews."""
    return config.with_changes(method=SLICE_METHODS[space], preview_every=10_000)


def slice_photo(G: Generator, photo: Photo | None, *, placement: Placement | None, inversion: InversionConfig,
                config: SliceConfig, mask: np.ndarray | None = None, target: np.ndarray | None = None,
                theta: str | None = None, mapping: LandscapeMapping | None = None, library: Any = None,
                cancel: CancelToken | None = None) -> Job[InversionStep | SliceRow, None, PhotoSlice]:
    """Invert the photo's square (or ``target``, uint8 [R, R, 3], e.g. a generated face) with the method of the
    slice's space, then yield the slice's rows. ``theta``: the session's θ folder (the θ rule)."""
    config.validate()
    run_config = slice_inversion_config(with_session_theta(inversion, theta), config.space)
    if target is None:
        if photo is None or placement is None:
            raise InvalidInputError("A slice needs a photo and its placement, or a target image.")
        target, small = model_inputs(G, photo, placement, mask)
    else:
        small = None
    tensor = from_uint8_hwc(target, G.device)
    steps: list[InversionStep] = []
    result: InversionResult = yield from observed(invert(G, tensor, run_config, small, cancel), steps.append)
    if config.space == "z":
        trajectory, center = landscape_trajectory(steps), None
    else:
        trajectory = np.concatenate([latent_trajectory(steps), result.best_latent[None]])
        center = result.best_latent
    sliced = yield from slice_around(G, tensor, small, run_config, config, trajectory, theta=mapping,
                                     library=library, cancel=cancel, center=center)
    return PhotoSlice(result, sliced, target, placement)
