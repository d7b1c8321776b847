"""Learning where θ's descents start (``MappingConfig.learned_start``), by search on training faces.

From some starts 10 steps reach better faces than from others: on 96 fresh faces one fixed start beat random
draws by 0.34 ± 0.19 dB, another lost 0.53 ± 0.22. θ's start shift s leans every draw towards such a start
while keeping its radius and its spread (``LandscapeMapping.start``). Gradient descent on s through the
unrolled steps did not find one: its gradient is the faint common part of the faces' gradients, and in a
160-iteration run s random-walked to ‖s‖ ≈ 1 against ‖ε‖ ≈ 10 (docs/landscape.md). A search does: each
candidate direction is scored, paired against the unshifted starts, by the mean PSNR after θ's horizon on
training faces; the best one is then sized on *other* training faces (so the size is not chosen on the faces
that picked the direction), and kept only if it is ahead there. The best of 40 random directions in 100 is a
coarse optimum, so the shift is then refined by antithetic evolution strategies — each step scores s ± σ·d for a
dozen random d, paired on the same fresh faces, and moves s along their PSNR-weighted mean — which follows the
face-averaged, smoothed objective where backpropagated gradients through the 10 steps explode (‖∇‖ grew from
3 to 10⁵ in four steps on the shipped θ). The refined shift is kept only if it is ahead of the unrefined one on
faces neither stage used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from core.device import seeded_generator
from core.evaluation import TRAIN_SEED_LIMIT
from core.generators import Generator
from core.landscape.evolution import (
    Evolution,
    drawn_faces,
    evolve,
    gain_on_check_faces,
    mean_se,
    psnr_after_horizon,
)
from core.theta import LandscapeMapping

CHOOSING_SCALE = 2.0  # the size at which the candidate directions are scored (× a standard-normal draw, ‖·‖ ≈ √D)
# sizes then tried for the chosen direction: no larger than 2, because a larger shift bunches every face's start
# near one point (at 4, within ≈ 14° of it), and Adam's steps after θ's horizon then lose what the spread of
# starts gives them (a size of 4 was +0.26 ± 0.06 dB at 10 steps and −0.61 ± 0.26 at 100: docs/landscape.md)
SCALES = (1.0, 1.5, 2.0)
FIRST_FACES_SEED = TRAIN_SEED_LIMIT // 2  # training seeds, away from those the trainer's first iterations draw
REFINE_FACES_SEED = FIRST_FACES_SEED + TRAIN_SEED_LIMIT // 4  # the refinement's faces: 10⁶ seeds per search seed


@dataclass(frozen=True)
class StartSearch:
    candidates: int = 40  # random directions scored
    faces: int = 128  # training faces per scoring (the paired SE is then ≈ 0.1 dB)
    seed: int = 0
    refine_steps: int = 12  # evolution-strategy steps after the search (0: the searched shift as it is)
    refine_pairs: int = 12  # antithetic pairs s ± σ·d each step scores
    refine_faces: int = 64  # fresh training faces per refinement step (each pair is scored on the same ones)
    refine_sigma: float = 0.5  # σ: the probes' scale (× a standard-normal draw, ‖σ·d‖ ≈ 5 against ‖s‖ ≈ 20)
    refine_stride: float = 2.0  # how far each step moves s (along the estimated gradient's direction)


def _psnr_after_horizon(G: Generator, theta: LandscapeMapping, targets: torch.Tensor, eps: torch.Tensor,
                        shift: torch.Tensor) -> torch.Tensor:
    """PSNR per face [N] after θ's horizon of steps, from the draws ``eps`` leaned by ``shift`` [D]."""
    with torch.no_grad():
        theta.start_shift.copy_(shift)
    return psnr_after_horizon(G, theta, targets, eps)


def _faces(G: Generator, search: StartSearch, which: int, dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Training targets and start draws [N, dims] of scoring set ``which`` (0: choosing the direction, 1: its
    size)."""
    return drawn_faces(G, FIRST_FACES_SEED + (search.seed * 2 + which) * search.faces, search.faces, dims)


def refine_start(G: Generator, theta: LandscapeMapping, shift: torch.Tensor, search: StartSearch
                 ) -> tuple[torch.Tensor, dict[str, Any]]:
    """``shift`` refined by ``search.refine_steps`` antithetic evolution-strategy steps, or ``shift`` itself
    when the refined one is not ahead on check faces (θ's start shift is left at it); and the record of what was
    done."""
    dims, region = shift.numel(), REFINE_FACES_SEED + search.seed * 1_000_000
    plan = Evolution(search.refine_steps, search.refine_pairs, search.refine_faces, search.refine_sigma,
                     search.refine_stride)
    def score(targets: torch.Tensor, eps: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _psnr_after_horizon(G, theta, targets, eps, v)

    refined = evolve(G, score, shift, plan, dims=dims, first_seed=region, draws=seeded_generator(search.seed + 11))
    gain = gain_on_check_faces(G, score, refined, shift, dims=dims, seed=region + 500_000, n=search.faces)
    kept = float(gain.mean()) > 0
    record = {"steps": search.refine_steps, "pairs": search.refine_pairs, "faces": search.refine_faces,
              "sigma": search.refine_sigma, "stride": search.refine_stride, "kept": kept,
              "check_gain_db": mean_se(gain), "moved": round(float((refined - shift).norm()), 3)}
    chosen = refined if kept else shift
    with torch.no_grad():
        theta.start_shift.copy_(chosen)
    return chosen, record


def search_start(G: Generator, theta: LandscapeMapping, search: StartSearch = StartSearch()) -> dict[str, Any]:
    """Set ``theta``'s start shift to the best of ``search.candidates`` random directions at the best of
    ``SCALES`` (or leave it at zero when none is ahead), and return what was found (for θ's metadata)."""
    if not theta.config.learned_start:
        raise ValueError("This θ has no learned start to search for.")
    theta.requires_grad_(False)
    began = time.perf_counter()
    dims = theta.config.z_dim
    zero = torch.zeros(dims, device=G.device)
    targets, eps = _faces(G, search, 0, dims)
    base = _psnr_after_horizon(G, theta, targets, eps, zero)
    directions = torch.randn(search.candidates, dims, generator=seeded_generator(search.seed + 7)).to(G.device)
    gains = [float((_psnr_after_horizon(G, theta, targets, eps, CHOOSING_SCALE * d) - base).mean())
             for d in directions]
    chosen = max(range(len(gains)), key=gains.__getitem__)
    targets, eps = _faces(G, search, 1, dims)
    base = _psnr_after_horizon(G, theta, targets, eps, zero)
    sized = {s: _psnr_after_horizon(G, theta, targets, eps, s * directions[chosen]) - base for s in SCALES}
    scale = max(SCALES, key=lambda s: float(sized[s].mean()))
    gain = sized[scale]
    kept = float(gain.mean()) > 0
    shift = scale * directions[chosen] if kept else zero
    found: dict[str, Any] = {
        "candidates": search.candidates, "faces": search.faces, "seed": search.seed, "direction": chosen,
        "scale": scale if kept else 0.0, "kept": kept, "choosing_gain_db": round(gains[chosen], 3),
        "sizing_gain_db": mean_se(gain), "sizes_db": {str(s): round(float(v.mean()), 3) for s, v in sized.items()}}
    if search.refine_steps > 0:
        shift, found["refined"] = refine_start(G, theta, shift, search)
    with torch.no_grad():
        theta.start_shift.copy_(shift)
    return {**found, "seconds": round(time.perf_counter() - began, 1)}
