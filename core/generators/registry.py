"""``load_generator(name_or_path)``: the one way the app, CLI and benchmarks get a model.

Our own model files are safetensors with the architecture in their metadata, so loading never unpickles. Users'
StyleGAN2 checkpoints (rosinality ``.pt``/``.pth``) are read weights-only (:mod:`.stylegan2_checkpoints`), NVIDIA
stylegan2-ada-pytorch ``.pkl`` pickles as data by a restricted unpickler (:mod:`.stylegan2_nvidia`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from core.errors import ModelLoadError
from core.generators.base import Generator
from core.generators.checked_build import build_checked, check_weights
from core.generators.dcgan import DCGANGenerator, DCGANNet
from core.generators.ffhq_install import FFHQ_MODEL, find_data
from core.generators.mobilestylegan import load_ffhq
from core.generators.stylegan2_checkpoints import file_digest, load_stylegan2_checkpoint
from core.generators.stylegan2_nvidia import load_nvidia_stylegan2
from core.resources import resources_dir

DEFAULT_MODEL = "dcgan-digiface"
MAX_WIDTH, MAX_LEVELS = 16384, 12  # beyond any DCGAN's z width, channels and levels (12 levels: 16384 px)
_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
_INT_DTYPES = {"I64", "I32"}
_BUILTIN = {DEFAULT_MODEL: Path("models") / "dcgan_digiface" / "generator.safetensors"}


def builtin_models() -> list[str]:
    """Names accepted by :func:`load_generator` besides a file path ("default" means the first)."""
    return list(_BUILTIN)


def model_key(name_or_path: str | Path) -> str:
    """The catalog key of a name :func:`load_generator` accepts ("default" and "ffhq" are aliases), else the path."""
    key = str(name_or_path)
    return DEFAULT_MODEL if key in ("default", "") else FFHQ_MODEL if key == "ffhq" else key


def model_file(name_or_path: str | Path) -> Path:
    """The file behind a built-in model's name ("default" included), else the path itself."""
    key = model_key(name_or_path)
    if key == FFHQ_MODEL:
        folder = find_data()  # the synthesis network's constants: what tells two installs apart
        return folder / "SynthesisNetwork.bin" if folder is not None else Path(FFHQ_MODEL)
    return resources_dir() / _BUILTIN[key] if key in _BUILTIN else Path(key)


def load_generator(name_or_path: str | Path = "default", device: torch.device | str = "cpu") -> Generator:
    """Load a built-in model by name, the user-installed FFHQ model ("ffhq"), or a model file by path."""
    key = model_key(name_or_path)
    if key == FFHQ_MODEL:
        return load_ffhq(device)
    path = resources_dir() / _BUILTIN[key] if key in _BUILTIN else Path(key)
    if not path.is_file():
        known = ", ".join(["default", *_BUILTIN, "ffhq"])
        raise ModelLoadError(f"No model file at '{path}'. Give a model file or one of: {known}.")
    suffix = path.suffix.lower()
    if suffix in (".pt", ".pth"):
        return load_stylegan2_checkpoint(path, device)
    if suffix == ".pkl":
        return load_nvidia_stylegan2(path, device)
    if suffix != ".safetensors":
        raise ModelLoadError(f"'{path.name}' is not a model format this version reads (Landscape Studio "
                             ".safetensors, StyleGAN2 .pt/.pth checkpoints from rosinality/stylegan2-pytorch, or "
                             "stylegan2-ada-pytorch .pkl network pickles).")
    return _load_safetensors(path).to(device)


def _load_safetensors(path: Path) -> Generator:
    """The header first (metadata, shapes, dtypes: the safetensors reader checks them against the file's size),
    the network built only once they match it, the data read last."""
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
            header = {k: (fh.get_slice(k).get_shape(), fh.get_slice(k).get_dtype()) for k in fh.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"'{path.name}' is not a readable safetensors model file ({exc}).") from exc
    arch = meta.get("architecture")
    if arch != "dcgan":
        raise ModelLoadError(f"'{path.name}' has an unknown architecture '{arch}' in its metadata.")
    try:
        channels = tuple(int(c) for c in meta["channels"].split(","))
        z_dim = int(meta["z_dim"])
    except (KeyError, ValueError, AttributeError) as exc:
        raise ModelLoadError(f"'{path.name}' does not say its DCGAN layout ({exc}).") from exc
    if not (1 <= z_dim <= MAX_WIDTH and 1 <= len(channels) <= MAX_LEVELS and all(1 <= c <= MAX_WIDTH
                                                                                 for c in channels)):
        raise ModelLoadError(f"'{path.name}' claims a DCGAN of z {z_dim} and channels {meta['channels'][:80]}, "
                             "outside any real model's sizes.")
    for name, (_shape, dtype) in header.items():
        if dtype not in _FLOAT_DTYPES and not (name.endswith("num_batches_tracked") and dtype in _INT_DTYPES):
            raise ModelLoadError(f"'{path.name}' stores '{name}' as {dtype}, not as floating-point weights.")
    net = build_checked(lambda: DCGANNet(z_dim=z_dim, channels=channels), {k: s for k, (s, _) in header.items()},
                        path.name, "DCGAN")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"'{path.name}' is not a readable safetensors model file ({exc}).") from exc
    check_weights(tensors, path.name)
    try:
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except (KeyError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"'{path.name}' does not match the DCGAN layout its metadata claims ({exc}).") from exc
    name = meta.get("name", path.stem)
    return DCGANGenerator(net, name=name, model_id=f"{name}@{file_digest(path)[:16]}")
