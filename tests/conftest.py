"""Shared fixtures. With LS_BLOCK_QT=1 the GUI libraries cannot be imported at all (proves core needs no Qt)."""

from __future__ import annotations

import importlib.abc
import os
import sys

import pytest

BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "app")


class _QtBlocker(importlib.abc.MetaPathFinder):
    """Refuses to import the GUI stack, as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: core must run without the GUI stack")
        return None


if os.environ.get("LS_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _QtBlocker())


@pytest.fixture(scope="session")
def G():
    """The embedded default generator on CPU (small and fast: tests use it for real)."""
    from core.generators import load_generator

    return load_generator("default", "cpu")


@pytest.fixture
def missing_lpips_weights(tmp_path, monkeypatch):
    """LPIPS weights looked for in an empty folder (and a fresh LPIPS cache), so LPIPS is unavailable."""
    from core.objectives import perceptual

    folder = tmp_path / "no_lpips"
    monkeypatch.setattr(perceptual, "weights_path", lambda net="vgg": folder / f"{net}.safetensors")
    monkeypatch.setattr(perceptual, "_cache", {})
    return folder


@pytest.fixture(autouse=True)
def user_data(tmp_path_factory, monkeypatch):
    """Every test gets its own empty user data folder (direction libraries, …): nothing leaks between tests."""
    folder = tmp_path_factory.mktemp("user_data")
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(folder))
    return folder


TINY_STYLEGAN2 = {"resolution": 32, "style_dim": 32, "n_mlp": 2, "channel_max": 32}  # ~0.1 M weights, 8 ws


@pytest.fixture(scope="session")
def tiny_stylegan2_path(tmp_path_factory):
    """A random-weight rosinality-format StyleGAN2 checkpoint (32 px, w_dim 32) with a ``latent_avg``, as a .pt.

    Zero-initialised parameters (noise strengths, biases) get small random values, so every weight matters.
    """
    import torch

    from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Net

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = StyleGAN2Net(StyleGAN2Config(**TINY_STYLEGAN2))
        with torch.no_grad():
            for name, p in net.named_parameters():
                if name.endswith(("noise.weight", "bias")):
                    p.add_(0.1 * torch.randn_like(p))
            latent_avg = net.mapping(torch.randn(2000, TINY_STYLEGAN2["style_dim"])).mean(0)
    path = tmp_path_factory.mktemp("stylegan2") / "tiny.pt"
    torch.save({"g_ema": net.state_dict(), "latent_avg": latent_avg}, path)
    return path


@pytest.fixture(scope="session")
def tiny_stylegan2(tiny_stylegan2_path):
    """That checkpoint loaded through ``load_generator`` on CPU (default space w). Shared: do not modify it."""
    from core.generators import load_generator

    return load_generator(tiny_stylegan2_path, "cpu")
