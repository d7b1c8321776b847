"""How much memory training θ needs on a model, and how a run fits it into what the machine has.

The unrolled descent keeps, per face, every step's forward pass and gradient graph until θ's loss flows back
(:mod:`.unrolled`). What one face's step saves is measured, not guessed: the tensors autograd packs for the
backward pass while one step runs (``saved_tensors_hooks``), each storage counted once. From it a run picks the
cheapest way that fits: the whole batch as it is; else each step recomputed in the backward pass; else also the
batch in smaller passes whose gradients are summed (the same gradient, in more passes). When not even one face fits,
training is refused before it starts, with the figures — the process is never left for the system to kill.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import InvalidInputError
from core.generators import Generator
from core.landscape.unrolled import descent_losses
from core.memory import GIB, SAFETY, SHARE, memory_budget, resident, saved_bytes
from core.theta import LandscapeMapping


@dataclass(frozen=True)
class MemoryPlan:
    """How one iteration's batch runs: ``micro_batch`` faces per pass, steps kept or recomputed."""

    micro_batch: int
    checkpointed: bool
    step_bytes: int  # what one face's step saves for the backward pass (measured)
    need_bytes: int  # the plan's estimate of its peak beyond the loaded model
    budget_bytes: int

    def describe(self) -> str:
        how = "steps recomputed in the backward pass" if self.checkpointed else "every step kept"
        return (f"memory: {self.micro_batch} face{'s' if self.micro_batch != 1 else ''} per pass, {how}; "
                f"≈ {self.need_bytes / GIB:.1f} of {self.budget_bytes / GIB:.1f} GiB "
                f"({self.step_bytes / GIB:.2f} GiB a face and step)")


def step_bytes(G: Generator, theta: LandscapeMapping, z: torch.Tensor, target: torch.Tensor) -> int:
    """What one face's descent step saves, second order (its forward pass, its gradient's graph and the next
    point's loss): measured on the first face of ``z`` [N, D] and ``target``."""
    return saved_bytes(lambda: descent_losses(G, theta, z[:1], target[:1], 1, graph=True),
                       loaded=resident(G.net, theta))


def forward_bytes(G: Generator, latent: torch.Tensor) -> int:
    """What one image's forward pass saves for the backward pass: a bound on a forward-mode product's memory."""
    x = latent[:1].detach().clone().requires_grad_(True)
    return saved_bytes(lambda: G.synthesize(x), loaded=resident(G.net))


def plan_memory(*, batch: int, steps: int, unroll: bool, step_size_bytes: int, budget_bytes: int) -> MemoryPlan:
    """The cheapest way to run ``batch`` faces × ``steps`` unrolled steps within ``budget_bytes``."""
    def per_face(checkpointed: bool) -> int:
        return int(step_size_bytes * SAFETY * (1 if checkpointed else steps))  # recomputed: one step's graph

    if batch * per_face(False) <= budget_bytes:
        return MemoryPlan(batch, False, step_size_bytes, batch * per_face(False), budget_bytes)
    checkpointed = unroll  # a first-order run keeps each step's loss graph anyway: only smaller passes help it
    micro = min(batch, budget_bytes // per_face(checkpointed))
    if micro < 1:
        raise InvalidInputError(
            f"Training θ on this model needs about {per_face(checkpointed) / GIB:.1f} GiB for a single face "
            f"({step_size_bytes / GIB:.2f} GiB a face and step{', recomputed' if checkpointed else ''}), but only "
            f"{budget_bytes / GIB:.1f} GiB can be used here ({SHARE:.0%} of the free memory). Close other "
            "programs, train on a machine with more memory or a GPU, or use fewer inner steps.")
    return MemoryPlan(int(micro), checkpointed, step_size_bytes, int(micro * per_face(checkpointed)), budget_bytes)


def jvp_chunk(dims: int, forward_size_bytes: int, budget_bytes: int) -> int:
    """How many Jacobian columns one batched forward-mode pass may compute within ``budget_bytes``."""
    return max(1, min(dims, int(budget_bytes // max(1, int(forward_size_bytes * SAFETY * 2)))))


def plan_for(G: Generator, theta: LandscapeMapping, z: torch.Tensor, target: torch.Tensor, *, steps: int,
             unroll: bool) -> MemoryPlan:
    """The plan for a batch of starts ``z`` and ``target`` on ``G`` within this device's :func:`memory_budget`."""
    return plan_memory(batch=len(z), steps=steps, unroll=unroll, step_size_bytes=step_bytes(G, theta, z, target),
                       budget_bytes=memory_budget(G.device))
