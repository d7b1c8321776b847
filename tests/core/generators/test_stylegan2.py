"""StyleGAN2: rosinality-format checkpoints load through ``load_generator``, the adapter's spaces behave, and each
non-trivial op is checked against an independent computation (scipy's upfirdn, per-sample convolutions)."""

from __future__ import annotations

import argparse
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import signal
from torch.nn import functional as F

from core.errors import InvalidInputError, ModelLoadError
from core.generators import load_generator
from core.generators import stylegan2_checkpoints as checkpoints
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator, StyleGAN2Net
from core.generators.stylegan2_layers import (
    EqualLinear,
    ModulatedConv2d,
    Upsample,
    fused_leaky_relu,
    make_kernel,
    upfirdn2d,
)
from core.resources import resources_dir

TINY = StyleGAN2Config(resolution=32, style_dim=64, n_mlp=2, channel_max=32)


def random_net(config: StyleGAN2Config = TINY, seed: int = 0) -> StyleGAN2Net:
    """A net with random weights where the reference initialises zeros (noise strengths, biases), so every
    parameter matters to the image."""
    torch.manual_seed(seed)
    net = StyleGAN2Net(config)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(("noise.weight", "bias")):
                p.add_(0.1 * torch.randn_like(p))
    return net


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory) -> tuple[Path, StyleGAN2Net, torch.Tensor]:
    net = random_net()
    w_avg = 0.1 * torch.randn(TINY.style_dim)
    path = tmp_path_factory.mktemp("sg2") / "tiny.pt"
    args = argparse.Namespace(size=32, arch="stylegan2")  # rosinality's train.py stores its args
    torch.save({"g_ema": net.state_dict(), "latent_avg": w_avg, "args": args}, path)
    return path, net, w_avg


@pytest.fixture(scope="module")
def G(tiny_ckpt) -> StyleGAN2Generator:
    return load_generator(tiny_ckpt[0])


# ---------------------------------------------------------------- loading and the Generator contract


def test_rosinality_checkpoint_loads_with_inferred_config(G, tiny_ckpt):
    path, net, w_avg = tiny_ckpt
    assert isinstance(G, StyleGAN2Generator)
    assert G.config == StyleGAN2Config(resolution=32, style_dim=64, n_mlp=2, channel_multiplier=2, channel_max=32)
    assert G.resolution == 32 and G.num_ws == 8 and G.default_space == "w"
    assert G.model_id == f"tiny@{checkpoints.file_digest(path)[:16]}"
    torch.testing.assert_close(G.w_avg, w_avg)
    for key, value in net.state_dict().items():
        torch.testing.assert_close(G.net.state_dict()[key], value)


def test_key_names_follow_rosinality():
    keys = set(StyleGAN2Net(TINY).state_dict())
    expected = {"style.1.weight", "style.2.bias", "input.input", "conv1.conv.weight", "conv1.conv.modulation.weight",
                "conv1.conv.modulation.bias", "conv1.noise.weight", "conv1.activate.bias", "to_rgb1.conv.weight",
                "to_rgb1.conv.modulation.weight", "to_rgb1.bias", "convs.0.conv.blur.kernel", "convs.5.conv.weight",
                "to_rgbs.2.upsample.kernel", "to_rgbs.2.bias", "noises.noise_0", "noises.noise_6"}
    assert expected <= keys and "w_avg" not in keys and "style.3.weight" not in keys
    assert StyleGAN2Net(TINY).noises.noise_6.shape == (1, 1, 32, 32)


def test_channel_multiplier_inferred_from_a_64px_level(tmp_path):
    config = StyleGAN2Config(resolution=128, style_dim=16, n_mlp=1, channel_multiplier=1, channel_max=256)
    net = StyleGAN2Net(config)
    assert net.convs[6].conv.weight.shape[1] == 256 and net.convs[8].conv.weight.shape[1] == 128  # 64, 128 px
    torch.save({"g_ema": net.state_dict()}, tmp_path / "cm1.pth")
    assert load_generator(tmp_path / "cm1.pth").config == config


