"""Refining θ's learned per-step schedule (its step sizes' offsets and momenta) by evolution strategies after
training (``train-landscape --schedule-refine N``; off by default). Adam tunes them through the unrolled steps on
batches of 32, where the gradient is as noisy as the start's; a smoothed search on fresh faces still finds a
little: on the shipped θ, 10 steps of 12 pairs gained +0.10 ± 0.02 dB at 10 steps on 512 fresh generated faces —
and lost 0.56 ± 0.17 dB at 100 steps on the 6 real photos, so it is an option, not the default
(docs/landscape.md). The refined schedule is kept only if it is ahead of the trained one on check faces neither
stage used."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from core.device import seeded_generator
from core.evaluation import TRAIN_SEED_LIMIT
from core.generators import Generator
from core.landscape.evolution import Evolution, evolve, gain_on_check_faces, mean_se, psnr_after_horizon
from core.landscape.start_search import REFINE_FACES_SEED
from core.theta import LandscapeMapping

SCHEDULE_FACES_SEED = REFINE_FACES_SEED + TRAIN_SEED_LIMIT // 8  # 10⁶ seeds per refinement seed, after the start's


@dataclass(frozen=True)
class ScheduleRefinement:
    steps: int = 10  # evolution steps (0: the trained schedule as it is)
    faces: int = 64  # fresh training faces per step
    check_faces: int = 128  # faces the refined schedule must be ahead on to be kept
    seed: int = 0


def _vector(theta: LandscapeMapping) -> torch.Tensor:
    return torch.cat([theta.step_offsets.detach(), theta.momenta.detach()]).clone()


def _put(theta: LandscapeMapping, vector: torch.Tensor) -> None:
    n = theta.step_offsets.numel()
    with torch.no_grad():
        theta.step_offsets.copy_(vector[:n])
        theta.momenta.copy_(vector[n:])


def refine_schedule(G: Generator, theta: LandscapeMapping, refinement: ScheduleRefinement = ScheduleRefinement()
                    ) -> dict[str, Any]:
    """Set ``theta``'s schedule to its refinement when that is ahead on check faces; return the record (for θ's
    metadata). σ 0.05 and stride 0.05: the offsets are log step sizes near ±0.3, the momenta near 0.8."""
    if not theta.config.schedule:
        raise ValueError("This θ has no learned schedule to refine.")
    theta.requires_grad_(False)
    began = time.perf_counter()
    dims, region = theta.config.z_dim, SCHEDULE_FACES_SEED + refinement.seed * 1_000_000
    trained = _vector(theta)

    def score(targets: torch.Tensor, eps: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
        _put(theta, vector)
        return psnr_after_horizon(G, theta, targets, eps)

    plan = Evolution(steps=refinement.steps, pairs=12, faces=refinement.faces, sigma=0.05, stride=0.05)
    refined = evolve(G, score, trained, plan, dims=dims, first_seed=region,
                     draws=seeded_generator(refinement.seed + 13))
    gain = gain_on_check_faces(G, score, refined, trained, dims=dims, seed=region + 500_000,
                               n=refinement.check_faces)
    kept = float(gain.mean()) > 0
    _put(theta, refined if kept else trained)
    return {"steps": refinement.steps, "pairs": plan.pairs, "faces": refinement.faces, "sigma": plan.sigma,
            "stride": plan.stride, "kept": kept, "check_gain_db": mean_se(gain),
            "moved": round(float((refined - trained).norm()), 4), "seconds": round(time.perf_counter() - began, 1)}
