"""Latent priors: keep a code where the generator was trained, so completions and edits stay realistic."""

from __future__ import annotations

import torch


def gaussian_nll(latent: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of each code under N(mean, std²), per dimension, constants dropped: [N].

    Averaged over dimensions (not summed) so the weight is comparable between a 100-d z and an 18×512 w+.
    A code drawn from the prior scores about 0.5.
    """
    standardized = (latent - mean) / std
    return 0.5 * standardized.square().flatten(1).mean(dim=1)
