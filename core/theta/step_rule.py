"""θ's descent step in Z: heavy ball with θ's step size and momentum, per step when θ learned a schedule, and per
face when θ learned to adapt them (``MappingConfig.adaptive``).

One function serves the trainer's unrolled loop and the landscape method's optimiser, so the method takes
exactly the steps θ was trained on. v ← μ·v + ∇ (v = ∇ at the first step, as torch's SGD), then z ← z − η·v.
An adaptive θ scales η and shifts μ for each face from what the step can see for free — how far its gradient
norm fell since the first step and since the last one, and the cosine between the gradient and the velocity —
through a small network whose last layer starts at zero, so an untrained adaptive θ steps exactly as its
schedule does. (A per-face step chosen on the true loss was worth +0.9 dB after 10 steps: docs/landscape.md.)
A loss-aware θ (``MappingConfig.loss_aware``) also sees how far each face's loss fell since the first step and
since the last one: the loss comes with the gradient at no cost, and says directly whether the last step helped.
A steering θ (``MappingConfig.steer``) also bends each step: a network reads the step's gradient and velocity
directions (unit vectors, so faces of any loss level look alike), the step features and which step it is, and
adds a correction of its own direction to the velocity, scaled by the velocity's norm — a learned optimiser
layer per step in the spirit of LISTA, position-dependent because the gradient is. Its last layer starts at
zero, so an untrained steering θ steps as its recipe does; it costs one small matrix product a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from core.theta.mapping import LandscapeMapping

FEATURES = 3  # log ‖∇‖/‖∇₀‖, log ‖∇‖/‖∇ₜ₋₁‖, cos(∇, v)
LOSS_FEATURES = 2  # log L/L₀, log L/Lₜ₋₁ (a loss-aware θ)
MAX_MOMENTUM = 0.99  # a learned μ is held below this: at 1 the velocity never forgets and descent cannot settle


def step_features(grad: torch.Tensor, memory: dict[str, Any], loss: torch.Tensor | None = None) -> torch.Tensor:
    """[N, FEATURES] for ``grad`` [N, D], from the ``memory`` of the earlier steps (zeros at the first); with each
    face's ``loss`` [N] at this point, [N, FEATURES + LOSS_FEATURES]."""
    norm = grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
    first, last, velocity = memory.get("first_norm", norm), memory.get("last_norm", norm), memory.get("velocity")
    cosine = torch.zeros_like(norm) if velocity is None else F.cosine_similarity(grad, velocity, dim=1)[:, None]
    features = [(norm / first).log(), (norm / last).log(), cosine]
    if loss is not None:
        value = loss.detach().reshape(-1, 1).clamp_min(1e-12)
        features += [(value / memory.get("first_loss", value)).log(), (value / memory.get("last_loss", value)).log()]
    return torch.cat(features, dim=1)


def heavy_ball_step(theta: LandscapeMapping, t: int, grad: torch.Tensor, memory: dict[str, Any],
                    loss: torch.Tensor | None = None) -> torch.Tensor:
    """The displacement η·v of descent step ``t`` (0-based) for ``grad`` [N, D]; ``memory`` (a dict kept across
    the steps of one descent) holds the velocity and the gradient norms. ``loss`` [N], each face's loss where
    ``grad`` was taken, is what a loss-aware θ also reads (required by one). Differentiable in θ's parameters."""
    eta, mu = theta.step_at(t), theta.momentum_at(t)
    aware = theta.config.adaptive and theta.config.loss_aware
    if aware and loss is None:
        raise ValueError("A loss-aware θ steps from each face's loss as well as its gradient; none was given.")
    if theta.config.adaptive:
        scale, shift = theta.adaptation(step_features(grad, memory, loss if aware else None))  # [N, 1] each
        eta = eta * scale
        mu = (mu + shift).clamp(0.0, MAX_MOMENTUM)
    velocity = memory.get("velocity")
    bend = steering(theta, t, grad, velocity, memory) if theta.config.steer else None
    velocity = grad if velocity is None else mu * velocity + grad
    norm = grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
    memory.update(velocity=velocity, last_norm=norm, first_norm=memory.get("first_norm", norm))
    if aware and loss is not None:
        value = loss.detach().reshape(-1, 1).clamp_min(1e-12)
        memory.update(last_loss=value, first_loss=memory.get("first_loss", value))
    if bend is not None:  # the correction moves this step only; the velocity remembers the gradients alone
        return eta * (velocity + velocity.norm(dim=1, keepdim=True) * bend)
    return eta * velocity


def steering(theta: LandscapeMapping, t: int, grad: torch.Tensor, velocity: torch.Tensor | None,
             memory: dict[str, Any]) -> torch.Tensor:
    """A steering θ's correction [N, D] to step ``t``'s direction, from the unit gradient, the unit velocity
    before this step (zero at the first), the step features and step t's one-hot code."""
    unit_grad = F.normalize(grad, dim=1)
    unit_velocity = torch.zeros_like(grad) if velocity is None else F.normalize(velocity, dim=1)
    which = grad.new_zeros(len(grad), theta.steer_steps)
    which[:, min(t, theta.steer_steps - 1)] = 1.0
    return theta.steer_net(torch.cat([unit_grad, unit_velocity, step_features(grad, memory), which], dim=1))


def detach_memory(memory: dict[str, Any]) -> None:
    """First-order training: the next step sees the earlier ones as constants."""
    for key, value in memory.items():
        memory[key] = value.detach()
