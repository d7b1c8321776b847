"""Pixel reconstruction loss with per-pixel weights (a brushed-out region weighs 0 and does not count)."""

from __future__ import annotations

import torch

from core.errors import InvalidInputError


def weighted_mean(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` [N, C, H, W] over C, H, W per image, each pixel weighted by ``weights`` [N|1, 1, H, W].

    Normalised by the total weight, so a loss means the same thing whatever fraction of the image is masked.
    """
    if weights is None:
        return values.mean(dim=(1, 2, 3))
    total = weights.sum(dim=(1, 2, 3)) * values.shape[1]  # [N|1]
    if bool((total <= 0).any()):
        raise InvalidInputError("The mask hides every pixel, so there is nothing left to compare.")
    return (values * weights).sum(dim=(1, 2, 3)) / total


def pixel_loss(images: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared error per image, [N], on the [-1, 1] scale (MSE on the [0, 1] scale is this / 4)."""
    return weighted_mean((images - target).square(), weights)
