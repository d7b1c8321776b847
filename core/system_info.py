"""What this installation has: versions, devices, the model, LPIPS availability (``landscape-studio info``)."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

import torch

from core import __version__
from core.device import available_devices, pick_device
from core.errors import CoreError
from core.generators import load_generator
from core.objectives.perceptual import NETS, unavailable_reason, weights_path
from core.resources import resources_dir

PACKAGES = ("torch", "torchvision", "lpips", "numpy", "pillow", "safetensors", "PySide6-Essentials", "pyqtgraph")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def system_info(model: str = "default", device: str = "auto") -> dict[str, dict[str, Any]]:
    """A JSON-ready report in sections; a model that fails to load is reported, not raised."""
    versions = {"landscape-studio": __version__, "python": platform.python_version()}
    versions.update({name: _version(name) for name in PACKAGES})
    chosen = pick_device(device)
    devices = {"available": ", ".join(available_devices()), "chosen": str(chosen),
               "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
               "torch_threads": torch.get_num_threads()}
    try:
        G = load_generator(model, chosen)
        model_info: dict[str, Any] = {"name": G.name, "id": G.model_id, "resolution": G.resolution,
                                      "latent_spaces": {k: list(s.shape) for k, s in G.latent_spaces.items()}}
        source = getattr(G, "info", None)  # provenance of a foreign file, e.g. an NVIDIA pickle's hashes
        if source:
            model_info["source"] = source
    except CoreError as exc:
        model_info = {"error": str(exc)}
    reasons = {net: unavailable_reason(net) for net in NETS}
    lpips = {net: f"available: {weights_path(net)}" if reason is None else f"unavailable: {reason}"
             for net, reason in reasons.items()}
    return {"versions": versions, "devices": devices, "model": model_info, "lpips": lpips,
            "paths": {"resources": str(resources_dir())}}
