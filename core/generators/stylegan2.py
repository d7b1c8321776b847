"""StyleGAN2 (Karras et al. 2020, config F) in plain PyTorch, for users' own checkpoints.

Layout and maths follow rosinality/stylegan2-pytorch (``model.py``, ``op/upfirdn2d.py``, ``op/fused_act.py``) so a
rosinality ``g_ema`` state dict loads with ``load_state_dict(strict=True)`` and should render the same images (each
op is tested against an independent computation; the reference's own outputs were not available to compare).
Details that had to match (read from the reference's source):

- names: ``style.{1..n_mlp}`` (``style.0`` is the parameter-free pixel norm), ``input.input``, ``conv1``,
  ``to_rgb1``, ``convs.{2i, 2i+1}`` (up-sampling conv, then plain conv, per level), ``to_rgbs.i``,
  ``noises.noise_{0..num_layers-1}`` (persistent buffers [1, 1, r, r] with r = 2 ** ((idx + 5) // 2)), and the
  persistent FIR buffers ``convs.{2i}.conv.blur.kernel`` and ``to_rgbs.i.upsample.kernel``.
- mapping: pixel norm (eps 1e-8), ``n_mlp`` equalised linears with lr multiplier 0.01 (weight × 0.01/√in,
  bias × 0.01), each followed by leaky ReLU(0.2) × √2 (the "fused" gain), applied to bias-added inputs.
- equalised lr in convs: weight × 1/√(in_ch·k²); style = affine(w) with bias initialised to 1 (equalised, lr 1);
  demodulation rsqrt(Σ w² + 1e-8) over (in, k, k); to-RGB convs are 1×1 and not demodulated.
- up-sampling conv: transposed conv, stride 2, no padding (2H+1), then the [1,3,3,1]⊗[1,3,3,1]/64 blur × 4
  (factor²) with padding (1, 1) → 2H. Skip up-sampling: zero insertion, the same ×4 kernel, padding (2, 1).
  upfirdn2d is a true convolution (kernel flipped; the symmetric kernel makes that moot).
- channels per resolution with channel_multiplier cm: {4..32: 512, 64: 256·cm, 128: 128·cm, 256: 64·cm,
  512: 32·cm, 1024: 16·cm}; our ``channel_max`` caps every entry (512 reproduces the reference, smaller values
  give the tiny models tests use). ``channel_base`` switches to NVIDIA's rule min(channel_base // res,
  channel_max) instead, for stylegan2-ada pickles (:mod:`.stylegan2_nvidia`); 32768 equals rosinality's cm = 2.
- ``conv_clamp`` (NVIDIA's, 256 in their fp16 configs; off in rosinality's): styled-conv outputs are clamped to
  ±conv_clamp after bias + activation, to-RGB outputs after their bias and before the skip is added.
- num_ws = 2·log2(resolution) − 2: conv1 uses ws[0], to_rgb1 ws[1], level i uses ws[i], ws[i+1] for its convs and
  ws[i+2] for its to-RGB (shared with the next level's first conv). Truncation: w_avg + ψ (w − w_avg).

The config F 1024 px net has 30,370,060 parameters, as NVIDIA's. Not carried over: style mixing, training code.
``noise_mode`` adds "none" (no noise) to the reference's stored-buffer ("const") and fresh ("random") noise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
from torch import nn

from core.errors import InvalidInputError
from core.generators.style_based import StyleBasedGenerator, check_layer_range
from core.generators.stylegan2_layers import (
    ConstantInput,
    EqualLinear,
    ModulatedConv2d,
    PixelNorm,
    StyledConv,
    ToRGB,
)

NOISE_MODES = ("const", "random", "none")
DRAG_FEATURE_SIDE = 128  # the level whose activations drag editing follows (DragGAN's sixth block)


@dataclass(frozen=True)
class StyleGAN2Config:
    """The architecture of a rosinality StyleGAN2 generator (everything its state dict does not say by itself)."""

    resolution: int = 256  # output side in pixels, a power of two ≥ 8
    style_dim: int = 512  # z and w width (w_dim)
    n_mlp: int = 8  # mapping layers
    channel_multiplier: int = 2  # widens levels ≥ 64 px (rosinality's default 2 = config F)
    channel_max: int = 512  # caps every level's channels (512 = the reference table)
    lr_mlp: float = 0.01  # mapping lr multiplier (only scales weights at run time)
    channel_base: int | None = None  # NVIDIA's width rule min(channel_base // res, channel_max); None = rosinality's
    conv_clamp: float | None = None  # clamp conv outputs to ± this (NVIDIA's conv_clamp); None = no clamping

    def validate(self) -> None:
        r = self.resolution
        if r < 8 or r & (r - 1):
            raise InvalidInputError(f"StyleGAN2 resolution must be a power of two ≥ 8 (got {r}).")
        if min(self.style_dim, self.n_mlp, self.channel_multiplier, self.channel_max) < 1:
            raise InvalidInputError(f"StyleGAN2 sizes must be positive ({self}).")
        if self.channel_base is not None and self.channel_base // r < 1:
            raise InvalidInputError(f"StyleGAN2 channel_base {self.channel_base} leaves the {r}-px layers no channels.")
        if self.conv_clamp is not None and not self.conv_clamp > 0:
            raise InvalidInputError(f"StyleGAN2 conv_clamp must be positive or None (got {self.conv_clamp}).")

    @property
    def log_size(self) -> int:
        return int(math.log2(self.resolution))

    @property
    def num_ws(self) -> int:
        return 2 * self.log_size - 2

    @property
    def num_layers(self) -> int:
        """Noise inputs: one per styled conv."""
        return 2 * self.log_size - 3

    def channels(self, res: int) -> int:
        if self.channel_base is not None:
            return min(self.channel_base // res, self.channel_max)
        width = 512 if res <= 32 else (16384 // res) * self.channel_multiplier
        return min(width, self.channel_max)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleGAN2Config:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class StyleGAN2Net(nn.Module):
    """Mapping ``style`` + synthesis with rosinality's module names; ``w_avg`` is a non-persistent buffer so the
    reference's state dicts load strictly and the net still carries its truncation centre."""

    w_avg: torch.Tensor  # buffer [w_dim]

    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        config.validate()
        self.config = config
        dim = config.style_dim
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(dim, dim, lr_mul=config.lr_mlp, activation=True) for _ in range(config.n_mlp)])
        c4, clamp = config.channels(4), config.conv_clamp
        self.input = ConstantInput(c4)
        self.conv1 = StyledConv(c4, c4, dim, clamp=clamp)
        self.to_rgb1 = ToRGB(c4, dim, upsample=False, clamp=clamp)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        in_ch = c4
        for level in range(3, config.log_size + 1):
            out_ch = config.channels(2**level)
            self.convs.append(StyledConv(in_ch, out_ch, dim, upsample=True, clamp=clamp))
            self.convs.append(StyledConv(out_ch, out_ch, dim, clamp=clamp))
            self.to_rgbs.append(ToRGB(out_ch, dim, clamp=clamp))
            in_ch = out_ch
        self.noises = nn.Module()
        for idx in range(config.num_layers):
            side = 2 ** ((idx + 5) // 2)
            self.noises.register_buffer(f"noise_{idx}", torch.randn(1, 1, side, side))
        self.register_buffer("w_avg", torch.zeros(dim), persistent=False)  # [w_dim]

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, z_dim] → w [N, w_dim]."""
        return self.style(z)

    def _noises(self, n: int, mode: str) -> list[torch.Tensor | None]:
        """Per-layer noise: the stored buffers (const, [1, 1, r, r] for every sample), fresh [N, 1, r, r], or none."""
        stored = [getattr(self.noises, f"noise_{i}") for i in range(self.config.num_layers)]
        if mode == "const":
            return stored
        if mode == "random":
            return [torch.randn(n, *b.shape[1:], device=b.device, dtype=b.dtype) for b in stored]
        return [None] * len(stored)

    def features(self, ws: torch.Tensor, side: int, noise_mode: str = "const") -> torch.Tensor:
        """ws → the activations [N, C, side, side] after the level of that side (drag editing's features)."""
        noise = self._noises(ws.shape[0], noise_mode)
        x = self.conv1(self.input(ws.shape[0]), ws[:, 0], noise[0])  # [N, C, 4, 4]
        for level in range(len(self.to_rgbs)):
            if x.shape[-1] >= side:
                break
            i = 2 * level + 1
            x = self.convs[i](self.convs[i - 1](x, ws[:, i], noise[i]), ws[:, i + 1], noise[i + 1])
        return x

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws [N, num_ws, w_dim] → images [N, 3, R, R] (unclamped; about [-1, 1])."""
        noise = self._noises(ws.shape[0], noise_mode)
        x = self.conv1(self.input(ws.shape[0]), ws[:, 0], noise[0])  # [N, C, 4, 4]
        skip = self.to_rgb1(x, ws[:, 1])  # [N, 3, 4, 4]
        for level, to_rgb in enumerate(self.to_rgbs):
            i = 2 * level + 1
            x = self.convs[i - 1](x, ws[:, i], noise[i])  # ×2 up
            x = self.convs[i](x, ws[:, i + 1], noise[i + 1])
            skip = to_rgb(x, ws[:, i + 2], skip)
        return skip


class StyleGAN2Generator(StyleBasedGenerator):
    """:class:`StyleGAN2Net` behind the :class:`Generator` interface, with latent spaces z, w and w+
    (:class:`StyleBasedGenerator`). ``noise_mode`` defaults to "const" so an image is a deterministic function of
    its latent, which optimisation needs.
    """

    net: StyleGAN2Net

    def __init__(self, net: StyleGAN2Net, name: str, model_id: str, w_avg: torch.Tensor | None = None,
                 noise_mode: str = "const", info: dict[str, Any] | None = None) -> None:
        self.net = net.eval().requires_grad_(False)
        self.name = name
        self.model_id = model_id
        self.info = dict(info or {})  # provenance for reports: file format, hashes (JSON-ready values)
        self.config = net.config
        self.resolution = net.config.resolution
        self.device = net.input.input.device
        self.noise_mode = noise_mode
        self._init_spaces(net.config.style_dim, net.config.num_ws, w_avg)

    @property
    def noise_mode(self) -> str:
        return self._noise_mode

    @noise_mode.setter
    def noise_mode(self, mode: str) -> None:
        if mode not in NOISE_MODES:
            raise InvalidInputError(f"Noise mode must be one of {', '.join(NOISE_MODES)} (got '{mode}').")
        self._noise_mode = mode

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.mapping(z)

    def synthesize_ws(self, ws: torch.Tensor) -> torch.Tensor:
        return self.net.synthesis(ws, self.noise_mode)

    def drag_features(self, ws: torch.Tensor) -> torch.Tensor:
        """The output of the 128-px level (DragGAN's choice), or of the last level of a smaller model."""
        return self.net.features(ws, min(DRAG_FEATURE_SIDE, self.resolution), self.noise_mode)

    def style_layers(self) -> list[tuple[int, ModulatedConv2d]]:
        """(w+ row, modulated conv) for each row: the styled convs read rows 0 … num_ws − 2, the last to-RGB the
        last row (the earlier to-RGBs share their rows with a conv), as the official SeFa's layer list."""
        convs = [self.net.conv1.conv, *(cast(StyledConv, c).conv for c in self.net.convs)]  # ModuleList is untyped
        return [*enumerate(convs), (self.num_ws - 1, cast(ToRGB, self.net.to_rgbs[-1]).conv)]

    def style_weights(self, layers: tuple[int, int] | None = None) -> list[torch.Tensor]:
        """The style affines A [in_ch, w_dim] (equalised scale applied) of the w+ rows in ``layers`` (half-open,
        default all): the matrices that read w, which SeFa factorises."""
        start, stop = check_layer_range(self, layers)
        return [conv.modulation.weight.detach() * conv.modulation.scale
                for row, conv in self.style_layers() if start <= row < stop]
