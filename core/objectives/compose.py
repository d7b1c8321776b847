"""The inversion objective: a weighted sum of pixel, LPIPS, identity and prior terms, each reported on its own.

Terms are per image ([N]) so K starts in one batch stay K independent problems. When LPIPS is asked for but
cannot run here, the objective drops it, makes sure a pixel term remains, and records a warning for the
caller to show (the fallback must be visible, never silent). The identity term (dlib's face embedding distance,
``core.objectives.identity``) needs the photo's whole face: it compares G(x) with the target itself, and is left
out, with a note, under a degradation (a low-resolution or grey observation has no identity to match).

With a forward model A (``core.objectives.operators``: mask, downsample, grayscale) every image term compares
A(G(x)) with A(target), on A's grid and with the weights A carries there. LPIPS on a downsampled observation
(16×16 or 8×8 for a 64-px model) would be meaningless: its VGG/AlexNet features need images of normal size and
pool a 16-px input away. So for LPIPS both observations are bilinearly upsampled back to R first. That is one
fixed linear map applied to both sides: it adds no information, and the distance is 0 exactly when the
observations agree, while the network sees the sizes it was calibrated on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.alignment import framing_for
from core.errors import IdentityUnavailableError, InvalidInputError, PerceptualUnavailableError
from core.generators import Generator
from core.objectives.identity import IdentityLoss, identity_loss
from core.objectives.operators import Identity, Operator
from core.objectives.perceptual import NETS, PerceptualLoss, perceptual_loss
from core.objectives.pixel import pixel_loss
from core.objectives.priors import colinearity, gaussian_nll

log = logging.getLogger(__name__)


MAX_LOSS_WEIGHT = 1e6  # beyond this a weight is a typo; 1e300 overflows the loss to inf

@dataclass(frozen=True)
class LossWeights:
    """How much each term counts; 0 switches a term off."""

    pixel: float = 1.0  # MSE on the [-1, 1] scale
    lpips: float = 0.5  # LPIPS distance (dropped, with a warning, only if its shipped weights are damaged)
    prior: float = 0.0  # Gaussian NLL of the latent per dimension (keeps codes where the generator was trained)
    lpips_net: str = "vgg"  # LPIPS backbone: "vgg" (default, as the NVIDIA projector) or "alex" (faster)
    colinearity: float = 0.0  # BRGM: 1 − mean cosine between the layers of a per-layer latent (w+); off for z
    identity: float = 0.0  # dlib face-embedding distance to the photo (same person below 0.6); 0 = off

    def validate(self) -> None:
        for name in ("pixel", "lpips", "prior", "colinearity", "identity"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_LOSS_WEIGHT:  # NaN fails both comparisons
                raise InvalidInputError(f"The {name} loss weight must be a number from 0 to {MAX_LOSS_WEIGHT:g} "
                                        f"(got {value}).")
        if self.lpips_net not in NETS:
            raise InvalidInputError(f"Unknown LPIPS network '{self.lpips_net}'; choose one of: {', '.join(NETS)}.")
        if self.pixel == 0 and self.lpips == 0:
            raise InvalidInputError("At least one of the pixel and LPIPS weights must be above 0.")


class Objective:
    """Loss of generated images against one target, through the forward model ``operator`` (default: none),
    with the weights applied to every image term."""

    def __init__(self, G: Generator, target: torch.Tensor, weights: torch.Tensor | None, loss: LossWeights,
                 space: str | None = None, operator: Operator | None = None) -> None:
        loss.validate()
        self.operator = operator or Identity()
        self.target = self.operator.observe(target)  # [1|N, 3, r, r]: the observation
        self.weights = self.operator.weights(weights)  # [1|N, 1, r, r] or None; 1 = pixel counts
        self.pixel_weight, self.lpips_weight, self.prior_weight = loss.pixel, loss.lpips, loss.prior
        self.colinearity_weight = loss.colinearity
        self.mean, self.std = G.latent_stats(space)
        self.warnings: list[str] = []
        if loss.colinearity > 0 and len(G.space(space).shape) < 2:
            self.colinearity_weight = 0.0
            self.warnings.append(f"The colinearity prior needs per-layer latents; {G.name}'s "
                                 f"'{G.space(space).name}' has none, so it is off.")
        self.lpips: PerceptualLoss | None = None
        if loss.lpips > 0:
            try:
                self.lpips = perceptual_loss(loss.lpips_net, target.device)
            except PerceptualUnavailableError as exc:
                self._fall_back_to_pixel(str(exc))
        self.identity_weight = loss.identity
        self.identity: IdentityLoss | None = None
        self.identity_target: torch.Tensor | None = None  # [1|N, 128]: the photo's embedding, computed once
        if loss.identity > 0:
            self._load_identity(G, target)

    def _load_identity(self, G: Generator, target: torch.Tensor) -> None:
        if type(self.operator) is not Identity:
            self.warnings.append(f"The identity term compares whole faces; it is off under the '{self.operator.name}' "
                                 "degradation.")
            return
        try:
            self.identity = identity_loss(framing_for(G), target.device)
        except (IdentityUnavailableError, InvalidInputError) as exc:
            message = f"{exc} The identity term is off."
            self.warnings.append(message)
            log.warning(message)
            return
        with torch.no_grad():
            self.identity_target = self.identity.embed(target)

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
        observed = self.operator(images)  # [K, 3, r, r]
        if self.pixel_weight > 0:
            terms["pixel"] = pixel_loss(observed, self.target, self.weights)
            total = total + self.pixel_weight * terms["pixel"]
        if self.lpips is not None:
            terms["lpips"] = self.lpips(*self._perceptual_view(observed, images.shape[-1]))
            total = total + self.lpips_weight * terms["lpips"]
        if self.identity is not None and self.identity_target is not None:
            terms["identity"] = self.identity(images, self.identity_target)
            total = total + self.identity_weight * terms["identity"]
        if self.prior_weight > 0:
            terms["prior"] = gaussian_nll(latent, self.mean, self.std)
            total = total + self.prior_weight * terms["prior"]
        if self.colinearity_weight > 0:
            terms["colinearity"] = colinearity(latent)
            total = total + self.colinearity_weight * terms["colinearity"]
        terms["total"] = total
        return terms

    def _perceptual_view(self, observed: torch.Tensor, size: int
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Observation, target and weights as LPIPS sees them: back at the image size (see the module doc)."""
        if self.operator.scale == 1:
            return observed, self.target, self.weights
        weights = None if self.weights is None else F.interpolate(self.weights, size=(size, size), mode="nearest")
        return _upsample(observed, size), _upsample(self.target, size), weights


def _upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
