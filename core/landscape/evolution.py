"""Antithetic evolution strategies for the few of θ's numbers that backpropagation through the unrolled steps
cannot tune: the gradient of the mean PSNR after 10 steps with respect to where descents start grew from 3 to 10⁵
in four steps on the shipped θ (the steps are chaotic in their start), while what they reach is smooth once
averaged over faces and over a neighbourhood. Each step scores v + σ·d and v − σ·d for a few random d, paired on
the same fresh training faces and start draws, and moves v by a fixed stride along Σ (PSNR₊ − PSNR₋)·d."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

import torch

from core.device import seeded_generator
from core.generators import Generator
from core.landscape.learning import descent_losses, target_starts
from core.theta import LandscapeMapping

# (targets [N, 3, R, R], start draws [N, D], the numbers tried) → PSNR per face [N]
Score = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Evolution:
    steps: int = 12  # evolution steps
    pairs: int = 12  # antithetic pairs v ± σ·d each step scores
    faces: int = 64  # fresh training faces per step (each pair is scored on the same ones)
    sigma: float = 0.5  # σ: the probes' scale (× a standard-normal draw)
    stride: float = 2.0  # how far each step moves v (along the estimated gradient's direction)


def evolve(G: Generator, score: Score, vector: torch.Tensor, plan: Evolution, *, dims: int, first_seed: int,
           draws: torch.Generator) -> torch.Tensor:
    """``vector`` after ``plan.steps`` steps; step k scores on the faces of seeds ``first_seed + k·plan.faces``."""
    moved = vector.clone()
    for k in range(plan.steps):
        targets, eps = drawn_faces(G, first_seed + k * plan.faces, plan.faces, dims)
        probes = torch.randn(plan.pairs, vector.numel(), generator=draws).to(G.device)
        rises = torch.stack([(score(targets, eps, moved + plan.sigma * d)
                              - score(targets, eps, moved - plan.sigma * d)).mean() for d in probes])
        slope = (rises[:, None] * probes).mean(0)
        moved = moved + plan.stride * slope / slope.norm().clamp_min(1e-12)
    return moved


def gain_on_check_faces(G: Generator, score: Score, moved: torch.Tensor, before: torch.Tensor, *, dims: int,
                        seed: int, n: int) -> torch.Tensor:
    """PSNR gain per face [n] of ``moved`` over ``before`` on ``n`` faces from ``seed`` that no evolution step
    used: a refinement is kept only when it is ahead there (the steps' own faces flatter it)."""
    targets, eps = drawn_faces(G, seed, n, dims)
    return score(targets, eps, moved) - score(targets, eps, before)


def psnr_after_horizon(G: Generator, theta: LandscapeMapping, targets: torch.Tensor, eps: torch.Tensor
                       ) -> torch.Tensor:
    """PSNR per face [N] after θ's horizon of steps from its starts for the draws ``eps`` (leaned towards the
    encoder's guess of each target when θ's starts are)."""
    losses = descent_losses(G, theta, target_starts(G, theta, eps, targets), targets, theta.config.horizon,
                            graph=False)
    return 10 * torch.log10(4 / losses[-1].detach().clamp_min(1e-10))


def drawn_faces(G: Generator, seed: int, n: int, dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` generated training faces and their start draws [n, dims], from ``seed``."""
    with torch.no_grad():
        targets = G.synthesize(G.sample_latent(n, seed))
    eps = torch.randn(n, dims, generator=seeded_generator(seed + 1)).to(G.device)
    return targets, eps


def mean_se(values: torch.Tensor) -> dict[str, float]:
    spread = statistics.stdev(values.tolist()) / len(values) ** 0.5
    return {"mean": round(float(values.mean()), 3), "se": round(spread, 3)}
