"""Landscape inversion: gradient descent in the learned space Z, the generator fed x = θ(z).

θ carries the step size and the number of steps (its horizon) it was trained with: the method descends in Z
for those steps, with plain gradient descent as in training, then continues with Adam: on z through θ when θ
says so (``handover_in_z``: a preconditioned θ's coordinates then scale Adam's steps as well), else on
x = θ(z) as the direct method does.
Starts are z ~ N(0, I), seeded like the direct method's starts. The result's latents are x in the generator's
own space, so edits, inpainting and plots use them unchanged.
When no ready θ exists for the model, the run falls back to the direct method with a visible warning. θ maps
into the model's default space (StyleGAN's w); a run in another space (w+) gets θ's codes converted by the
generator, and one in a space θ's codes cannot be turned into (w → z) falls back to the direct method too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator as Job

import torch

from core.device import seeded_generator
from core.errors import InvalidInputError, ModelLoadError
from core.generators import Generator
from core.inversion.config import InversionConfig
from core.inversion.encoder_start import encoded_targets
from core.inversion.heavy_ball import ThetaSteps
from core.inversion.optimize import (
    Descent,
    InversionResult,
    InversionStep,
    descend,
    direct_descent,
    invert_direct_instead,
)
from core.jobs import CancelToken
from core.theta import LandscapeMapping, MappingConfig, find_mapping, rescaled_to_radius, theta_latent

log = logging.getLogger(__name__)


def landscape_descent(G: Generator, theta: LandscapeMapping, config: InversionConfig,
                      z: torch.Tensor | None = None, codes: torch.Tensor | None = None) -> Descent:
    """Starts z₀ = θ.start(ε), ε ~ N(0, I) for seeds seed … seed + K - 1, leaned towards the encoder's ``codes``
    [1|K, *shape] of the targets when given (:func:`blended_start`), or the given ``z`` [K, z_dim];
    descent in Z (with θ's momentum) at θ's step size (or θ's learned steps) for the ``horizon`` steps θ was
    trained for, then Adam (θ
    was never trained for later steps, where plain steps are slow): on z (:func:`adam_in_z`) or on x = θ(z)
    (:func:`handover_descent`), as θ's config says."""
    z_dim = theta.config.z_dim
    if z is None:
        z = theta.start(torch.stack([torch.randn(z_dim, generator=seeded_generator(config.seed + i))
                                     for i in range(config.starts)]).to(G.device))
        if codes is not None:
            z = blended_start(theta, z, codes)
    z = z.detach().to(G.device).clone().requires_grad_(True)  # [K, z_dim]
    step = float(theta.step_size.detach())
    after_step = None
    if theta.config.keep_radius:
        with torch.no_grad():
            radius = theta.centred(z).norm(dim=1, keepdim=True)  # [K, 1]

        def after_step(p: torch.Tensor) -> None:
            p.copy_(rescaled_to_radius(theta, p, radius))

    if theta.config.handover_in_z:
        def then(x: torch.Tensor) -> Descent:  # x unused: Adam goes on from z
            return adam_in_z(G, theta, z.detach(), config)
    else:
        def then(x: torch.Tensor) -> Descent:
            return handover_descent(G, x, config, theta.config)

    plain: torch.optim.Optimizer = torch.optim.SGD([z], lr=step, momentum=theta.config.momentum)
    if theta.config.schedule or theta.config.adaptive:  # θ learned its steps: take exactly those it was trained on
        plain = ThetaSteps([z], theta, base=step)
    return Descent(z, lambda p: theta_latent(G, theta, p, config.space), plain, step, 1.0,
                   handover=theta.config.horizon, then=then, records_z=True, after_step=after_step)


def _handover_lr(mapping: MappingConfig, config: InversionConfig) -> float:
    return config.lr if mapping.handover_lr is None else mapping.handover_lr


def adam_in_z(G: Generator, theta: LandscapeMapping, z: torch.Tensor, config: InversionConfig) -> Descent:
    """Adam on z from ``z`` [K, z_dim], x = θ(z), with θ's hand-over lr, β₂ and ramp: Adam's per-coordinate steps
    are then taken in θ's coordinates (curvature-scaled for a preconditioned θ), not in the generator's."""
    mapping = theta.config
    lr = _handover_lr(mapping, config)
    z = z.clone().requires_grad_(True)
    return Descent(z, lambda p: theta_latent(G, theta, p, config.space),
                   torch.optim.Adam([z], lr=lr, betas=(0.9, mapping.handover_beta2)), lr, 1.0, records_z=True,
                   ramp=mapping.handover_ramp)


def handover_descent(G: Generator, x: torch.Tensor, config: InversionConfig, mapping: MappingConfig) -> Descent:
    """The direct method's Adam from x, with the lr, β₂ and learning-rate ramp θ names (its defaults: Adam as is)."""
    lr = _handover_lr(mapping, config)
    descent = direct_descent(G, x, config.with_changes(lr=lr))
    if mapping.handover_beta2 != 0.999:
        descent.optimizer = torch.optim.Adam([descent.param], lr=lr, betas=(0.9, mapping.handover_beta2))
    descent.ramp = mapping.handover_ramp
    return descent


@torch.no_grad()
def preimage(theta: LandscapeMapping, x: torch.Tensor, iterations: int = 100) -> torch.Tensor:
    """A z [K, z_dim] with θ(z) ≈ x (codes of θ's space, [K, *shape]), for starting descent in Z at a known latent
    (hybrid's encoder start).

    θ(z) = z + MLP(z) in its unit coordinates u (x itself, or (x − μ) / σ for a standardized θ, then A⁻¹ of that
    for a preconditioned one), so z = u − MLP(z) is a fixed point; iterating it converges when the MLP is a
    contraction, which a θ that starts as the identity and stays near it is. The iterate with the smallest
    residual is kept.
    """
    x = x.flatten(1)  # [K, D]
    u = theta.to_unit(x)
    z = theta.widened(u)  # a wider Z's extra dims stay at zero: its start
    best, best_residual = z.clone(), float("inf")
    for _ in range(iterations):
        residual = float((theta(z) - x).abs().max())
        if residual < best_residual:
            best, best_residual = z.clone(), residual
        if residual < 1e-6:
            break
        z = theta.widened(u - theta.mlp(z))
    return best


def prior_radius(dims: int) -> float:
    """E‖ε‖ for ε ~ N(0, I_dims) (√2·Γ((d+1)/2) / Γ(d/2), ≈ √(d − ½)): the radius θ's own starts have."""
    return math.sqrt(2) * math.exp(math.lgamma((dims + 1) / 2) - math.lgamma(dims / 2))


def start_from(theta: LandscapeMapping, x: torch.Tensor) -> torch.Tensor:
    """A start z [K, z_dim] for θ's descent at a known latent ``x`` (hybrid's encoder start): for a θ that keeps
    its radius, x is first moved along its own direction (in θ's centred units) to the radius of θ's prior starts;
    then its preimage, so θ(z₀) is that point.

    Why: an encoder regresses towards the mean (on the default model its codes have ‖·‖ ≈ 6, the prior's ≈ 10),
    and keep-radius would hold θ's trained steps at that radius for their whole horizon (docs/landscape.md)."""
    if theta.config.keep_radius:
        x = x.flatten(1)
        u = (x - theta.x_mean) / theta.x_std if theta.config.standardized else x
        u = u * (prior_radius(theta.config.z_dim) / u.norm(dim=1, keepdim=True).clamp_min(1e-12))
        x = theta.x_mean + theta.x_std * u if theta.config.standardized else u
    return preimage(theta, x)


@torch.no_grad()
def blended_start(theta: LandscapeMapping, z: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Starts ``z`` [K, z_size] leaned towards the encoder's ``codes`` [1|K, *shape] of their targets by θ's
    ``encoder_start`` λ: √(1 − λ²)·z + λ·z_E, z_E θ's start at the codes (:func:`start_from`), so a start keeps
    the prior's radius and, for λ < 1, part of its draw's spread (core.inversion.encoder_start)."""
    weight = float(theta.config.encoder_start)
    toward = start_from(theta, codes.flatten(1).to(z)).expand(len(z), -1)
    return math.sqrt(max(0.0, 1.0 - weight**2)) * z + weight * toward


def check_space(G: Generator, config: InversionConfig) -> None:
    """Refuse (:class:`InvalidInputError`) a run whose space θ's codes (G's default space) cannot be turned into."""
    space = config.space or G.default_space
    if space != G.default_space:
        try:
            G.convert_latent(G.mean_latent(), G.default_space, space)
        except InvalidInputError as exc:
            raise InvalidInputError(f"θ descends in {G.name}'s '{G.default_space}' space; a '{space}' run cannot use "
                                    f"it ({exc})") from exc


def invert_landscape(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
                     cancel: CancelToken | None = None) -> Job[InversionStep, None, InversionResult]:
    try:
        theta, _ = find_mapping(G, config.landscape)
        check_space(G, config)
    except (ModelLoadError, InvalidInputError) as exc:
        reason = f"{exc} Used the direct method instead."
        return (yield from invert_direct_instead(G, target, config, mask, cancel, reason))
    codes, warnings = None, []
    try:
        codes = encoded_targets(G, theta, target, mask, config.encoder)
    except ModelLoadError as exc:
        warnings.append(f"θ starts from the encoder's guess, but: {exc} Its descents started from random draws.")
    result = yield from descend(G, target, config, landscape_descent(G, theta, config, codes=codes), mask, cancel)
    result.warnings[:0] = warnings
    return result
