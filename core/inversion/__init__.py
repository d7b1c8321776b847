"""Inversion: find the latent whose image matches a photo. ``invert`` dispatches on ``config.method``."""

from __future__ import annotations

from collections.abc import Generator as Job

import torch

from core.errors import InvalidInputError
from core.generators import Generator
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
    own learned space and the encoder-based methods start where the encoder says, so they refuse one.
    """
    config.validate()
    if start is not None and config.method != "direct":
        raise InvalidInputError(f"The {config.method} method draws its own starts; use the direct method with start=.")
    if config.method in ("encoder", "hybrid"):
        from core.inversion.encoder_methods import invert_encoder, invert_hybrid

        return (invert_encoder if config.method == "encoder" else invert_hybrid)(G, target, config, mask, cancel)
    if config.method == "pivotal":
        from core.inversion.pivotal import invert_pivotal

        return invert_pivotal(G, target, config, mask, cancel)
    if config.method == "landscape":
        from core.inversion.theta_descent import invert_landscape  # imports θ's registry only when asked for

        return invert_landscape(G, target, config, mask, cancel)
    return invert_direct(G, target, config, mask, cancel, start)
