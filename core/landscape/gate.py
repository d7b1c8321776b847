"""The validation gate: a θ is "ready" only when it beats the untrained identity mapping at 10 and 100 steps.

Measured on held-out generated faces (seeds no training ever draws), with the landscape method exactly as the
product runs it. The identity baseline is measured twice, with the initial and with θ's learned step size, and θ
must beat both, so a θ that only learned a better step size does not pass as a better landscape. A θ that
descends its own way (keep-radius, its own hand-over) must also beat the direct method's default, so a recipe
that only handicaps its identity baseline (a hand-over lr that suits θ's coordinates, not X's) cannot pass.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any

import torch

from core.device import from_uint8_hwc
from core.evaluation import held_out_faces
from core.generators import Generator
from core.inversion import InversionConfig
from core.inversion.optimize import descend
from core.inversion.theta_descent import landscape_descent
from core.jobs import run_job
from core.metrics import psnr
from core.theta import LandscapeMapping, MappingConfig

GATE_BUDGETS = (10, 100)
# how θ descends, beside its mapping
DESCENT_FIELDS = ("momentum", "keep_radius", "handover_beta2", "handover_ramp", "handover_in_z", "handover_lr")


def landscape_psnr(G: Generator, theta: LandscapeMapping, targets: torch.Tensor, steps: int, seed: int = 0
                   ) -> list[float]:
    """PSNR (dB) per target after ``steps`` of landscape descent with ``theta`` (one start per target)."""
    config = InversionConfig(method="landscape", steps=steps, starts=len(targets), seed=seed,
                             preview_every=10_000).with_changes(loss_lpips=0.0)
    result = run_job(descend(G, targets, config, landscape_descent(G, theta, config)))
    return [float(v) for v in psnr(from_uint8_hwc(result.images, G.device), targets)]


def identity_like(theta: LandscapeMapping, step: float, same_descent: bool = True) -> LandscapeMapping:
    """An untrained θ (the identity) with the given step size; a preconditioned θ's baseline has no
    preconditioner (it is fitted to the model, so the gate counts it as part of what θ brings). With
    ``same_descent`` it descends as θ does (keep-radius, hand-over Adam), so only the mapping differs; without, it
    is the direct method's default (plain steps, then Adam as is)."""
    config = replace(theta.config, step=step, preconditioned=False)
    if not same_descent:
        plain = MappingConfig()
        config = replace(config, **{name: getattr(plain, name) for name in DESCENT_FIELDS})
    baseline = LandscapeMapping(config).to(theta.log_step.device)
    if theta.config.standardized:
        baseline.set_frame(theta.x_mean, theta.x_std)  # the same Gaussian start as θ's
    return baseline.requires_grad_(False)


def baselines(theta: LandscapeMapping) -> dict[str, LandscapeMapping]:
    """What θ must beat: the identity with θ's initial and with its learned step, descending as θ does, and, when
    θ descends its own way, the direct method's default."""
    contenders = {"identity_initial_step": identity_like(theta, theta.config.step),
                  "identity_learned_step": identity_like(theta, float(theta.step_size.detach()))}
    default = identity_like(theta, MappingConfig().step, same_descent=False)
    if default.config != contenders["identity_initial_step"].config:
        contenders["direct_default"] = default
    return contenders


def gate(G: Generator, theta: LandscapeMapping, n: int = 32, budgets: tuple[int, ...] = GATE_BUDGETS
         ) -> dict[str, Any]:
    """Mean PSNR of θ and of the baselines at each budget, and whether θ passes (beats every one of them)."""
    targets = held_out_faces(G, n)
    theta = theta.eval().requires_grad_(False)
    contenders = {"theta": theta, **baselines(theta)}
    figures = {name: {str(b): round(statistics.fmean(landscape_psnr(G, m, targets, b)), 3) for b in budgets}
               for name, m in contenders.items()}
    losing = [(name, b) for name in contenders if name != "theta" for b in map(str, budgets)
              if figures["theta"][b] <= figures[name][b]]
    beaten = "the identity mapping and the direct method" if "direct_default" in contenders else "the identity mapping"
    reason = f"beats {beaten} at every budget" if not losing else (
        "does not beat " + ", ".join(f"{name} at {b} steps ({figures['theta'][b]} ≤ {figures[name][b]} dB)"
                                     for name, b in losing))
    return {"n_faces": n, "budgets": list(budgets), "psnr": figures, "passed": not losing, "reason": reason}
