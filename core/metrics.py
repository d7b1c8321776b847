"""Image quality figures for reconstructions: PSNR and SSIM, per image, on the [0, 1] intensity scale.

Inputs follow the core convention (float NCHW in [-1, 1]); both metrics rescale to [0, 1] first so their numbers
are the ones papers and scikit-image report (data range 1). They are plain torch, differentiable, and run on the
inputs' device; results are computed in at least float32 so half-precision previews still give stable figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from core.errors import InvalidInputError

if TYPE_CHECKING:
    from core.alignment.framing import Framing

SSIM_WINDOW = 11  # Gaussian window size (the standard of Wang et al. 2004, and scikit-image's for sigma 1.5)
SSIM_SIGMA = 1.5  # Gaussian window std, in pixels
SSIM_K1, SSIM_K2 = 0.01, 0.03  # stabilisers: C1 = (K1 * L)^2, C2 = (K2 * L)^2 with data range L = 1


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.dim() != 4 or a.shape != b.shape:
        raise InvalidInputError(
            f"Metrics need two image batches of the same [N, C, H, W] shape, got {tuple(a.shape)} and {tuple(b.shape)}."
        )


def _unit_scale(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] → [0, 1], promoted to float32 at least (float64 stays float64)."""
    x = x if x.dtype == torch.float64 else x.float()
    return (x + 1) / 2


def _check_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Validate a [N or 1, 1, H, W] weight mask against ``like`` and return it as float on ``like``'s device."""
    n, _, h, w = like.shape
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] not in (1, n) or tuple(mask.shape[2:]) != (h, w):
        raise InvalidInputError(
            f"A metric mask must be [N or 1, 1, {h}, {w}] for images of shape {tuple(like.shape)}, "
            f"got {tuple(mask.shape)}."
        )
    weights = mask.to(device=like.device, dtype=like.dtype)
    if bool(((weights < 0) | (weights > 1) | weights.isnan()).any()):
        raise InvalidInputError("Mask weights must lie in [0, 1] (1 = the pixel counts, 0 = ignored).")
    return weights


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Peak signal-to-noise ratio per image, [N] in dB, with data range 1 on the [0, 1] scale.

    ``a`` and ``b`` are [N, C, H, W] in [-1, 1]. ``mask`` ([N or 1, 1, H, W], weights in [0, 1]) restricts the
    mean squared error to the pixels that count, e.g. the known region of an inpainting, where a score over the
    whole image would reward or punish the invented part. Identical images (zero error) give +inf, which is the
    honest limit; callers that average PSNRs should decide how to treat it. A mask with no weight in some image
    raises ``InvalidInputError``, since there is nothing to measure there.
    """
    _check_pair(a, b)
    sq = (_unit_scale(a) - _unit_scale(b)).square().mean(dim=1, keepdim=True)  # [N, 1, H, W]
    if mask is None:
        mse = sq.flatten(1).mean(dim=1)
    else:
        weights = _check_mask(mask, sq).expand_as(sq)
        total = weights.flatten(1).sum(dim=1)  # [N]
        if bool((total <= 0).any()):
            raise InvalidInputError("The PSNR mask selects no pixels in at least one image; paint a region first.")
        mse = (sq * weights).flatten(1).sum(dim=1) / total
    return 10 * torch.log10(1 / mse)


def _gaussian_window(size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Normalised 1-D Gaussian taps, [size] (truncated and renormalised, as scipy's gaussian_filter does)."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-offsets.square() / (2 * sigma * sigma))
    return (taps / taps.sum()).to(device=device, dtype=dtype)


def _local_mean(x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian average over 'valid' positions only: [N, C, H, W] → [N, C, H-k+1, W-k+1].

    Valid positions are exactly the ones scikit-image keeps after cropping its reflect-padded filter output, so
    no border convention leaks into the score.
    """
    c, k = x.shape[1], taps.numel()
    x = F.conv2d(x, taps.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)
    return F.conv2d(x, taps.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image, [N], mean over channels and valid window positions.

    ``a`` and ``b`` are [N, C, H, W] in [-1, 1] with H, W ≥ 11. Gaussian window 11 (sigma 1.5), K1 = 0.01,
    K2 = 0.03, population (not sample) covariances, data range 1 on the [0, 1] scale: the settings under which it
    matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1.0)``. Identical images give exactly 1.
    """
    _check_pair(a, b)
    if min(a.shape[-2:]) < SSIM_WINDOW:
        raise InvalidInputError(
            f"SSIM needs images of at least {SSIM_WINDOW}×{SSIM_WINDOW} pixels, got {tuple(a.shape)}."
        )
    x, y = _unit_scale(a), _unit_scale(b)
    taps = _gaussian_window(SSIM_WINDOW, SSIM_SIGMA, x.dtype, x.device)
    mu_x, mu_y = _local_mean(x, taps), _local_mean(y, taps)
    var_x = _local_mean(x * x, taps) - mu_x * mu_x
    var_y = _local_mean(y * y, taps) - mu_y * mu_y
    cov_xy = _local_mean(x * y, taps) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    num = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    den = (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    return (num / den).flatten(1).mean(dim=1)


def lpips_distance(a: torch.Tensor, b: torch.Tensor, net: str = "alex") -> torch.Tensor | None:
    """LPIPS per image [N] (AlexNet, the metric's usual backbone), or None when its shipped weights are missing or
    damaged."""
    from core.objectives.perceptual import perceptual_loss, unavailable_reason

    _check_pair(a, b)
    if unavailable_reason(net):
        return None
    with torch.no_grad():
        return perceptual_loss(net, a.device)(a.float(), b.float())


def identity_distances(a: torch.Tensor, b: torch.Tensor, framing: Framing | None) -> torch.Tensor | None:
    """dlib identity distance per image [N] (same person below 0.6), or None without a framing or the network."""
    from core.objectives.identity import identity_loss, unavailable_reason

    _check_pair(a, b)
    if framing is None or unavailable_reason():
        return None
    with torch.no_grad():
        return identity_loss(framing, a.device)(a.float(), b.float())


def reconstruction_metrics(images: torch.Tensor, target: torch.Tensor, framing: Framing | None = None
                           ) -> dict[str, list[float] | None]:
    """PSNR (dB), SSIM, LPIPS-or-None and identity-distance-or-None (needs the model's ``framing``) of each image
    against ``target``, JSON-ready lists."""
    target = target.expand_as(images)
    with torch.no_grad():
        distance = lpips_distance(images, target)
        identity = identity_distances(images, target, framing)
        return {"psnr": [round(float(v), 4) for v in psnr(images, target)],
                "ssim": [round(float(v), 5) for v in ssim(images, target)],
                "lpips": None if distance is None else [round(float(v), 5) for v in distance],
                "identity": None if identity is None else [round(float(v), 5) for v in identity]}
