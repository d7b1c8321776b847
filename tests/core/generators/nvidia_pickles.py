"""A kit for writing NVIDIA-format network pickles in tests, without NVIDIA's code.

``Persistent`` pickles as ``torch_utils.persistence`` does (the reducer ``_reconstruct_persistent_obj`` with a meta
dict carrying the module source and the module ``__dict__``); ``dump_nvidia_pickle`` writes with plain
``pickle.dump`` like stylegan2-ada's training loop, with stand-in ``torch_utils``/``dnnlib`` modules present only
while dumping. The ``Sg2*`` stand-ins have the constructor arguments, attribute names and tensor shapes of
stylegan2-ada-pytorch's ``training/networks.py`` generator (no forward pass: tests compute that themselves).
"""

from __future__ import annotations

import copy
import pickle
import sys
import types
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch.nn import Parameter


def _reconstruct_persistent_obj(meta: dict) -> None:  # what NVIDIA's loader would call; we only pickle a reference
    raise AssertionError("the stand-in reconstructor must never be called")


class EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: a dict with attribute access."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __setattr__(self, name: str, value) -> None:
        self[name] = value


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
EasyDict.__module__ = "dnnlib.util"


class Persistent(torch.nn.Module):
    """Pickles as torch_utils.persistence's decorator does: source text + the module's __dict__ as state."""

    module_src = "raise SystemExit('module_src was executed')\n"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        self._init_args = copy.deepcopy(args)
        self._init_kwargs = copy.deepcopy(kwargs)

    def __reduce__(self):
        meta = dict(type="class", version=6, module_src=self.module_src, class_name=type(self).__name__,
                    state=dict(self.__dict__))
        return (_reconstruct_persistent_obj, (meta,), None)


def fake_modules() -> dict[str, types.ModuleType]:
    """The modules NVIDIA's pickles name, holding the stand-ins (so pickle can find them while dumping)."""
    fakes = {name: types.ModuleType(name) for name in ("torch_utils", "dnnlib", "torch_utils.persistence",
                                                       "dnnlib.util")}
    fakes["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    fakes["dnnlib.util"].EasyDict = EasyDict
    return fakes


def dump_nvidia_pickle(obj: Any, path: Path, protocol: int = 3) -> Path:
    """Write ``obj`` (e.g. ``{"G_ema": G}``) as NVIDIA's training loop does."""
    with mock.patch.dict(sys.modules, fake_modules()), path.open("wb") as fh:
        pickle.dump(obj, fh, protocol=protocol)
    return path


# ------------------------------------------------------------------ stylegan2-ada-pytorch generator stand-ins


def setup_filter(taps: list[int]) -> torch.Tensor:
    """upfirdn2d.setup_filter for a short 1-D list: outer product, normalised to sum 1, [k, k]."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f.ger(f)
    return f / f.sum()


class FullyConnectedLayer(Persistent):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1, bias_init: float = 0) -> None:
        super().__init__(in_features, out_features, bias=bias, activation=activation, lr_multiplier=lr_multiplier,
                         bias_init=bias_init)
        self.activation = activation
        self.weight = Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = Parameter(torch.full([out_features], np.float32(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / np.sqrt(in_features)
        self.bias_gain = lr_multiplier


class MappingNetwork(Persistent):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, num_layers: int = 8,
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995, **kwargs) -> None:
        super().__init__(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=num_ws, num_layers=num_layers,
                         lr_multiplier=lr_multiplier, w_avg_beta=w_avg_beta, **kwargs)
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, c_dim, w_dim, num_ws, num_layers
        embed = w_dim if c_dim > 0 else 0
        features = [z_dim + embed] + [w_dim] * num_layers
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed)
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(features[idx], features[idx + 1], activation="lrelu",
                                                           lr_multiplier=lr_multiplier))
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))


class SynthesisLayer(Persistent):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, resample_filter=(1, 3, 3, 1), conv_clamp=None, **kwargs) -> None:
        super().__init__(in_channels, out_channels, w_dim=w_dim, resolution=resolution, kernel_size=kernel_size,
                         up=up, use_noise=use_noise, resample_filter=list(resample_filter), conv_clamp=conv_clamp,
                         **kwargs)
        self.resolution, self.up, self.use_noise, self.conv_clamp = resolution, up, use_noise, conv_clamp
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.padding = kernel_size // 2
        self.act_gain = float(np.sqrt(2))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = Parameter(torch.zeros([]))
        self.bias = Parameter(torch.zeros([out_channels]))


class ToRGBLayer(Persistent):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1,
                 conv_clamp=None) -> None:
        super().__init__(in_channels, out_channels, w_dim=w_dim, kernel_size=kernel_size, conv_clamp=conv_clamp)
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / np.sqrt(in_channels * kernel_size**2)


class Conv2dLayer(Persistent):
    """Only what a 'resnet' block's 1×1 ``skip`` holds."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = False, up: int = 1,
                 resample_filter=(1, 3, 3, 1)) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias=bias, up=up)
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.weight = Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))


class SynthesisBlock(Persistent):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", resample_filter=(1, 3, 3, 1), conv_clamp=None,
                 use_fp16: bool = False, **layer_kwargs) -> None:
        super().__init__(in_channels, out_channels, w_dim=w_dim, resolution=resolution, img_channels=img_channels,
                         is_last=is_last, architecture=architecture, resample_filter=list(resample_filter),
                         conv_clamp=conv_clamp, use_fp16=use_fp16, **layer_kwargs)
        self.in_channels, self.resolution, self.architecture = in_channels, resolution, architecture
        self.register_buffer("resample_filter", setup_filter(list(resample_filter)))
        self.num_conv = self.num_torgb = 0
        if in_channels == 0:
            self.const = Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp, **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp,
                                    **layer_kwargs)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, up=2, resample_filter=resample_filter)


class SynthesisNetwork(Persistent):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, **block_kwargs) -> None:
        super().__init__(w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                         channel_base=channel_base, channel_max=channel_max, num_fp16_res=num_fp16_res,
                         **block_kwargs)
        self.block_resolutions = [2**i for i in range(2, int(np.log2(img_resolution)) + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        self.num_ws = 0
        for res in self.block_resolutions:
            is_last = res == img_resolution
            block = SynthesisBlock(channels[res // 2] if res > 4 else 0, channels[res], w_dim=w_dim, resolution=res,
                                   img_channels=img_channels, is_last=is_last, **block_kwargs)
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            setattr(self, f"b{res}", block)


class Generator(Persistent):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int,
                 mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None) -> None:
        mapping_kwargs, synthesis_kwargs = EasyDict(mapping_kwargs or {}), EasyDict(synthesis_kwargs or {})
        super().__init__(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=img_resolution,
                         img_channels=img_channels, mapping_kwargs=mapping_kwargs, synthesis_kwargs=synthesis_kwargs)
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                                          **synthesis_kwargs)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws, **mapping_kwargs)


def random_generator(seed: int = 0, **kwargs: Any) -> Generator:
    """A stand-in G with every tensor random where NVIDIA initialises constants (biases, noise strengths, w_avg),
    so every one of them shows in the image."""
    torch.manual_seed(seed)
    G = Generator(**kwargs).eval().requires_grad_(False)
    with torch.no_grad():
        for name, param in G.named_parameters():
            if name.endswith(("bias", "noise_strength")):
                param.add_(0.2 * torch.randn_like(param))
        if hasattr(G.mapping, "w_avg"):
            G.mapping.w_avg.normal_(0, 0.3)
    return G
