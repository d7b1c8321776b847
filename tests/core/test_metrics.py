"""PSNR against its closed form, SSIM against scikit-image (the reference implementation, used in tests only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from core.errors import InvalidInputError
from core.metrics import psnr, ssim


def _random_images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=gen) * 2 - 1  # [N, 3, H, W] in [-1, 1]


def _structured_image(size: int = 64) -> torch.Tensor:
    """Smooth gradients, a disc and stripes: the kind of structure SSIM is meant to see (not just noise)."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    disc = ((xx.square() + yy.square()) < 0.4).float()
    stripes = torch.sin(xx * 12).sign()
    image = torch.stack([0.8 * xx, disc * 1.6 - 0.8, 0.5 * stripes + 0.3 * yy])
    return image.clamp(-1, 1).unsqueeze(0)  # [1, 3, H, W]


def _skimage_ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """scikit-image's SSIM of one pair of [3, H, W] images in [-1, 1], on the [0, 1] scale."""
    x = ((a.double().permute(1, 2, 0) + 1) / 2).numpy()
    y = ((b.double().permute(1, 2, 0) + 1) / 2).numpy()
    return float(
        structural_similarity(
            x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1
        )
    )


def test_psnr_constant_offset_matches_closed_form() -> None:
    a = _random_images(2).clamp(-0.8, 0.8)
    b = a + 0.2  # 0.1 on the [0, 1] scale → MSE 0.01 → 20 dB
    result = psnr(a, b)
    assert result.shape == (2,)
    torch.testing.assert_close(result, torch.full((2,), 20.0), atol=1e-3, rtol=0)


def test_psnr_per_image_differs_with_error_size() -> None:
    a = torch.zeros(2, 3, 16, 16)
    b = a.clone()
    b[0] += 0.02  # 0.01 on [0, 1] → 40 dB
    b[1] += 0.2  # 0.1 on [0, 1] → 20 dB
    torch.testing.assert_close(psnr(a, b), torch.tensor([40.0, 20.0]), atol=1e-3, rtol=0)


def test_psnr_identical_images_is_infinite() -> None:
    a = _random_images(1)
    assert math.isinf(psnr(a, a).item())


def test_masked_psnr_ignores_the_masked_out_region() -> None:
    a = torch.zeros(1, 3, 32, 32)
    b = a.clone()
    b[..., :, :16] += 0.2  # left half off by 0.1 on [0, 1]
    b[..., :, 16:] = torch.rand(1, 3, 32, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1  # right: garbage
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., :, :16] = 1
    torch.testing.assert_close(psnr(a, b, mask), torch.tensor([20.0]), atol=1e-3, rtol=0)
    assert psnr(a, b).item() < 15  # unmasked, the garbage half dominates


def test_masked_psnr_broadcasts_and_weights() -> None:
    a = torch.zeros(3, 3, 8, 8)
    b = a + 0.2
    full = torch.ones(1, 1, 8, 8)
    torch.testing.assert_close(psnr(a, b, full), psnr(a, b))
    soft = torch.full((3, 1, 8, 8), 0.25)  # uniform soft weights leave a uniform error unchanged
    torch.testing.assert_close(psnr(a, b, soft), torch.full((3,), 20.0), atol=1e-3, rtol=0)


def test_psnr_rejects_empty_and_malformed_masks() -> None:
    a, b = _random_images(2, 16), _random_images(2, 16, seed=1)
    empty_second = torch.ones(2, 1, 16, 16)
    empty_second[1] = 0
    with pytest.raises(InvalidInputError):
        psnr(a, b, empty_second)
    with pytest.raises(InvalidInputError):
        psnr(a, b, torch.ones(2, 3, 16, 16))  # one weight per pixel, not per channel
    with pytest.raises(InvalidInputError):
        psnr(a, b, torch.ones(1, 1, 8, 8))
    with pytest.raises(InvalidInputError):
        psnr(a, b, torch.full((1, 1, 16, 16), 2.0))
    with pytest.raises(InvalidInputError):
        psnr(a, b[:1])


def test_ssim_matches_skimage_on_random_images() -> None:
    a = _random_images(3, seed=2)
    b = (a + 0.3 * _random_images(3, seed=3)).clamp(-1, 1)  # correlated: SSIM near but below 1
    b[2] = _random_images(1, seed=10)[0]  # independent: SSIM near 0
    result = ssim(a, b)
    assert result.shape == (3,)
    expected = torch.tensor([_skimage_ssim(a[i], b[i]) for i in range(3)])
    torch.testing.assert_close(result, expected, atol=1e-3, rtol=0)


def test_ssim_matches_skimage_on_structured_images() -> None:
    a = _structured_image()
    noise = _random_images(1, seed=4)
    cases = [
        (a + 0.1 * noise).clamp(-1, 1),  # light noise
        torch.roll(a, shifts=2, dims=-1),  # small shift
        a * 0.5,  # contrast and brightness change
    ]
    for b in cases:
        torch.testing.assert_close(ssim(a, b), torch.tensor([_skimage_ssim(a[0], b[0])]), atol=1e-3, rtol=0)


def test_ssim_of_an_image_with_itself_is_one() -> None:
    a = torch.cat([_random_images(2, seed=5), _structured_image()])
    torch.testing.assert_close(ssim(a, a), torch.ones(3), atol=1e-6, rtol=0)


def test_ssim_keeps_float64_and_handles_non_square() -> None:
    a = _random_images(1, seed=6).double()[..., :40]
    b = (a + 0.2 * _random_images(1, seed=7).double()[..., :40]).clamp(-1, 1)
    result = ssim(a, b)
    assert result.dtype == torch.float64 and result.shape == (1,)
    assert abs(result.item() - _skimage_ssim(a[0], b[0])) < 1e-6


def test_ssim_rejects_tiny_or_mismatched_images() -> None:
    with pytest.raises(InvalidInputError):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))
    with pytest.raises(InvalidInputError):
        ssim(torch.zeros(1, 3, 16, 16), torch.zeros(2, 3, 16, 16))


def test_metrics_are_differentiable() -> None:
    a = _random_images(1, 16, seed=8)
    b = _random_images(1, 16, seed=9).requires_grad_(True)
    (psnr(a, b).sum() + ssim(a, b).sum()).backward()
    assert b.grad is not None and np.isfinite(b.grad.numpy()).all()
