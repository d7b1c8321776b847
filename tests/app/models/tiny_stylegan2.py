"""Tiny random-weight StyleGAN2 checkpoints for GUI tests: the real loader and adapter, a model small enough to
load and invert in a fraction of a second (32 px, 64-wide mapping, 32 channels)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Net

TINY = StyleGAN2Config(resolution=32, style_dim=64, n_mlp=2, channel_max=32)


def write_tiny_stylegan2(path: Path, config: StyleGAN2Config = TINY, seed: int = 0) -> Path:
    """Save a rosinality-layout checkpoint (``g_ema``, ``latent_avg``, ``args``) with random weights at ``path``."""
    torch.manual_seed(seed)
    net = StyleGAN2Net(config)
    with torch.no_grad():  # the reference initialises biases and noise strengths to zero: give them values
        for name, p in net.named_parameters():
            if name.endswith(("noise.weight", "bias")):
                p.add_(0.1 * torch.randn_like(p))
    latent_avg = 0.1 * torch.randn(config.style_dim)
    args = argparse.Namespace(size=config.resolution, arch="stylegan2")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"g_ema": net.state_dict(), "latent_avg": latent_avg, "args": args}, path)
    return path
