"""StyleGAN2 building blocks in plain PyTorch (no custom CUDA ops), laid out like rosinality's ``model.py``.

Module and parameter names are those of rosinality/stylegan2-pytorch so its state dicts load without renaming;
the maths follows its CPU fallbacks (``upfirdn2d_native``, ``fused_leaky_relu``). See :mod:`core.generators.stylegan2`
for the list of details that had to match.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

BLUR_KERNEL = (1, 3, 3, 1)  # StyleGAN2's binomial FIR filter
LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2)  # keeps the activations' second moment through leaky ReLU ("fused" gain)
DEMOD_EPS = 1e-8


def make_kernel(taps: tuple[int, ...] = BLUR_KERNEL) -> torch.Tensor:
    """Separable 1-D taps → normalised 2-D FIR kernel (sums to 1), [k, k]."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Zero-insert ×``up``, pad (negative crops), convolve with ``kernel`` (a true convolution: flipped),
    keep every ``down``-th sample. Same padding on both axes. [N, C, H, W] → [N, C, H', W']."""
    n, c, h, w = x.shape
    if up > 1:
        z = x.new_zeros(n, c, h * up, w * up)
        z[:, :, ::up, ::up] = x
        x = z
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    weight = torch.flip(kernel, (0, 1)).to(x)[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Bias (per channel, dim 1) + leaky ReLU(0.2) × √2."""
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


class PixelNorm(nn.Module):
    """z / RMS(z): puts every z on the sphere of radius √z_dim before mapping."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Equalised-learning-rate linear layer: weights stored as N(0, 1/lr_mul²), scaled by lr_mul/√in at run time."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class FusedLeakyReLU(nn.Module):
    """Per-channel bias then the √2-gain leaky ReLU (key ``activate.bias``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias)


class Blur(nn.Module):
    """FIR filter with fixed padding; after a ×2 transposed conv the kernel is ×4 so the mean is kept."""

    kernel: torch.Tensor  # buffer

    def __init__(self, pad: tuple[int, int], upsample_factor: int = 1) -> None:
        super().__init__()
        self.register_buffer("kernel", make_kernel() * upsample_factor**2)  # [4, 4], key "blur.kernel"
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """×2 FIR up-sampling of the RGB skip: zero insertion then the ×4 blur kernel, output exactly 2H × 2W."""

    kernel: torch.Tensor  # buffer

    def __init__(self, factor: int = 2) -> None:
        super().__init__()
        kernel = make_kernel() * factor**2
        self.register_buffer("kernel", kernel)  # key "upsample.kernel"
        p = kernel.shape[0] - factor
        self.factor = factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)  # (2, 1) for a 4-tap kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Conv whose weights are scaled per sample by style = affine(w) (bias init 1), optionally demodulated
    to unit output variance, optionally ×2 up-sampling (transposed conv stride 2, then blur).

    The batch is one grouped convolution (each sample its own weights), as in the reference's fused path.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False) -> None:
        super().__init__()
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.scale = 1 / math.sqrt(in_ch * kernel_size**2)
        self.padding = kernel_size // 2
        self.demodulate = demodulate
        self.upsample = upsample
        if upsample:
            factor = 2
            p = (len(BLUR_KERNEL) - factor) - (kernel_size - 1)
            self.blur = Blur(pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)

    def modulated_weight(self, w: torch.Tensor) -> torch.Tensor:
        """Per-sample weights [N, out, in, k, k] for w [N, style_dim]."""
        style = self.modulation(w)  # [N, in]
        weight = self.scale * self.weight * style[:, None, :, None, None]  # [N, out, in, k, k]
        if self.demodulate:
            demod = torch.rsqrt(weight.square().sum(dim=(2, 3, 4)) + DEMOD_EPS)  # [N, out]
            weight = weight * demod[:, :, None, None, None]
        return weight

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        n, _, h, wd = x.shape
        k = self.kernel_size
        weight = self.modulated_weight(w)  # [N, out, in, k, k]
        x = x.reshape(1, n * self.in_ch, h, wd)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(n * self.in_ch, self.out_ch, k, k)
            out = F.conv_transpose2d(x, weight, stride=2, groups=n)  # [1, N*out, 2H+1, 2W+1]
            return self.blur(out.reshape(n, self.out_ch, *out.shape[2:]))  # [N, out, 2H, 2W]
        out = F.conv2d(x, weight.reshape(n * self.out_ch, self.in_ch, k, k), padding=self.padding, groups=n)
        return out.reshape(n, self.out_ch, *out.shape[2:])


class NoiseInjection(nn.Module):
    """Adds learned-strength (key ``noise.weight``, one scalar) single-channel noise."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return x if noise is None else x + self.weight * noise


class ConstantInput(nn.Module):
    """The learned 4×4 start of synthesis (key ``input.input``)."""

    def __init__(self, channels: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


def conv_clamp(x: torch.Tensor, limit: float | None) -> torch.Tensor:
    """NVIDIA's conv_clamp: keeps fp16 activations finite; a no-op for trained nets' usual ranges."""
    return x if limit is None else x.clamp(-limit, limit)


class StyledConv(nn.Module):
    """Modulated 3×3 conv → noise → bias + leaky ReLU ×√2 (→ clamp to ±``clamp`` when set)."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False,
                 clamp: float | None = None) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)
        self.clamp = clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        return conv_clamp(self.activate(self.noise(self.conv(x, w), noise)), self.clamp)


class ToRGB(nn.Module):
    """Modulated 1×1 conv to RGB (no demodulation) + bias (→ clamp), added to the FIR-up-sampled skip of the lower
    level."""

    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True, clamp: float | None = None) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample()
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.clamp = clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = conv_clamp(self.conv(x, w) + self.bias, self.clamp)
        return out if skip is None else out + self.upsample(skip)
