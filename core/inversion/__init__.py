"""Inversion: find the latent whose image matches a photo. ``invert`` dispatches on ``config.method``."""

from __future__ import annotations

from collections.abc import Generator as Job

import torch

from core.errors import InvalidInputError
from core.generators.base import Generator
from core.inversion.config import METHODS, InversionConfig, restoration_config
from core.inversion.optimize import InversionResult, InversionStep, invert_direct, warm_up
from core.jobs import CancelToken

__all__ = ["METHODS", "InversionConfig", "InversionResult", "InversionStep", "invert", "restoration_config",
           "warm_up"]


def invert(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
           cancel: CancelToken | None = None, start: torch.Tensor | None = None
           ) -> Job[InversionStep, None, InversionResult]:
    """The inversion job for ``config.method`` (validated first, so a bad setting fails before any work).

    ``start`` [K, *shape] (direct method only) replaces the seeded starts; the landscape method starts in its
    own learned space, so it refuses one.
    """
    config.validate()
    if config.method == "landscape":
        if start is not None:
            raise InvalidInputError("The landscape method draws its own starts; use the direct method with start=.")
        from core.inversion.landscape import invert_landscape  # imports θ's registry only when asked for

        return invert_landscape(G, target, config, mask, cancel)
    return invert_direct(G, target, config, mask, cancel, start)
