"""Diverse inpainting: masked inversion from K starts in one batch, ranked by how well each fits the known pixels.

The mask makes the problem underdetermined: many latents match the pixels outside it and differ inside, so K
starts give K plausible completions (BRGM, Marinescu et al. 2020, samples the same posterior). ``inpaint`` is a
job (``core.jobs``): it yields the inversion's :class:`InversionStep` records (``start_losses`` [K] is each
candidate's loss, ``preview`` [K, R, R, 3] its image every ``preview_every`` steps, so a gallery can fill live;
index k is start k) and returns an :class:`InpaintResult` whose arrays are ranked best fit first.

"More like this" restarts from ``starts_like(chosen latent)``; "More different" runs ``more_different(config)``
(the next K seeds, never the ones already shown).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Generator as Job
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.device import from_uint8_hwc, seeded_generator
from core.errors import InvalidInputError
from core.generators import Generator
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.inversion.config import INVERSE_PRIOR
from core.jobs import CancelToken
from core.metrics import psnr
from core.objectives import LossWeights
from core.objectives.operators import Mask
from core.objectives.perceptual import perceptual_loss, unavailable_reason
from core.objectives.pixel import pixel_loss, weighted_mean

__all__ = ["DEFAULT_PRIOR", "MAX_CPU_CANDIDATES", "InpaintConfig", "InpaintResult", "blur_fill",
           "diversity", "inpaint", "more_different", "starts_like"]

DEFAULT_PRIOR = INVERSE_PRIOR  # latent prior weight: 0.01 gave the best masked-region PSNR on held-out faces
MAX_CPU_CANDIDATES = 16  # more starts in one batch make a CPU run too slow to watch
DIVERSITY_NET = "alex"  # LPIPS backbone for the diversity figure (the metric's usual one)


@dataclass(frozen=True)
class InpaintConfig:
    """Settings of one diverse inpainting run; the rest is the direct inversion's measured defaults."""

    candidates: int = 8  # K starts optimised together in one batch (at most 16 on the CPU)
    steps: int = 100  # optimiser updates per candidate
    seed: int = 0  # candidate k starts from seed + k: same seed, same candidates
    lr: float = 0.2  # Adam learning rate (after the plain warm-up steps), as the inversion's default
    warmup_steps: int = 10  # plain gradient-descent steps before Adam, as the inversion's default
    prior: float = DEFAULT_PRIOR  # latent Gaussian prior weight (BRGM): keeps completions realistic
    colinearity: float = 0.0  # BRGM colinearity weight (per-layer latents only; off for a z-only model)
    lpips: float = 0.0  # LPIPS weight on the known pixels (0: pixel loss, what the defaults were tuned with)
    lpips_net: str = "vgg"
    preview_every: int = 10  # candidate images every N steps (and at the first and last)
    space: str | None = None  # latent space (None: the model's default)

    def to_inversion(self) -> InversionConfig:
        """The masked inversion this runs: the direct method, K starts, pixel loss (+ the chosen priors)."""
        loss = LossWeights(pixel=1.0, lpips=self.lpips, prior=self.prior, lpips_net=self.lpips_net,
                           colinearity=self.colinearity)
        return InversionConfig(steps=self.steps, lr=self.lr, warmup_steps=self.warmup_steps,
                               starts=self.candidates, seed=self.seed, space=self.space,
                               preview_every=self.preview_every, loss=loss)

    def validate(self, device: torch.device | None = None) -> None:
        """Refuse a setting out of range (on the CPU, more than ``MAX_CPU_CANDIDATES`` candidates too)."""
        if not 1 <= self.candidates <= 64:
            raise InvalidInputError(f"The number of candidates must be between 1 and 64 (got {self.candidates}).")
        if device is not None and device.type == "cpu" and self.candidates > MAX_CPU_CANDIDATES:
            raise InvalidInputError(f"At most {MAX_CPU_CANDIDATES} candidates run on the CPU in one batch "
                                    f"(asked for {self.candidates}); ask for fewer, or use a GPU.")
        self.to_inversion().validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InpaintConfig:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidInputError(f"Unknown inpainting settings: {', '.join(sorted(unknown))}.")
        return cls(**data)