def test_reference_channel_table():
    config = StyleGAN2Config(resolution=1024)
    assert [config.channels(2**i) for i in range(2, 11)] == [512, 512, 512, 512, 512, 256, 128, 64, 32]
    assert StyleGAN2Config(resolution=256, channel_multiplier=1).channels(64) == 256


def test_shapes_of_every_space(G):
    for space, shape in (("z", (64,)), ("w", (64,)), ("w+", (8, 64))):
        latent = G.sample_latent(3, seed=5, space=space)
        assert latent.shape == (3, *shape) and G.space(space).shape == shape
        assert G.synthesize(latent, space).shape == (3, 3, 32, 32)
        mean, std = G.latent_stats(space)
        assert mean.shape == shape and std.shape == shape and (std > 0).all()
    torch.testing.assert_close(G.latent_stats("w")[0], G.w_avg)
    with pytest.raises(InvalidInputError, match=r"'w\+' latent"):
        G.synthesize(torch.zeros(1, 64), "w+")


def test_per_seed_rows_and_const_noise_determinism(G):
    z = G.sample_latent(3, seed=7, space="z")
    torch.testing.assert_close(G.sample_latent(1, seed=8, space="z")[0], z[1])
    w = G.sample_latent(3, seed=7, space="w")
    torch.testing.assert_close(G.net.mapping(z), w)
    with torch.no_grad():
        torch.testing.assert_close(G.synthesize(z, "z"), G.synthesize(w, "w"))
        torch.testing.assert_close(G.synthesize(w[1:2], "w"), G.synthesize(w, "w")[1:2])  # batch-independent
        assert torch.equal(G.synthesize(w, "w"), G.synthesize(w, "w"))


def test_noise_modes(G):
    w = G.sample_latent(2, seed=1, space="w")
    with torch.no_grad():
        const = G.synthesize(w, "w")
        G.noise_mode = "random"
        first, second = G.synthesize(w, "w"), G.synthesize(w, "w")
        G.noise_mode = "none"
        plain = G.synthesize(w, "w")
        G.noise_mode = "const"
    assert not torch.allclose(first, second) and not torch.allclose(plain, const)
    with pytest.raises(InvalidInputError):
        G.noise_mode = "fixed"


def test_w_plus_with_identical_rows_equals_w(G):
    w = G.sample_latent(2, seed=3, space="w")
    ws = w[:, None, :].repeat(1, G.num_ws, 1)  # [2, num_ws, w_dim]
    with torch.no_grad():
        torch.testing.assert_close(G.synthesize(ws, "w+"), G.synthesize(w, "w"))


def test_truncation(G):
    w = G.sample_latent(2, seed=4, space="w")
    with torch.no_grad():
        average = G.synthesize(G.w_avg[None], "w")
        torch.testing.assert_close(G.synthesize(G.truncation(w, 0.0), "w"), average.expand(2, -1, -1, -1))
        torch.testing.assert_close(G.truncation(w, 1.0), w)
        ws = G.ws(w, "w")
        torch.testing.assert_close(G.truncation(ws, 0.5)[:, 3], G.truncation(w, 0.5))


def test_gradients_reach_the_latent_not_the_weights(G):
    for space in ("w", "w+", "z"):
        latent = G.mean_latent(space).clone() if space != "z" else G.sample_latent(1, 0, "z")
        latent.requires_grad_(True)
        G.synthesize(latent, space).square().mean().backward()
        assert latent.grad is not None and latent.grad.abs().sum() > 0
    assert all(p.grad is None for p in G.net.parameters())


