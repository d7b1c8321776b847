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
def empty_torch_home(tmp_path, monkeypatch):
    """A TORCH_HOME with no cached backbones, and a fresh LPIPS cache, so LPIPS is unavailable."""
    from core.objectives import perceptual

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(perceptual, "_cache", {})
    return tmp_path / "torch_home"


@pytest.fixture(autouse=True)
def user_data(tmp_path_factory, monkeypatch):
    """Every test gets its own empty user data folder (direction libraries, …): nothing leaks between tests."""
    folder = tmp_path_factory.mktemp("user_data")
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(folder))
    return folder


@pytest.fixture
def stand_in_alexnet(empty_torch_home):
    """A randomly initialised AlexNet saved where torchvision's cache would hold the real backbone (LPIPS runs)."""
    import torch
    import torchvision

    from core.objectives.perceptual import backbone_path

    path = backbone_path("alex")
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path
