"""The same descent taken twice: by the trainer's unrolled loop and by the landscape method (for tests that check
the two agree)."""

from __future__ import annotations

import numpy as np
import torch

from core.inversion import InversionConfig
from core.inversion.optimize import descend
from core.inversion.theta_descent import landscape_descent
from core.jobs import run_job
from core.landscape.learning import descent_losses
from core.theta.mapping import MappingConfig

STEPS = 3
# a small θ with the shipped θ's kind of descent (keep-radius, a schedule, adaptive steps) over STEPS steps
RECIPE = MappingConfig(width=16, momentum=0.5, keep_radius=True, horizon=STEPS, schedule=True, adaptive=True)


def problem(G) -> tuple[torch.Tensor, torch.Tensor]:
    """2 targets and 2 starts, the same every time."""
    return G.sample(2, 5), torch.randn(2, 100, generator=torch.Generator().manual_seed(4))


def trainer_losses(G, theta) -> torch.Tensor:
    """[STEPS, 2] pixel MSE after each step of the trainer's loop (no graph)."""
    target, eps = problem(G)
    z0 = theta.start(eps)  # θ's own starts (ε itself for a plain θ of X's width)
    return torch.stack(descent_losses(G, theta.requires_grad_(False), z0, target, steps=STEPS, graph=False))


def method_losses(G, theta) -> torch.Tensor:
    """[STEPS, 2] pixel MSE per start after each step of the landscape method from the same starts."""
    target, eps = problem(G)
    z0 = theta.start(eps)
    config = InversionConfig(method="landscape", steps=STEPS, starts=2, preview_every=1000).with_changes(
        loss_lpips=0.0)
    records = []
    run_job(descend(G, target, config, landscape_descent(G, theta, config, z0)), records.append)
    return torch.tensor(np.stack([r.start_losses for r in records[1:]]))
