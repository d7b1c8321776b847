"""The inversion objective: a weighted sum of pixel, LPIPS and prior terms, each reported on its own.

Terms are per image ([N]) so K starts in one batch stay K independent problems. When LPIPS is asked for but
cannot run here, the objective drops it, makes sure a pixel term remains, and records a warning for the
caller to show (the fallback must be visible, never silent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from core.errors import InvalidInputError, PerceptualUnavailableError
from core.generators.base import Generator
from core.objectives.perceptual import NETS, PerceptualLoss, perceptual_loss
from core.objectives.pixel import pixel_loss
from core.objectives.priors import gaussian_nll

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts; 0 switches a term off."""

    pixel: float = 1.0  # MSE on the [-1, 1] scale
    lpips: float = 0.5  # LPIPS distance (dropped, with a warning, when the backbone is not on this machine)
    prior: float = 0.0  # Gaussian NLL of the latent per dimension (keeps codes where the generator was trained)
    lpips_net: str = "vgg"  # LPIPS backbone: "vgg" (default, as the NVIDIA projector) or "alex" (faster)

    def validate(self) -> None:
        for name in ("pixel", "lpips", "prior"):
            value = getattr(self, name)
            if not value >= 0 or value == float("inf"):
                raise InvalidInputError(f"The {name} loss weight must be a finite number ≥ 0 (got {value}).")
        if self.lpips_net not in NETS:
            raise InvalidInputError(f"Unknown LPIPS network '{self.lpips_net}'; choose one of: {', '.join(NETS)}.")
        if self.pixel == 0 and self.lpips == 0:
            raise InvalidInputError("At least one of the pixel and LPIPS weights must be above 0.")


class Objective:
    """Loss of generated images against one target, with the mask's weights applied to every image term."""

    def __init__(self, G: Generator, target: torch.Tensor, weights: torch.Tensor | None, loss: LossWeights,
                 space: str | None = None) -> None:
        loss.validate()
        self.target = target  # [1, 3, R, R]
        self.weights = weights  # [1, 1, R, R] or None; 1 = pixel counts
        self.pixel_weight, self.lpips_weight, self.prior_weight = loss.pixel, loss.lpips, loss.prior
        self.mean, self.std = G.latent_stats(space)
        self.warnings: list[str] = []
        self.lpips: PerceptualLoss | None = None
        if loss.lpips > 0:
            try:
                self.lpips = perceptual_loss(loss.lpips_net, target.device)
            except PerceptualUnavailableError as exc:
                self._fall_back_to_pixel(str(exc))

    def _fall_back_to_pixel(self, reason: str) -> None:
        self.lpips_weight = 0.0
        if self.pixel_weight == 0:
            self.pixel_weight = 1.0
        message = f"{reason} Falling back to pixel loss only."
        self.warnings.append(message)
        log.warning(message)

    @property
    def uses_lpips(self) -> bool:
        return self.lpips is not None

    def __call__(self, images: torch.Tensor, latent: torch.Tensor) -> dict[str, torch.Tensor]:
        """Terms for ``images`` [K, 3, R, R] made from ``latent`` [K, …]: each [K], plus "total"."""
        terms: dict[str, torch.Tensor] = {}
        total = torch.zeros(images.shape[0], device=images.device)
        if self.pixel_weight > 0:
            terms["pixel"] = pixel_loss(images, self.target, self.weights)
            total = total + self.pixel_weight * terms["pixel"]
        if self.lpips is not None:
            terms["lpips"] = self.lpips(images, self.target, self.weights)
            total = total + self.lpips_weight * terms["lpips"]
        if self.prior_weight > 0:
            terms["prior"] = gaussian_nll(latent, self.mean, self.std)
            total = total + self.prior_weight * terms["prior"]
        terms["total"] = total
        return terms
