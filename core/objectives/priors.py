"""Latent priors: keep a code where the generator was trained, so completions and edits stay realistic.

Both follow BRGM (Marinescu et al. 2020), whose inverse problems (inpainting, super-resolution) are
underdetermined: the data term alone lets the latent drift to codes that match the known pixels but make
unrealistic images in the unknown ones.
"""

from __future__ import annotations

import torch


def gaussian_nll(latent: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of each code under N(mean, std²), per dimension, constants dropped: [N].

    Averaged over dimensions (not summed) so the weight is comparable between a 100-d z and an 18×512 w+.
    A code drawn from the prior scores about 0.5.
    """
    standardized = (latent - mean) / std
    return 0.5 * standardized.square().flatten(1).mean(dim=1)


def colinearity(latent: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """1 − mean pairwise cosine similarity between the layers of per-layer latents [N, L, D] → [N] in [0, 2].

    BRGM's colinearity prior: StyleGAN's w+ codes of real images have nearly parallel layers (the mapping network
    gives every layer the same w), so pulling layers together keeps an inversion in that realistic set. It is 0
    when every layer is the same vector (up to length) and positive otherwise. Codes without layers ([N, D],
    a DCGAN's z) or with one layer have nothing to align: the term is 0.
    """
    if latent.dim() != 3 or latent.shape[1] < 2:
        return latent.new_zeros(latent.shape[0])
    layers = latent.shape[1]
    unit = latent / latent.norm(dim=2, keepdim=True).clamp_min(eps)  # [N, L, D]
    gram = unit @ unit.transpose(1, 2)  # [N, L, L] cosine similarities
    mean_off_diagonal = (gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)) / (layers * (layers - 1))
    return 1.0 - mean_off_diagonal