@dataclass
class InpaintResult:
    """K candidates ranked by fit (index 0 = best), the diversity figure and how the run went."""

    candidates: np.ndarray  # uint8 [K, R, R, 3] raw generator images, best fit first
    latents: np.ndarray  # [K, *shape] in the same order
    fit: np.ndarray  # [K] pixel MSE on the known pixels ([-1, 1] scale), ascending
    fit_psnr: np.ndarray  # [K] PSNR (dB) of the known pixels
    order: np.ndarray  # [K] start index of each ranked candidate (the gallery's live index)
    diversity: float  # mean pairwise distance inside the mask
    diversity_metric: str  # "lpips_alex" (its shipped weights intact) or "pixel_rmse" (on the [0, 1] scale)
    timings: dict[str, float]  # seconds: invert, rank, diversity, total
    inversion: InversionResult  # the underlying run: history, config, warnings, cancelled
    warnings: list[str] = field(default_factory=list)

    @property
    def best_latent(self) -> np.ndarray:
        return self.latents[0]

    @property
    def best_image(self) -> np.ndarray:
        return self.candidates[0]

    @property
    def cancelled(self) -> bool:
        return self.inversion.cancelled

    def summary(self) -> dict[str, Any]:
        """JSON-ready ranking, fit, diversity and timings (everything but the arrays)."""
        ranked = [{"rank": r, "start": int(s), "fit_mse": round(float(f), 6), "fit_psnr": round(float(p), 3)}
                  for r, (s, f, p) in enumerate(zip(self.order, self.fit, self.fit_psnr, strict=True))]
        return {"candidates": ranked, "ranking": [int(s) for s in self.order],
                "diversity": {"value": round(self.diversity, 5), "metric": self.diversity_metric},
                "timings": {k: round(v, 4) for k, v in self.timings.items()},
                "steps_done": self.inversion.steps_done, "cancelled": self.cancelled,
                "uses_lpips": self.inversion.uses_lpips, "warnings": list(self.warnings)}


def inpaint(G: Generator, target: torch.Tensor, mask: torch.Tensor | np.ndarray, config: InpaintConfig | None = None,
            start: np.ndarray | torch.Tensor | None = None, cancel: CancelToken | None = None
            ) -> Job[InversionStep, None, InpaintResult]:
    """Fill ``mask`` [R, R] (float in [0, 1], 1 = fill; e.g. ``crop_and_resize_mask``'s output) of ``target``
    [1, 3, R, R] in [-1, 1] (e.g. ``from_uint8_hwc(crop_and_resize(...))``) with K candidates.

    The loss sees only the known pixels; ``start`` [K, *shape] replaces the seeded starts (``starts_like``).
    """
    config = config or InpaintConfig()
    config.validate(G.device)
    began = time.perf_counter()
    mask = _check_mask(G, mask)
    start_t = None if start is None else torch.as_tensor(np.asarray(start, dtype=np.float32))
    result = yield from invert(G, target, config.to_inversion(), mask, cancel, start_t)
    inverted = time.perf_counter()
    images = from_uint8_hwc(result.images, G.device)  # [K, 3, R, R], what the user will see
    target = target.to(G.device, torch.float32)
    keep = Mask(mask).weights(None)  # [1, 1, R, R]
    with torch.no_grad():
        fit = pixel_loss(images, target, keep).cpu().numpy()
        fit_psnr = psnr(images, target.expand_as(images), keep).cpu().numpy()
    order = np.argsort(fit, kind="stable")
    ranked = time.perf_counter()
    spread, metric = diversity(images, mask)
    done = time.perf_counter()
    timings = {"invert": inverted - began, "rank": ranked - inverted, "diversity": done - ranked, "total": done - began}
    return InpaintResult(result.images[order], result.latents[order], fit[order], fit_psnr[order], order, spread,
                         metric, timings, result, list(result.warnings))


def _check_mask(G: Generator, mask: torch.Tensor | np.ndarray) -> torch.Tensor:
    mask = torch.as_tensor(np.asarray(mask, dtype=np.float32)) if isinstance(mask, np.ndarray) else mask
    size = (G.resolution, G.resolution)
    if tuple(mask.shape) != size:
        raise InvalidInputError(f"The inpainting mask must be {size[0]}×{size[1]} (got {tuple(mask.shape)}).")
    mask = mask.to(G.device, torch.float32).clamp(0, 1)
    if not bool(torch.isfinite(mask).all()):
        raise InvalidInputError("The mask contains NaN or infinite values; repaint it.")
    if float(mask.max()) <= 0:
        raise InvalidInputError("The mask marks no pixel to fill; paint the region to replace first.")
    return mask


