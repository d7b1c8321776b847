"""Several photos inverted together: one batch of problems for the generator instead of one photo after another.

Every photo's square is the model's size once placed, so any photos can share a batch. Only the direct method
without early noise is grouped (:func:`groupable`): its Adam updates are per coordinate and its loss a sum over
starts, so each photo's starts descend exactly as they would alone (the same seeded starts; floating-point
rounding aside). The one difference: the plain warm-up hands over to Adam early when the *group's* mean loss
rises, where alone it watches one photo's. Pivotal tuning changes the generator per photo and the other methods
carry per-run state (θ's handover, an encoder's start), so they run one photo at a time.
"""

from __future__ import annotations

from collections.abc import Generator as Job
from dataclasses import replace

import numpy as np
import torch

from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import Photo
from core.inversion import InversionConfig, InversionResult, InversionStep
from core.inversion.optimize import first_latents, invert_direct
from core.jobs import CancelToken, observed
from core.photo_jobs.invert import PhotoInversion, placed_result
from core.placement import DEFAULT_COMPOSITE, DEFAULT_FEATHER, Placement, check_composite_mode


def groupable(config: InversionConfig) -> bool:
    """Whether photos inverted with ``config`` may share a batch (see the module doc)."""
    return config.method == "direct" and config.noise == 0 and config.operator is None


def invert_photos(G: Generator, photos: list[tuple[Photo, Placement]], *, config: InversionConfig,
                  feather: float = DEFAULT_FEATHER, composite: str = DEFAULT_COMPOSITE,
                  cancel: CancelToken | None = None) -> Job[InversionStep, None, list[PhotoInversion]]:
    """Each (photo, placement) inverted with ``config`` in one batch: what :func:`invert_photo` would give each,
    with each result's history its own starts' losses and its seconds an equal share of the batch's."""
    if not groupable(config):
        raise InvalidInputError(f"The {config.method} method inverts one photo at a time.")
    check_composite_mode(composite)
    config.validate()
    count, starts = len(photos), config.starts
    targets = [placement.target(photo.pixels, G.resolution) for photo, placement in photos]
    stacked = torch.cat([from_uint8_hwc(t, G.device).expand(starts, -1, -1, -1) for t in targets])  # [P·S, 3, R, R]
    first = first_latents(G, config)
    grouped = config.with_changes(starts=count * starts)
    job = invert_direct(G, stacked, grouped, None, cancel, start=first.repeat(count, *[1] * (first.dim() - 1)))
    histories: list[list[dict[str, float]]] = [[] for _ in photos]

    def record(step: InversionStep) -> None:  # each photo's own starts' losses, as its history
        for index, history in enumerate(histories):
            totals = step.start_losses[index * starts:(index + 1) * starts]
            best = min(float(totals.min()), history[-1]["best"] if history else float("inf"))
            history.append({"step": step.step, "lr": step.lr, "total": float(totals.mean()), "best": best})

    together: InversionResult = yield from observed(job, record)
    return [placed_result(G, photo, placement, targets[index], _share(together, index, starts, count, config,
                                                                      histories[index]),
                          feather=feather, composite=composite)
            for index, (photo, placement) in enumerate(photos)]


def _share(together: InversionResult, index: int, starts: int, count: int, config: InversionConfig,
           history: list[dict[str, float]]) -> InversionResult:
    rows = slice(index * starts, (index + 1) * starts)
    return replace(together, latents=np.ascontiguousarray(together.latents[rows]),
                   losses=np.ascontiguousarray(together.losses[rows]),
                   images=np.ascontiguousarray(together.images[rows]), history=history, config=config,
                   seconds=together.seconds / count, warnings=list(together.warnings))
