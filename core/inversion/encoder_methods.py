"""The encoder-based methods: "encoder" (one forward pass) and "hybrid" (encoder start, then optimisation).

"encoder" returns x = E(y): no optimisation, ~1 ms. "hybrid" (in-domain inversion, Zhu et al. 2020) starts the
landscape method (in θ's space Z, from θ's preimage of E(y), moved out to the radius of θ's prior starts) where
the model has a ready θ, or the direct method, at E(y), so optimisation begins near the answer instead of at a
random face (``refine``: "auto" picks as said).
With ``consistency`` > 0 the loss adds idinvert's encoder term λ·‖x − E(G(x))‖² (per-dimension mean), which keeps
the latent where the encoder, i.e. the generator's own domain, can reach it.
With K starts, start 0 is E(y) and start k > 0 is E(y) plus seeded Gaussian noise of half the latent std, so
"more like this" and inpainting still get different answers. A masked photo is shown to the encoder with the
brushed-out pixels replaced by the mean colour of the known ones (the encoder never saw brush strokes).
When the model has no encoder, both methods fall back to the direct method with a visible warning. An encoder
predicts codes of the space it was trained for (the model's default, e.g. StyleGAN's w); for another space
(w+) its codes are converted by the generator (``G.convert_latent``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Generator as Job

import torch

from core.device import seeded_generator
from core.errors import InvalidInputError, ModelLoadError
from core.generators import Generator
from core.inversion.config import InversionConfig
from core.inversion.encoder import LatentEncoder, find_encoder
from core.inversion.optimize import (
    Descent,
    InversionResult,
    InversionStep,
    descend,
    direct_descent,
    invert_direct_instead,
)
from core.jobs import CancelToken

log = logging.getLogger(__name__)
START_SPREAD = 0.5  # noise of starts k > 0, × the latent std
Encode = Callable[[torch.Tensor], torch.Tensor]  # images [N, 3, R, R] → latents [N, *shape] of the run's space


def encoder_view(target: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The target as the encoder should see it: masked pixels (mask 1) replaced by the known pixels' mean colour."""
    if mask is None:
        return target
    known = 1.0 - mask.to(target).reshape(-1, 1, *target.shape[-2:])  # [1|K, 1, R, R]
    weight = known.sum(dim=(2, 3), keepdim=True).clamp_min(1.0)
    mean = (target * known).sum(dim=(2, 3), keepdim=True) / weight  # [N, 3, 1, 1]
    return target * known + mean * (1.0 - known)


@torch.no_grad()
def encoder_starts(G: Generator, encoder: Encode, target: torch.Tensor, config: InversionConfig,
                   mask: torch.Tensor | None) -> torch.Tensor:
    """K starts [K, *shape]: E(y) for start 0 (or per target), seeded spread around it for the others."""
    latent = encoder(encoder_view(target.to(G.device, torch.float32), mask))  # [1|K, *shape]
    latent = latent.expand(config.starts, *latent.shape[1:]).clone()
    std = G.latent_stats(config.space)[1]
    for k in range(1, config.starts):
        noise = torch.randn(latent.shape[1:], generator=seeded_generator(config.seed + k)).to(G.device)
        latent[k] += START_SPREAD * std * noise
    return latent


def consistency_term(encoder: Encode, weight: float):
    """idinvert's (latent, images) → ("consistency", λ·mean((x − E(G(x)))²)) per image."""
    def term(latent: torch.Tensor, images: torch.Tensor) -> tuple[str, torch.Tensor]:
        return "consistency", weight * (latent - encoder(images)).square().flatten(1).mean(dim=1)
    return term


def _encoder_or_fallback(G: Generator, config: InversionConfig) -> Encode | str:
    """E in the run's space, or the reason there is none (the fallback's warning)."""
    try:
        encoder, meta = find_encoder(G, config.encoder)
        return in_space(G, encoder, meta.get("space") or G.default_space, config.space or G.default_space)
    except ModelLoadError as exc:
        return f"{exc} Used the direct method instead."
    except InvalidInputError as exc:
        return f"{exc} The encoder cannot start this run; used the direct method instead."


def in_space(G: Generator, encoder: LatentEncoder, source: str, target: str) -> Encode:
    """E with its codes of ``source`` converted to ``target`` (E itself when they are the same space)."""
    if source == target:
        return encoder
    G.convert_latent(G.mean_latent(source), source, target)  # refuses an impossible conversion now, not mid-run
    return lambda images: G.convert_latent(encoder(images), source, target)


def invert_encoder(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
                   cancel: CancelToken | None = None) -> Job[InversionStep, None, InversionResult]:
    """x = E(y) in one pass (``config.steps`` is ignored: there is nothing to iterate)."""
    encoder = _encoder_or_fallback(G, config)
    if isinstance(encoder, str):
        return (yield from invert_direct_instead(G, target, config, mask, cancel, encoder))
    one_pass = config.with_changes(steps=0)
    start = encoder_starts(G, encoder, target, one_pass, mask)
    result = yield from descend(G, target, one_pass, direct_descent(G, start, one_pass), mask, cancel)
    result.config = config
    return result


def invert_hybrid(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
                  cancel: CancelToken | None = None) -> Job[InversionStep, None, InversionResult]:
    """E(y), then ``config.steps`` of the ``config.refine`` method from there."""
    encoder = _encoder_or_fallback(G, config)
    if isinstance(encoder, str):
        return (yield from invert_direct_instead(G, target, config, mask, cancel, encoder))
    start = encoder_starts(G, encoder, target, config, mask)
    extra = consistency_term(encoder, config.consistency) if config.consistency > 0 else None
    descent, refined_by, warnings = _refine_descent(G, config, start)
    descent.extra = extra
    if descent.then is not None:
        then = descent.then
        descent.then = lambda reached: _with_extra(then(reached), extra)
    result = yield from descend(G, target, config, descent, mask, cancel)
    result.warnings[:0] = warnings
    result.config = config.with_changes(refine=refined_by)  # the report says what ran, not "auto"
    return result


def _with_extra(descent: Descent, extra) -> Descent:
    descent.extra = extra
    return descent


def _refine_descent(G: Generator, config: InversionConfig, start: torch.Tensor
                    ) -> tuple[Descent, str, list[str]]:
    """Direct Adam from ``start``, or landscape descent from the z with θ(z) ≈ start; also the refine method used.

    "landscape" that cannot run says why and refines directly; "auto" refines directly without a word, since
    most models have no θ."""
    if config.refine in ("landscape", "auto"):
        from core.inversion.theta_descent import landscape_descent, start_from
        from core.theta import find_mapping

        try:
            theta, _ = find_mapping(G, config.landscape)
            if (config.space or G.default_space) != G.default_space:
                raise ModelLoadError(f"θ descends in {G.name}'s '{G.default_space}' space, not in the run's "
                                     f"'{config.space}' (a start there has no point z of θ's space).")
            return landscape_descent(G, theta, config, start_from(theta, start)), "landscape", []
        except ModelLoadError as exc:
            said = [] if config.refine == "auto" else [f"{exc} Refined with the direct method instead."]
            return direct_descent(G, start, config), "direct", said
    return direct_descent(G, start, config), "direct", []
