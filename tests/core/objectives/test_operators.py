"""Forward models (mask, downsample, grayscale, compose) and the inversion through them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.inversion import InversionConfig, invert, restoration_config
from core.jobs import run_job
from core.metrics import psnr
from core.objectives import LossWeights, Objective
from core.objectives.operators import Compose, Downsample, Grayscale, Identity, Mask, compose_operators, parse_operator

PIXEL = LossWeights(lpips=0.0)


def _images(n=2, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_downsample_is_an_area_average(factor):
    x = _images(size=32)
    y = Downsample(factor)(x)
    assert y.shape == (2, 3, 32 // factor, 32 // factor)
    assert torch.allclose(y[:, :, 0, 0], x[:, :, :factor, :factor].mean(dim=(2, 3)))
    constant = torch.full((1, 3, 32, 32), 0.37)
    assert torch.allclose(Downsample(factor)(constant), torch.full((1, 3, 32 // factor, 32 // factor), 0.37))


def test_downsample_refuses_bad_factors_and_uneven_sizes():
    with pytest.raises(InvalidInputError, match="one of"):
        Downsample(3)
    with pytest.raises(InvalidInputError, match="evenly"):
        Downsample(8)(_images(size=12))


def test_grayscale_is_bt601_luma_in_three_channels():
    grey = torch.linspace(-1, 1, 16).view(1, 1, 4, 4).expand(1, 3, 4, 4)
    assert torch.allclose(Grayscale()(grey), grey, atol=1e-6)  # grey in, the same grey out
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)  # pure red on the [-1, 1] scale
    y = Grayscale()(red)
    assert y.shape == (1, 3, 1, 1) and torch.allclose(y, torch.full_like(y, 2 * 0.299 - 1))


def test_compose_applies_first_to_last():
    x = _images(size=32)
    a, b = Downsample(2), Grayscale()
    assert torch.allclose(Compose([a, b])(x), b(a(x)))
    assert Compose([a, Downsample(4)]).scale == 8 and Compose([a, Downsample(4)])(x).shape[-1] == 4
    mask = torch.zeros(32, 32)
    mask[:2, :2] = 1  # one unknown pixel in the first 4×4 block
    weights = Compose([Mask(mask), Downsample(4)]).weights(None)  # a low-res pixel counts as its least-known one
    assert weights.shape == (1, 1, 8, 8) and weights[0, 0, 0, 0] == 0 and weights[0, 0, 0, 1] == 1
    with pytest.raises(InvalidInputError, match="before any downsampling"):
        Compose([Downsample(4), Mask(mask)])(x)


def test_names_parse_into_operators():
    assert type(parse_operator(None)) is Identity and parse_operator("none").name == "none"
    assert parse_operator("downsample4").scale == 4 and parse_operator("grayscale").name == "grayscale"
    both = parse_operator("downsample2+grayscale")
    assert isinstance(both, Compose) and both.name == "downsample2+grayscale" and both.scale == 2
    assert compose_operators(None, Identity(), Grayscale()).name == "grayscale"
    for bad in ("blur", "downsample3", "mask", "grayscale+"):
        with pytest.raises(InvalidInputError, match="Unknown operator"):
            parse_operator(bad)


def test_observe_takes_a_photo_crop_as_is():
    pixels = (np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3)
    small = parse_operator("downsample4").observe(pixels)
    assert small.dtype == np.uint8 and small.shape == (16, 16, 3)
    grey = parse_operator("grayscale").observe(pixels)
    assert grey.shape == (64, 64, 3) and (grey[..., 0] == grey[..., 2]).all()
    assert (parse_operator("grayscale").observe(grey) == grey).all()  # a grey photo is already its observation
    assert torch.equal(Downsample(2).observe(from_uint8_hwc(pixels)), Downsample(2)(from_uint8_hwc(pixels)))


def test_the_objective_compares_observations(G):
    target = G.sample(1, 1_999_400_000)
    ripple = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(32, 32).view(1, 1, 64, 64) * 0.1  # averages out
    images = target + ripple
    assert float(Objective(G, target, None, PIXEL)(images, G.sample_latent(1, 0))["pixel"]) > 0.005
    seen = Objective(G, target, None, PIXEL, operator=Downsample(4))(images, G.sample_latent(1, 0))["pixel"]
    assert float(seen) < 1e-10
    shifted = target + torch.tensor([0.1, -0.1 * 0.299 / 0.587, 0.0]).view(1, 3, 1, 1)  # same luma, other hue
    assert float(Objective(G, target, None, PIXEL, operator=Grayscale())(shifted, None)["pixel"]) < 1e-10


def test_config_stores_and_validates_the_operator():
    config = InversionConfig(operator="downsample2+grayscale")
    assert InversionConfig.from_dict(config.to_dict()) == config
    assert InversionConfig().operator is None and "operator" in InversionConfig().to_dict()
    with pytest.raises(InvalidInputError, match="Unknown operator 'sharpen'"):
        InversionConfig(operator="sharpen").validate()


def test_lpips_compares_downsampled_observations_at_full_size(G):
    target = G.sample(1, 1_999_400_001)
    loss = LossWeights(lpips=1.0, lpips_net="alex")
    objective = Objective(G, target, None, loss, operator=Downsample(8))  # 8×8 observations: too small for AlexNet
    assert objective.uses_lpips
    terms = objective(torch.cat([target, G.sample(1, 7)]), G.sample_latent(2, 0))
    assert float(terms["lpips"][0]) < 1e-6 < float(terms["lpips"][1])


@pytest.fixture(scope="module")
def faces(G):
    return G.sample(2, 1_999_500_000)


def _restore(G, faces, name, starts=4):
    """Restoration with its defaults (4 starts, prior 0.01, 300 steps), every face's starts in one batch."""
    config = restoration_config(name, starts=starts * len(faces), preview_every=10_000)
    result = run_job(invert(G, faces.repeat_interleave(starts, dim=0), config))
    best = result.losses.reshape(len(faces), starts).argmin(axis=1) + np.arange(len(faces)) * starts
    return from_uint8_hwc(result.images[best])


def test_super_resolution_x4_beats_bicubic_upsampling(G, faces):
    restored = _restore(G, faces, "downsample4")
    bicubic = F.interpolate(Downsample(4)(faces), size=64, mode="bicubic", align_corners=False).clamp(-1, 1)
    ours, theirs = psnr(restored, faces), psnr(bicubic, faces)
    assert (ours > theirs + 2.0).all(), (ours, theirs)  # measured 31.1, 31.2 vs 22.5, 27.6 dB


def test_colorization_beats_the_grey_image(G, faces):
    restored = _restore(G, faces, "grayscale")
    ours, grey = psnr(restored, faces), psnr(Grayscale()(faces), faces)
    assert (ours > grey + 5.0).all(), (ours, grey)  # measured 35.1, 31.5 vs 21.0, 22.5 dB
