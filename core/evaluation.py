"""Held-out evaluation targets: generated faces from a seed that nothing in the project ever trains on.

Training code (landscape learning, encoders) draws its latents from seeds below ``TRAIN_SEED_LIMIT``; tests and
benchmarks measure on ``HELD_OUT_SEED``, so a figure never flatters a model with faces it has seen.
"""

from __future__ import annotations

import torch

from core.generators import Generator

TRAIN_SEED_LIMIT = 1_000_000_000  # training seeds are in [0, TRAIN_SEED_LIMIT)
HELD_OUT_SEED = 1_987_654_321  # evaluation faces (never below TRAIN_SEED_LIMIT)


@torch.no_grad()
def held_out_faces(G: Generator, n: int) -> torch.Tensor:
    """Held-out faces ``HELD_OUT_SEED … + n - 1`` of ``G``, [n, 3, R, R] in [-1, 1] (8 of them are a prefix of 32)."""
    return G.sample(n, HELD_OUT_SEED)


VALIDATION_SEED = 1_500_000_000  # model selection while training: outside the training seeds, apart from HELD_OUT


@torch.no_grad()
def validation_faces(G: Generator, n: int) -> torch.Tensor:
    """Faces a trainer may select checkpoints on: never trained on, and not the held-out faces figures use."""
    return G.sample(n, VALIDATION_SEED)
