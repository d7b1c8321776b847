"""Checkpoint selection while θ trains: the gate's own test, on faces of their own.

θ's training loss is noisy from one batch to the next and the gate's margins are tenths of a dB, so the last
iterate is a lottery ticket. Every few iterations the trainer scores θ as the gate will (landscape method, 10
and 100 steps) on validation faces that are neither training nor held-out faces, and keeps the best θ. The
score is the smaller of the two margins over the untrained identity: the gate needs both to be positive.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from core.evaluation import validation_faces
from core.generators.base import Generator
from core.landscape.gate import GATE_BUDGETS, identity_like, landscape_psnr
from core.landscape.mapping import LandscapeMapping


@dataclass(frozen=True)
class ValidationSet:
    targets: torch.Tensor  # [n, 3, R, R]
    identity: dict[int, float]  # mean PSNR of the untrained θ per budget

    @classmethod
    def build(cls, G: Generator, theta: LandscapeMapping, n: int) -> ValidationSet:
        targets = validation_faces(G, n)
        baseline = identity_like(theta, theta.config.step)
        return cls(targets, {b: statistics.fmean(landscape_psnr(G, baseline, targets, b)) for b in GATE_BUDGETS})

    def score(self, G: Generator, theta: LandscapeMapping) -> dict[str, float]:
        """Mean PSNR per budget and the smallest margin over the identity (dB; > 0 means θ is ahead at all)."""
        frozen = theta.eval().requires_grad_(False)
        try:
            figures = {b: statistics.fmean(landscape_psnr(G, frozen, self.targets, b)) for b in GATE_BUDGETS}
        finally:
            theta.train().requires_grad_(True)
        margin = min(figures[b] - self.identity[b] for b in GATE_BUDGETS)
        return {**{f"psnr_{b}": round(v, 4) for b, v in figures.items()}, "margin": round(margin, 4)}
