"""The landscape method's descent in Z as a torch optimiser: exactly θ's own step (``core.theta.step_rule``).

torch's SGD holds one lr and one momentum per parameter group; a θ with a learned per-step schedule
(``MappingConfig.schedule``) or per-face adaptation (``adaptive``) takes the steps its trainer unrolled, so the
optimiser asks θ for each displacement. The group's lr (what the inversion loop sets, from the method's base
step and its schedule) multiplies it as a factor lr / ``base``: 1 under the constant schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from core.theta.mapping import LandscapeMapping
from core.theta.step_rule import heavy_ball_step


class ThetaSteps(torch.optim.Optimizer):
    def __init__(self, params: Iterable[torch.Tensor], theta: LandscapeMapping, *, base: float) -> None:
        super().__init__(params, {"lr": base})
        self.theta, self.base = theta, base
        self.losses: torch.Tensor | None = None  # each start's loss where the gradient was taken (``observe``)

    def observe(self, losses: torch.Tensor) -> None:
        """Each start's loss [K] at the point whose gradient the next :meth:`step` takes (a loss-aware θ reads it)."""
        self.losses = losses.detach()

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                t = state.setdefault("step", 0)
                memory: dict[str, Any] = state.setdefault("memory", {})
                p.sub_(heavy_ball_step(self.theta, t, p.grad, memory, self.losses) * (group["lr"] / self.base))
                state["step"] = t + 1
        return loss