def test_w_stats_are_estimated_without_latent_avg(tmp_path, tiny_ckpt):
    torch.save({"g_ema": tiny_ckpt[1].state_dict()}, tmp_path / "no_avg.pt")
    G = load_generator(tmp_path / "no_avg.pt")
    with torch.no_grad():
        w = G.net.mapping(torch.randn(4000, 64, generator=torch.Generator().manual_seed(9)))
    torch.testing.assert_close(G.w_avg, w.mean(0), atol=0.05, rtol=0)
    torch.testing.assert_close(G.latent_stats("w")[1], w.std(0), atol=0.05, rtol=0.1)


# ---------------------------------------------------------------- refusals


def _assert_refused(path: Path, match: str) -> None:
    with pytest.raises(ModelLoadError, match=match):
        load_generator(path)


def test_refuses_random_bytes_and_a_renamed_safetensors(tmp_path):
    (tmp_path / "noise.pt").write_bytes(bytes(range(7, 250)) * 40)
    _assert_refused(tmp_path / "noise.pt", "not a PyTorch checkpoint")
    dcgan = resources_dir() / "models" / "dcgan_digiface" / "generator.safetensors"
    (tmp_path / "dcgan.pt").write_bytes(dcgan.read_bytes())
    _assert_refused(tmp_path / "dcgan.pt", "not a PyTorch checkpoint")


def test_refuses_files_that_need_code_without_running_it(tmp_path):
    ran = []

    class Payload:
        def __reduce__(self):
            return (ran.append, ("ran",))

    torch.save({"g_ema": Payload()}, tmp_path / "code.pt")
    _assert_refused(tmp_path / "code.pt", "needs program code to load.*NVIDIA")
    (tmp_path / "plain.pt").write_bytes(pickle.dumps({"G_ema": Payload()}, protocol=4))
    _assert_refused(tmp_path / "plain.pt", "plain Python pickle")
    assert ran == []


def test_refuses_dicts_without_g_ema_and_mismatched_weights(tmp_path, tiny_ckpt):
    torch.save({"g": {}, "d": {}}, tmp_path / "no_gema.pt")
    _assert_refused(tmp_path / "no_gema.pt", "no 'g_ema'.*found: d, g")
    state = dict(tiny_ckpt[1].state_dict())
    del state["convs.3.noise.weight"]
    torch.save({"g_ema": state}, tmp_path / "missing.pt")
    _assert_refused(tmp_path / "missing.pt", "does not match the StyleGAN2 layout")
    torch.save({"g_ema": {"weight": torch.zeros(3)}}, tmp_path / "other.pt")
    _assert_refused(tmp_path / "other.pt", "not a rosinality StyleGAN2 generator")


def test_refuses_truncated_and_oversized_files(tmp_path, tiny_ckpt, monkeypatch):
    data = tiny_ckpt[0].read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    _assert_refused(tmp_path / "cut.pt", "truncated")
    monkeypatch.setattr(checkpoints, "_available_memory", lambda: 1000)
    _assert_refused(tiny_ckpt[0], "more than the .* available")


def test_pkl_files_go_to_the_nvidia_reader(tmp_path):
    (tmp_path / "ffhq.pkl").write_bytes(b"\x80\x04")  # loading itself is tested in test_stylegan2_nvidia.py
    _assert_refused(tmp_path / "ffhq.pkl", "truncated|damaged")


# ---------------------------------------------------------------- the ops, checked independently


