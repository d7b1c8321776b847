"""θ's unrolled descent: the T steps in Z whose losses θ is trained on, optionally recomputed instead of kept.

Differentiating through T steps (second order) keeps every step's graph — the generator's forward pass and the
graph of its gradient — until θ's loss flows back. On the embedded 64-px model that is megabytes; on a 256-px
working image of a 1024-px model it is gigabytes per face and step (two FFHQ faces × 10 steps exhausted 24 GB).
With ``checkpointed`` each step keeps only its inputs and is run again during the backward pass
(``torch.utils.checkpoint``, non-reentrant, which supports the gradient taken inside the step): memory holds one
step's graph at a time, for about one more forward and gradient per step. The gradients are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.checkpoint import checkpoint

from core.generators import Generator
from core.theta import LandscapeMapping, rescaled_to_radius, theta_latent
from core.theta.step_rule import detach_memory, heavy_ball_step


def mse_per_image(images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (images - target).square().flatten(1).mean(dim=1)  # [N]


def descent_losses(G: Generator, theta: LandscapeMapping, z: torch.Tensor, target: torch.Tensor, steps: int,
                   graph: bool, *, checkpointed: bool = False) -> list[torch.Tensor]:
    """Gradient descent in Z; returns the per-image MSE after each of the ``steps`` updates ([N] each).

    The forward pass that gives the gradient at z_t also gives the loss at z_t, so T steps cost T + 1 forward
    passes; its graph is kept (``retain_graph``) because θ's own loss flows back through it — or, with
    ``checkpointed`` (only meaningful with ``graph``), recomputed when it is needed (see the module). A θ that
    does not require gradients keeps no graph beyond the current step (its losses come back detached).
    """
    losses = []
    # a loss's graph is kept only for θ's own gradient: a frozen θ (a step-size probe, a search) keeps one step's
    keep = graph or any(p.requires_grad for p in theta.parameters())
    memory: dict[str, torch.Tensor] = {}  # velocity and gradient norms (core.theta.step_rule)
    radius = theta.centred(z).norm(dim=1, keepdim=True).detach() if theta.config.keep_radius else None

    def step(t: int, z: torch.Tensor, memory: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor,
                                                                                   dict[str, torch.Tensor]]:
        memory = dict(memory)  # a recomputation must start from the same memory, so this step never edits it
        loss = mse_per_image(G.synthesize(theta_latent(G, theta, z)), target)  # [N], at z_t
        (grad,) = torch.autograd.grad(loss.sum(), z, create_graph=graph, retain_graph=keep)
        z = z - heavy_ball_step(theta, t, grad, memory, loss)  # the method's own step (core.theta.step_rule)
        if radius is not None:  # as the landscape method does after each step in Z
            z = rescaled_to_radius(theta, z, radius)
        return z, loss, memory

    for t in range(steps):
        z = z if z.requires_grad else z.requires_grad_(True)
        if checkpointed and graph:
            out: Any = checkpoint(step, t, z, memory, use_reentrant=False)
            z, loss, memory = out
        else:
            z, loss, memory = step(t, z, memory)
        if t > 0:
            losses.append(loss if keep else loss.detach())
        if not graph:
            z = z.detach()
            detach_memory(memory)
    losses.append(mse_per_image(G.synthesize(theta_latent(G, theta, z)), target))
    return losses


def backward_in_passes(G: Generator, theta: LandscapeMapping, z: torch.Tensor, target: torch.Tensor, steps: int,
                       graph: bool, objective: Callable[[torch.Tensor], torch.Tensor], *, micro_batch: int,
                       checkpointed: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """θ's loss on the whole batch, back-propagated into θ's ``.grad`` in passes of ``micro_batch`` faces: each
    pass's ``objective`` (a batch mean of its per-step losses [T, n]) weighted by its share of the batch, so the
    summed gradient is the whole batch's. Returns the per-step losses [T, N] and the loss (both detached)."""
    parts, total = [], z.new_zeros(())
    for first in range(0, len(z), micro_batch):
        rows = slice(first, first + micro_batch)
        per_step = torch.stack(descent_losses(G, theta, z[rows], target[rows], steps, graph,
                                              checkpointed=checkpointed))  # [T, n]
        loss = objective(per_step) * (per_step.shape[1] / len(z))
        loss.backward()
        parts.append(per_step.detach())
        total = total + loss.detach()
    return torch.cat(parts, dim=1), total
