"""Load rosinality/stylegan2-pytorch checkpoints (``.pt``/``.pth``) without running code from them.

A checkpoint is read with ``torch.load(weights_only=True)``: only tensors, containers and plain values come back,
so a malicious or foreign pickle (e.g. NVIDIA's ``.pkl``, which needs their Python classes and is read by
:mod:`.stylegan2_nvidia` instead) is refused, not executed. The one class allowed besides is
``argparse.Namespace``, which rosinality's ``train.py`` stores as ``args`` and which is a plain attribute bag. The
architecture is inferred from tensor shapes, then checked by a strict ``load_state_dict``.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

from core.errors import ModelLoadError
from core.generators.checked_build import build_checked, check_weights
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator, StyleGAN2Net
from core.resources import file_sha256

file_digest = file_sha256  # the name the loaders and their callers use

_STYLE_KEY = re.compile(r"^style\.(\d+)\.weight$")
_TO_RGB_KEY = re.compile(r"^to_rgbs\.(\d+)\.conv\.weight$")
_GLOBAL = re.compile(r"GLOBAL (\S+)")


def load_stylegan2_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> StyleGAN2Generator:
    """A rosinality checkpoint (dict with ``g_ema`` and optional ``latent_avg``) → a ready generator."""
    path = Path(path)
    _check_size(path)
    checkpoint = _read_weights_only(path)
    state, latent_avg = _generator_state(checkpoint, path.name)
    config = infer_config(state, path.name)
    check_weights(state, path.name)
    net = build_checked(lambda: StyleGAN2Net(config), {k: v.shape for k, v in state.items()}, path.name, "StyleGAN2")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"'{path.name}' does not match the StyleGAN2 layout inferred from it ({config}): "
                             f"{_first_line(exc)}") from exc
    net.to(device)
    name = path.stem
    return StyleGAN2Generator(net, name=name, model_id=f"{name}@{file_digest(path)[:16]}", w_avg=latent_avg)


def infer_config(state: dict[str, torch.Tensor], label: str = "checkpoint") -> StyleGAN2Config:
    """Architecture from shapes: resolution from the to-RGB count, style_dim from ``style.1.weight``, n_mlp from
    the ``style.N`` layers, channel_max from the 4×4 input and channel_multiplier from the first level ≥ 64 px
    whose width is below that cap."""
    try:
        n_mlp = len([k for k in state if _STYLE_KEY.match(k)])
        style_dim = int(state["style.1.weight"].shape[0])
        resolution = 2 ** (len([k for k in state if _TO_RGB_KEY.match(k)]) + 2)
        channel_max = int(state["input.input"].shape[1])
        multiplier = _channel_multiplier(state, resolution, channel_max)
    except (KeyError, IndexError, AttributeError) as exc:
        raise ModelLoadError(f"'{label}' is not a rosinality StyleGAN2 generator (missing or malformed "
                             f"{exc}).") from exc
    if resolution < 8:
        raise ModelLoadError(f"'{label}' has no up-sampling levels (to_rgbs.*); it is not a StyleGAN2 generator.")
    return StyleGAN2Config(resolution=resolution, style_dim=style_dim, n_mlp=n_mlp,
                           channel_multiplier=multiplier, channel_max=channel_max)


def _channel_multiplier(state: dict[str, torch.Tensor], resolution: int, channel_max: int) -> int:
    for level in range(6, int(math.log2(resolution)) + 1):  # 64 px and up: width = 16384 / res · cm
        width = int(state[f"convs.{2 * (level - 3)}.conv.weight"].shape[1])
        if width < channel_max:
            multiplier = width * 2**level / 16384
            if multiplier != int(multiplier) or multiplier < 1:
                raise ModelLoadError(f"The {2**level}-px layers have {width} channels, which no channel "
                                     "multiplier of the rosinality channel table gives.")
            return int(multiplier)
    return max(2, math.ceil(channel_max * resolution / 16384))  # every level at the cap: any such cm is the same


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        raise ModelLoadError(f"'{path.name}' is empty.")
    available = _available_memory()
    if available is not None and size > available:
        raise ModelLoadError(f"'{path.name}' is {size / 2**30:.1f} GiB, more than the {available / 2**30:.1f} GiB "
                             "of memory available; close other programs or use a smaller model.")


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable, else physical pages), or None when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _read_weights_only(path: Path) -> Any:
    try:
        with warnings.catch_warnings(), torch.serialization.safe_globals([argparse.Namespace]):
            warnings.simplefilter("ignore", UserWarning)  # torch's note on unusual pickle protocols
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelLoadError(_refusal(path, str(exc))) from exc
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, AttributeError, ImportError) as exc:
        raise ModelLoadError(f"'{path.name}' is not a readable PyTorch checkpoint; it may be truncated or another "
                             f"kind of file ({_first_line(exc)}).") from exc


def _refusal(path: Path, message: str) -> str:
    """Why the weights-only reader refused a file, in the user's terms."""
    needed = _GLOBAL.search(message)
    if needed:
        return (f"'{path.name}' needs program code to load ({needed.group(1)}), which Landscape Studio never runs: "
                "it may be an NVIDIA StyleGAN network pickle (give it the .pkl extension to read it as one) or not a "
                "model checkpoint.")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80" and head != b"PK\x03\x04":
        return (f"'{path.name}' is a plain Python pickle, not a PyTorch checkpoint: if it is an NVIDIA StyleGAN "
                "network pickle, give it the .pkl extension to read it as one.")
    return f"'{path.name}' is not a PyTorch checkpoint (it may be damaged, or another kind of file)."


def _generator_state(checkpoint: Any, label: str) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """The ``g_ema`` weights as float32 and ``latent_avg`` [w_dim] (None when absent)."""
    if not isinstance(checkpoint, dict) or "g_ema" not in checkpoint:
        found = (", ".join(sorted(map(str, checkpoint))[:8]) if isinstance(checkpoint, dict)
                 else f"a {type(checkpoint).__name__}")
        raise ModelLoadError(f"'{label}' has no 'g_ema' generator weights (found: {found or 'nothing'}); "
                             "it is not a rosinality StyleGAN2 checkpoint.")
    state = checkpoint["g_ema"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(f"'{label}': 'g_ema' is not a state dict of tensors.")
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    latent_avg = checkpoint.get("latent_avg")
    if latent_avg is not None:
        dim = state["style.1.weight"].shape[0] if "style.1.weight" in state else None
        if not isinstance(latent_avg, torch.Tensor) or latent_avg.numel() != dim:
            raise ModelLoadError(f"'{label}': 'latent_avg' is not a vector of the model's w width.")
        latent_avg = latent_avg.float().reshape(-1)
    return state, latent_avg


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message (torch's are paragraphs)."""
    text = str(exc).strip().split(". ")[0].splitlines()
    return text[0][:200] if text else type(exc).__name__