def test_upfirdn2d_matches_scipy_separably():
    """An asymmetric separable kernel checks the flip, the zero insertion and the padding against scipy."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6))
    a, b = np.array([1.0, 2.0, 5.0, 3.0]), np.array([4.0, -1.0, 2.0, 0.5])
    for up, down, pad in ((2, 1, (2, 1)), (1, 1, (1, 2)), (1, 2, (1, 1)), (2, 1, (-1, 0))):
        ours = upfirdn2d(torch.tensor(x)[None, None], torch.tensor(np.outer(a, b)), up, down, pad)[0, 0].numpy()
        full = np.stack([signal.upfirdn(b, row, up) for row in x])  # along W with taps b
        full = np.stack([signal.upfirdn(a, col, up) for col in full.T]).T  # along H with taps a
        full = np.pad(full, 4 + up)  # y_full[j] at j + 4 + up; zeros beyond (incl. zero insertion's tail)
        k = len(a)
        h = (x.shape[0] * up + sum(pad) - k) // down + 1
        w = (x.shape[1] * up + sum(pad) - k) // down + 1
        start = k - 1 - pad[0] + 4 + up  # ours[m] = y_full[m·down + k - 1 - pad0]
        expected = full[start:, start:][::down, ::down][:h, :w]
        np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_fir_upsampling_keeps_a_constant_image_constant():
    up = Upsample()
    out = up(torch.full((1, 2, 8, 8), 3.0))  # [1, 2, 16, 16]
    assert out.shape == (1, 2, 16, 16)
    torch.testing.assert_close(out[..., 2:-2, 2:-2], torch.full((1, 2, 12, 12), 3.0))
    assert make_kernel().sum() == pytest.approx(1.0)


def test_fused_leaky_relu_gain_and_equalised_linear():
    x = torch.tensor([[1.0, -1.0]])
    torch.testing.assert_close(fused_leaky_relu(x, torch.zeros(2)), torch.tensor([[math.sqrt(2), -0.2 * math.sqrt(2)]]))
    layer = EqualLinear(16, 4, bias_init=0.5, lr_mul=0.01)
    z = torch.randn(3, 16)
    expected = z @ (layer.weight * 0.01 / 4).T + layer.bias * 0.01
    torch.testing.assert_close(layer(z), expected)
    assert layer.weight.std() > 20  # stored as N(0, 1/lr_mul²)


def test_pixel_norm_makes_mapping_scale_invariant(G):
    z = torch.randn(2, 64)
    with torch.no_grad():
        torch.testing.assert_close(G.net.mapping(z), G.net.mapping(3.7 * z))


def test_demodulated_conv_keeps_unit_variance():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 32, 3, style_dim=16)
    with torch.no_grad():
        conv.modulation.weight.mul_(3.0)  # far-from-one styles: demodulation must still normalise
        out = conv(torch.randn(4, 64, 48, 48), torch.randn(4, 16))[..., 1:-1, 1:-1]
    per_channel = out.std(dim=(2, 3))  # [4, 32]
    assert per_channel.mean().item() == pytest.approx(1.0, abs=0.05) and per_channel.min() > 0.85


@pytest.mark.parametrize(("upsample", "demodulate"), [(False, True), (True, True), (False, False)])
def test_grouped_modulated_conv_equals_per_sample_convs(upsample, demodulate):
    """The batch path (one grouped conv) against modulating the input instead, one sample at a time."""
    torch.manual_seed(1)
    conv = ModulatedConv2d(6, 5, 3, style_dim=8, demodulate=demodulate, upsample=upsample)
    x, w = torch.randn(3, 6, 7, 7), torch.randn(3, 8)
    with torch.no_grad():
        batched = conv(x, w)
        rows = []
        for i in range(3):
            style = conv.modulation(w[i : i + 1])[0]  # [in]
            base = conv.scale * conv.weight[0]  # [out, in, k, k]
            xi = x[i : i + 1] * style[None, :, None, None]
            if upsample:
                out = conv.blur(F.conv_transpose2d(xi, base.transpose(0, 1), stride=2))
            else:
                out = F.conv2d(xi, base, padding=1)
            if demodulate:
                out = out * torch.rsqrt((base * style[None, :, None, None]).square().sum((1, 2, 3)) + 1e-8)[
                    None, :, None, None]
            rows.append(out)
    assert batched.shape == (3, 5, 14, 14) if upsample else (3, 5, 7, 7)
    torch.testing.assert_close(batched, torch.cat(rows), atol=1e-5, rtol=1e-5)
