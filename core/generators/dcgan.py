"""The embedded default generator: a DCGAN trained on DigiFace1M synthetic faces (64×64 RGB, z of 100).

Architecture (Radford et al. 2016): z → transposed-conv/BatchNorm/ReLU blocks doubling the resolution from 4×4,
then a transposed conv to RGB and tanh. BatchNorm always runs in eval mode (running statistics), so an image
depends on its own latent only and a batch of K starts behaves like K separate inversions.
"""

from __future__ import annotations

import torch
from torch import nn

from core.generators.base import Generator, LatentSpace


class _UpBlock(nn.Module):
    """Transposed conv (kernel 4) + BatchNorm + ReLU: ×2 spatially, or 1×1 → 4×4 for the first block."""

    def __init__(self, in_ch: int, out_ch: int, first: bool) -> None:
        super().__init__()
        stride, padding = (1, 0) if first else (2, 1)
        self.conv = nn.ConvTranspose2d(in_ch, out_ch, 4, stride, padding, bias=False)
        self.norm = nn.BatchNorm2d(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x)))


class DCGANNet(nn.Module):
    """The network itself (weights only, no latent bookkeeping)."""

    def __init__(self, z_dim: int = 100, channels: tuple[int, ...] = (512, 256, 128, 64)) -> None:
        super().__init__()
        self.z_dim = z_dim
        widths = (z_dim, *channels)
        self.blocks = nn.Sequential(
            *[_UpBlock(widths[i], widths[i + 1], first=i == 0) for i in range(len(channels))]
        )
        self.to_rgb = nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1, bias=False)
        self.resolution = 4 * 2 ** len(channels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.blocks(z[:, :, None, None])  # [N, C, R/2, R/2]
        return torch.tanh(self.to_rgb(x))  # [N, 3, R, R]


class DCGANGenerator(Generator):
    """Adapter that gives :class:`DCGANNet` the :class:`Generator` interface (single latent space ``z``)."""

    def __init__(self, net: DCGANNet, name: str, model_id: str) -> None:
        self.net = net.eval().requires_grad_(False)
        self.name = name
        self.model_id = model_id
        self.resolution = net.resolution
        self.latent_spaces = {"z": LatentSpace("z", (net.z_dim,), gaussian_prior=True)}
        self.default_space = "z"
        self.device = next(net.parameters()).device

    def synthesize(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        self.space(space)
        return self.net(latent.to(self.device, torch.float32))

    def sample_latent(self, n: int, seed: int, space: str | None = None) -> torch.Tensor:
        return self.gaussian_latent(n, seed, space)

    def latent_stats(self, space: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        shape = self.space(space).shape
        return torch.zeros(shape, device=self.device), torch.ones(shape, device=self.device)

    def to(self, device: torch.device | str) -> DCGANGenerator:
        self.net.to(device)
        self.device = torch.device(device)
        return self
