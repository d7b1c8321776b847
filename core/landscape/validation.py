"""Checkpoint selection while θ trains: the gate's own test, on faces of their own.

θ's training loss is noisy from one batch to the next and the gate's margins are tenths of a dB, so the last
iterate is a lottery ticket. Every few iterations the trainer scores θ as the gate will (landscape method, 10
and 100 steps) on validation faces that are neither training nor held-out faces, and keeps the best θ. The
score is the smallest margin over the gate's baselines (the untrained identity, and the direct method's default
for a θ that descends its own way): the gate needs every one to be positive.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from core.evaluation import validation_faces
from core.generators import Generator
from core.landscape.gate import baselines, landscape_psnr, model_gate
from core.theta import LandscapeMapping


@dataclass(frozen=True)
class ValidationSet:
    targets: torch.Tensor  # [n, 3, R, R]
    baseline: dict[int, float]  # per budget, the best mean PSNR of the gate's baselines at θ's initial step

    @classmethod
    def build(cls, G: Generator, theta: LandscapeMapping, n: int) -> ValidationSet:
        targets = validation_faces(G, n)
        contenders = [m for name, m in baselines(theta).items() if name != "identity_learned_step"]
        return cls(targets, {b: max(statistics.fmean(landscape_psnr(G, m, targets, b)) for m in contenders)
                             for b in model_gate(G)})

    def score(self, G: Generator, theta: LandscapeMapping) -> dict[str, float]:
        """Mean PSNR per budget and the smallest margin over the baselines (dB; > 0 means θ is ahead at all)."""
        frozen = theta.eval().requires_grad_(False)
        try:
            figures = {b: statistics.fmean(landscape_psnr(G, frozen, self.targets, b)) for b in self.baseline}
        finally:
            theta.train().requires_grad_(True)
        margin = min(figures[b] - self.baseline[b] for b in self.baseline)
        return {**{f"psnr_{b}": round(v, 4) for b, v in figures.items()}, "margin": round(margin, 4)}