@torch.no_grad()
def diversity(images: torch.Tensor, mask: torch.Tensor) -> tuple[float, str]:
    """Mean pairwise distance between ``images`` [K, 3, R, R] inside ``mask`` [R, R] (weights in [0, 1]).

    LPIPS (AlexNet, its spatial map weighted by the mask) when its shipped weights are intact, else the RMSE of
    the pixels on the [0, 1] scale; the second value says which, since the two are not comparable. One image: 0.
    """
    pairs = list(itertools.combinations(range(images.shape[0]), 2))
    use_lpips = unavailable_reason(DIVERSITY_NET) is None
    metric = f"lpips_{DIVERSITY_NET}" if use_lpips else "pixel_rmse"
    if not pairs:
        return 0.0, metric
    a, b = images[[i for i, _ in pairs]], images[[j for _, j in pairs]]
    weights = mask.reshape(1, 1, *mask.shape[-2:]).to(images.device, torch.float32)
    if use_lpips:
        distances = perceptual_loss(DIVERSITY_NET, images.device)(a.float(), b.float(), weights)
    else:
        distances = weighted_mean(((a - b) / 2).square(), weights).sqrt()
    return float(distances.mean()), metric


def starts_like(G: Generator, latent: np.ndarray | torch.Tensor, count: int, sigma: float = 0.5, seed: int = 0,
                space: str | None = None, keep_chosen: bool = False) -> np.ndarray:
    """"More like this": ``count`` starts latent + σ·std·N(0, I), float32 [count, *shape] (seeded, reproducible).

    σ is in units of the latent's own spread (the space's std), so 0.5 means "half a typical deviation".
    ``keep_chosen`` makes start 0 the chosen latent itself, so the favourite stays (refined) in the new gallery.
    """
    shape = G.space(space).shape
    base = np.asarray(latent, dtype=np.float32).reshape(-1, *shape)[0]  # [*shape]
    if not (np.isfinite(sigma) and sigma >= 0) or not 1 <= count <= 64:
        raise InvalidInputError(f"'More like this' needs σ ≥ 0 and 1…64 starts (got σ={sigma}, {count}).")
    std = G.latent_stats(space)[1].cpu().numpy()
    noise = torch.randn((count, *shape), generator=seeded_generator(seed)).numpy()
    if keep_chosen:
        noise[0] = 0.0
    return (base[None] + sigma * std[None] * noise).astype(np.float32)


def more_different(config: InpaintConfig) -> InpaintConfig:
    """"More different": the next K seeds, none of which was among this run's starts."""
    return replace(config, seed=config.seed + config.candidates)


@torch.no_grad()
def blur_fill(image: torch.Tensor, mask: torch.Tensor, sigmas: tuple[float, ...] = (1, 2, 4, 8, 16, 32)
              ) -> torch.Tensor:
    """The plain baseline a candidate must beat: each masked pixel becomes a Gaussian-weighted mean of the known
    pixels (normalised convolution), with the smallest σ whose window holds enough of them. [N, 3, R, R]."""
    keep = 1.0 - mask.reshape(1, 1, *mask.shape[-2:]).to(image.device, image.dtype).clamp(0, 1)
    mean = (image * keep).sum(dim=(2, 3), keepdim=True) / keep.sum(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    filled = mean.expand_as(image)  # the known pixels' mean colour, where no window reaches a known pixel
    todo = torch.ones_like(keep, dtype=torch.bool)
    for sigma in sigmas:
        radius = int(3 * sigma)
        taps = torch.exp(-torch.arange(-radius, radius + 1, dtype=image.dtype).square() / (2 * sigma * sigma))
        taps = (taps / taps.sum()).to(image.device)

        def blur(x: torch.Tensor, taps: torch.Tensor = taps, radius: int = radius) -> torch.Tensor:
            c = x.shape[1]
            x = F.conv2d(F.pad(x, (0, 0, radius, radius)), taps.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
            return F.conv2d(F.pad(x, (radius, radius, 0, 0)), taps.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)

        support = blur(keep)
        estimate = blur(image * keep) / support.clamp_min(1e-6)
        ready = todo & (support > 0.1)
        filled = torch.where(ready, estimate, filled)
        todo = todo & ~ready
    return keep * image + (1 - keep) * filled

