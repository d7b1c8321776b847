"""stylegan2-ada-pytorch ``.pkl`` pickles load into our StyleGAN2 and render what NVIDIA's generator renders.

The reference here is a plain re-implementation of the forward pass of NVIDIA's ``training/networks.py`` (with
``conv2d_resample``, ``upfirdn2d`` and ``bias_act``), written from their maths and working on the NVIDIA-named
tensors directly, sample by sample. It shares nothing with our layers: in particular the up-sampling conv is done
the way ``conv2d_resample``'s generic path does it (zero insertion + the FIR filter first, then a true
convolution with the weight), where our net uses a transposed convolution then the filter.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from core.errors import ModelLoadError
from core.generators import load_generator
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator
from core.generators.stylegan2_checkpoints import file_digest
from core.generators.stylegan2_nvidia import FORMAT
from tests.core.generators.nvidia_pickles import EasyDict, Persistent, dump_nvidia_pickle, random_generator

KWARGS = dict(z_dim=64, c_dim=0, w_dim=64, img_resolution=32, img_channels=3,
              mapping_kwargs=EasyDict(num_layers=2),
              synthesis_kwargs=EasyDict(channel_base=256, channel_max=32, num_fp16_res=2, conv_clamp=None))
SQRT2 = math.sqrt(2)


def _kwargs(**synthesis) -> dict:
    return {**KWARGS, "synthesis_kwargs": EasyDict({**KWARGS["synthesis_kwargs"], **synthesis})}


# ------------------------------------------------------------------ NVIDIA's forward pass, from their maths


def ref_upfirdn2d(x: torch.Tensor, f: torch.Tensor, up: int = 1, pad: tuple[int, int] = (0, 0),
                  gain: float = 1) -> torch.Tensor:
    """upfirdn2d (flip_filter=False: a true convolution): insert up−1 zeros after each pixel, pad, convolve."""
    n, c, h, w = x.shape
    x = x.reshape(n, c, h, 1, w, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    f = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, f, groups=c)


def ref_fc(sd: dict, name: str, x: torch.Tensor, lr_multiplier: float = 1.0, lrelu: bool = False) -> torch.Tensor:
    """FullyConnectedLayer: weight × lr/√in, bias × lr; bias_act lrelu(0.2) × √2."""
    weight, bias = sd[f"{name}.weight"], sd[f"{name}.bias"]
    x = x @ (weight * (lr_multiplier / math.sqrt(weight.shape[1]))).t() + bias * lr_multiplier
    return F.leaky_relu(x, 0.2) * SQRT2 if lrelu else x


def ref_mapping(sd: dict, z: torch.Tensor, num_layers: int, num_ws: int, psi: float = 1.0) -> torch.Tensor:
    x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()  # normalize_2nd_moment
    for idx in range(num_layers):
        x = ref_fc(sd, f"mapping.fc{idx}", x, lr_multiplier=0.01, lrelu=True)
    ws = x.unsqueeze(1).repeat(1, num_ws, 1)
    return sd["mapping.w_avg"].lerp(ws, psi)


def ref_modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool,
                       f: torch.Tensor | None = None) -> torch.Tensor:
    """modulated_conv2d, one sample at a time; with a filter ``f`` it is the up = 2 conv (flip_weight=False)."""
    outs = []
    for n in range(x.shape[0]):
        w = weight * styles[n].reshape(1, -1, 1, 1)  # [O, I, k, k]
        if demodulate:
            w = w * (w.square().sum(dim=[1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        xi = x[n:n + 1]
        if f is None:  # flip_weight=True: correlation, padding k // 2
            outs.append(F.conv2d(xi, w, padding=w.shape[-1] // 2))
        else:  # up 2, padding 1 → pads (1 + (4+1)//2, 1 + (4−2)//2) = (3, 2) around the ×2 image, gain 4
            xi = ref_upfirdn2d(xi, f, up=2, pad=(3, 2), gain=4)
            outs.append(F.conv2d(xi, w.flip([2, 3])))  # a true convolution
    return torch.cat(outs)


def ref_layer(sd: dict, name: str, x: torch.Tensor, w: torch.Tensor, noise: bool, clamp: float | None,
              up: bool = False) -> torch.Tensor:
    """SynthesisLayer: styles = affine(w); modulated conv; + noise_const × strength; bias_act lrelu × √2, clamp."""
    styles = ref_fc(sd, f"{name}.affine", w)
    x = ref_modulated_conv(x, sd[f"{name}.weight"], styles, True, sd[f"{name}.resample_filter"] if up else None)
    if noise:
        x = x + sd[f"{name}.noise_const"] * sd[f"{name}.noise_strength"]
    x = F.leaky_relu(x + sd[f"{name}.bias"].reshape(1, -1, 1, 1), 0.2) * SQRT2
    return x if clamp is None else x.clamp(-clamp, clamp)


def ref_torgb(sd: dict, name: str, x: torch.Tensor, w: torch.Tensor, clamp: float | None) -> torch.Tensor:
    weight = sd[f"{name}.weight"]
    styles = ref_fc(sd, f"{name}.affine", w) / math.sqrt(weight.shape[1])  # weight_gain 1/√(in·1²)
    x = ref_modulated_conv(x, weight, styles, False) + sd[f"{name}.bias"].reshape(1, -1, 1, 1)
    return x if clamp is None else x.clamp(-clamp, clamp)


def ref_synthesis(sd: dict, ws: torch.Tensor, resolution: int, noise: bool = True,
                  clamp: float | None = None) -> torch.Tensor:
    """SynthesisNetwork ('skip'): block b{res} reads ws[k : k + num_conv + 1] and advances k by num_conv."""
    k, x, img = 0, None, None
    for res in (2**i for i in range(2, int(math.log2(resolution)) + 1)):
        b = f"synthesis.b{res}"
        if res == 4:
            x = sd[f"{b}.const"].unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            x = ref_layer(sd, f"{b}.conv1", x, ws[:, k], noise, clamp)
            num_conv = 1
        else:
            x = ref_layer(sd, f"{b}.conv0", x, ws[:, k], noise, clamp, up=True)
            x = ref_layer(sd, f"{b}.conv1", x, ws[:, k + 1], noise, clamp)
            num_conv = 2
        y = ref_torgb(sd, f"{b}.torgb", x, ws[:, k + num_conv], clamp)
        img = y if img is None else ref_upfirdn2d(img, sd[f"{b}.resample_filter"], up=2, pad=(2, 1), gain=4) + y
        k += num_conv
    return img


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def nvidia_pkl(tmp_path_factory) -> tuple[Path, dict]:
    G = random_generator(0, **KWARGS)
    path = dump_nvidia_pickle({"G": random_generator(1, **KWARGS), "D": None, "G_ema": G, "augment_pipe": None},
                              tmp_path_factory.mktemp("nv") / "ffhq-tiny.pkl")
    return path, {k: v.detach().clone() for k, v in G.state_dict().items()}


@pytest.fixture(scope="module")
def G(nvidia_pkl) -> StyleGAN2Generator:
    return load_generator(nvidia_pkl[0])


def _write(tmp_path: Path, G_nv: Persistent, name: str = "net.pkl") -> Path:
    return dump_nvidia_pickle({"G_ema": G_nv}, tmp_path / name)


# ------------------------------------------------------------------ loading


def test_pickle_loads_with_config_from_init_kwargs(G, nvidia_pkl):
    path, sd = nvidia_pkl
    assert isinstance(G, StyleGAN2Generator)
    assert G.config == StyleGAN2Config(resolution=32, style_dim=64, n_mlp=2, channel_max=32, channel_base=256)
    assert [G.config.channels(r) for r in (4, 8, 16, 32)] == [32, 32, 16, 8]  # no rosinality multiplier gives this
    assert G.num_ws == 8 and G.resolution == 32
    digest = file_digest(path)
    assert G.model_id == f"ffhq-tiny@{digest[:16]}"
    source = hashlib.sha256(Persistent.module_src.encode()).hexdigest()
    assert G.info == {"format": FORMAT, "file_sha256": digest, "source_sha256": source, "network": "G_ema",
                      "class_name": "Generator"}
    torch.testing.assert_close(G.w_avg, sd["mapping.w_avg"])


def test_mapping_equals_nvidia(G, nvidia_pkl):
    sd = nvidia_pkl[1]
    z = torch.randn(3, 64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(G.ws(z, "z"), ref_mapping(sd, z, 2, 8), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_images_from_z_equal_nvidia(G, nvidia_pkl, psi):
    sd = nvidia_pkl[1]
    z = torch.randn(3, 64, generator=torch.Generator().manual_seed(2))
    expected = ref_synthesis(sd, ref_mapping(sd, z, 2, 8, psi), 32)
    ours = G.synthesize(G.truncation(G.ws(z, "z"), psi), "w+")
    assert expected.abs().max() > 0.1  # a real image, not a washed-out one
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_images_from_w_and_w_plus_equal_nvidia(G, nvidia_pkl):
    sd = nvidia_pkl[1]
    rng = torch.Generator().manual_seed(3)
    w = torch.randn(2, 64, generator=rng)  # [N, w_dim]
    expected = ref_synthesis(sd, sd["mapping.w_avg"].lerp(w, 0.5)[:, None].repeat(1, 8, 1), 32)
    torch.testing.assert_close(G.synthesize(G.truncation(w, 0.5), "w"), expected, atol=1e-4, rtol=1e-4)
    ws = torch.randn(2, 8, 64, generator=rng)  # a different w per layer checks which layer reads which w
    torch.testing.assert_close(G.synthesize(ws, "w+"), ref_synthesis(sd, ws, 32), atol=1e-4, rtol=1e-4)
    expected = ref_synthesis(sd, sd["mapping.w_avg"].lerp(ws, 0.8), 32)
    torch.testing.assert_close(G.synthesize(G.truncation(ws, 0.8), "w+"), expected, atol=1e-4, rtol=1e-4)


def test_noise_mode_none_drops_the_stored_noise(G, nvidia_pkl):
    ws = torch.randn(2, 8, 64, generator=torch.Generator().manual_seed(4))
    G.noise_mode = "none"
    try:
        ours = G.synthesize(ws, "w+")
    finally:
        G.noise_mode = "const"
    torch.testing.assert_close(ours, ref_synthesis(nvidia_pkl[1], ws, 32, noise=False), atol=1e-4, rtol=1e-4)


def test_conv_clamp_is_applied(tmp_path):
    G_nv = random_generator(5, **_kwargs(conv_clamp=0.5))  # small enough to clamp most activations
    sd = G_nv.state_dict()
    G = load_generator(_write(tmp_path, G_nv))
    assert G.config.conv_clamp == 0.5
    ws = torch.randn(2, 8, 64, generator=torch.Generator().manual_seed(5))
    expected = ref_synthesis(sd, ws, 32, clamp=0.5)
    assert not torch.allclose(expected, ref_synthesis(sd, ws, 32), atol=1e-2)  # the clamp matters here
    torch.testing.assert_close(G.synthesize(ws, "w+"), expected, atol=1e-4, rtol=1e-4)


def test_g_without_w_avg_or_noise_loads(tmp_path):
    G_nv = random_generator(6, **{**_kwargs(use_noise=False), "mapping_kwargs": EasyDict(num_layers=2,
                                                                                         w_avg_beta=None)})
    sd = G_nv.state_dict()
    assert "mapping.w_avg" not in sd and "synthesis.b8.conv0.noise_const" not in sd
    G = load_generator(_write(tmp_path, G_nv))
    ws = torch.randn(1, 8, 64, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(G.synthesize(ws, "w+"), ref_synthesis(sd, ws, 32, noise=False), atol=1e-4, rtol=1e-4)
    assert G.w_avg.abs().sum() > 0  # estimated from mapped z, as for rosinality files without latent_avg


def test_rosinality_path_is_unchanged_by_the_new_options():
    config = StyleGAN2Config(resolution=1024)
    assert config.channel_base is None and config.conv_clamp is None
    same = StyleGAN2Config(resolution=1024, channel_base=32768)  # NVIDIA's config F = rosinality's cm 2
    assert [config.channels(2**i) for i in range(2, 11)] == [same.channels(2**i) for i in range(2, 11)]
    assert StyleGAN2Config.from_dict(same.to_dict()) == same


# ------------------------------------------------------------------ refusals


def _assert_refused(path: Path, pattern: str) -> None:
    with pytest.raises(ModelLoadError, match=pattern):
        load_generator(path)


def test_conditional_generators_are_refused(tmp_path):
    _assert_refused(_write(tmp_path, random_generator(0, **{**KWARGS, "c_dim": 10})), r"conditional.*c_dim = 10")


@pytest.mark.parametrize("architecture", ["resnet", "orig"])
def test_other_architectures_are_refused(tmp_path, architecture):
    G_nv = random_generator(0, **_kwargs(architecture=architecture))
    _assert_refused(_write(tmp_path, G_nv), f"architecture '{architecture}'")


@pytest.mark.parametrize("architecture", ["resnet", "orig"])
def test_other_architectures_are_refused_by_their_tensors_too(tmp_path, architecture):
    G_nv = random_generator(0, **_kwargs(architecture=architecture))
    G_nv._init_kwargs["synthesis_kwargs"].pop("architecture")  # a pickle whose kwargs do not say so
    _assert_refused(_write(tmp_path, G_nv), r"lacks the tensor 'synthesis\.b4\.torgb\.weight'.*another architecture")


@pytest.mark.parametrize("change, pattern", [
    (dict(z_dim=32), "z_dim 32 ≠ w_dim 64"),
    (dict(img_channels=1), "1-channel images"),
    (dict(synthesis_kwargs=EasyDict(channel_base=256, channel_max=32, resample_filter=[1, 2, 1])),
     "resample_filter"),
])
def test_unsupported_settings_are_refused(tmp_path, change, pattern):
    _assert_refused(_write(tmp_path, random_generator(0, **{**KWARGS, **change})), pattern)


def test_missing_misshapen_and_extra_tensors_are_refused(tmp_path):
    G_nv = random_generator(0, **KWARGS)
    del G_nv.synthesis.b16.conv0.weight
    _assert_refused(_write(tmp_path, G_nv, "missing.pkl"), r"lacks the tensor 'synthesis\.b16\.conv0\.weight'")
    G_nv = random_generator(0, **KWARGS)
    G_nv.synthesis.b16.conv1.weight = torch.nn.Parameter(torch.zeros(16, 8, 3, 3))
    _assert_refused(_write(tmp_path, G_nv, "shape.pkl"), r"does not match .*convs\.3\.conv\.weight")
    G_nv = random_generator(0, **KWARGS)
    G_nv.synthesis.b32.torgb.register_buffer("extra", torch.zeros(2))
    _assert_refused(_write(tmp_path, G_nv, "extra.pkl"), r"does not use \(synthesis\.b32\.torgb\.extra\)")
    G_nv = random_generator(0, **KWARGS)
    G_nv.synthesis.b8.resample_filter.fill_(1 / 16)
    _assert_refused(_write(tmp_path, G_nv, "filter.pkl"), r"filter other than .*synthesis\.b8\.resample_filter")


def test_other_networks_are_refused(tmp_path):
    G_nv = random_generator(0, **KWARGS)
    del G_nv.synthesis.b4.const
    _assert_refused(_write(tmp_path, G_nv, "no_const.pkl"), "not a StyleGAN2 generator")
    G_nv = random_generator(0, **KWARGS)
    G_nv.synthesis.input = Persistent()
    G_nv.synthesis.input.register_buffer("freqs", torch.zeros(4, 2))
    _assert_refused(_write(tmp_path, G_nv, "sg3.pkl"), "StyleGAN3")
    (tmp_path / "cut.pkl").write_bytes(_write(tmp_path, random_generator(0, **KWARGS)).read_bytes()[:500])
    _assert_refused(tmp_path / "cut.pkl", "truncated|damaged")
