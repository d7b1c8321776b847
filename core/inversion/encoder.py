"""An encoder E: image → latent for one generator, and its safe file format.

E is a plain convolutional network (stride-2 convolutions halving the image down to 4×4, then one linear layer
to the latent), trained on the generator's own samples (``encoder_training``). It predicts a latent in one
forward pass (~1 ms on a CPU for a 64-px model): the "encoder" method uses that latent as is, "hybrid" refines it
by optimisation (in-domain inversion, Zhu et al. 2020), and idinvert's consistency term ‖x − E(G(x))‖² keeps
the refined latent where the encoder can reach it. Saved as safetensors + JSON: loading never unpickles.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.errors import ModelLoadError
from core.generators import Generator
from core.generators.checked_build import build_checked, check_weights
from core.resources import resources_dir, trained_dir
from core.weight_files import read_weights, save_weights

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of E."""

    resolution: int = 64  # input images are [N, 3, resolution, resolution] in [-1, 1]
    latent_shape: tuple[int, ...] = (100,)  # per-sample shape of the latent E predicts
    width: int = 64  # channels of the first convolution; doubled at each halving, capped at 8 × width

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, label: str = "encoder") -> EncoderConfig:
        """The config an encoder file names, checked for types and reach before anything is built (a claimed
        latent of 10¹² numbers is refused here); :class:`ModelLoadError` naming ``label`` otherwise."""
        if not isinstance(data, dict) or set(data) != {"resolution", "latent_shape", "width"}:
            keys = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise ModelLoadError(f"'{label}' does not hold encoder settings (resolution, latent_shape, width): "
                                 f"found {keys}.")
        resolution, shape, width = data["resolution"], data["latent_shape"], data["width"]
        if not (_whole(resolution, 8, 4096) and resolution & (resolution - 1) == 0):
            raise ModelLoadError(f"'{label}' claims an encoder resolution of {resolution!r}; encoders take a "
                                 "power of two from 8 to 4096.")
        if not (isinstance(shape, list) and 1 <= len(shape) <= 4 and all(_whole(d, 1, 2**20) for d in shape)
                and math.prod(shape) <= MAX_LATENT_NUMBERS):
            raise ModelLoadError(f"'{label}' claims a latent shape of {shape!r}, which no model has.")
        if not _whole(width, 1, 4096):
            raise ModelLoadError(f"'{label}' claims an encoder width of {width!r}; encoders have 1 to 4096.")
        return cls(resolution, tuple(shape), width)


MAX_LATENT_NUMBERS = 2**20  # StyleGAN's w+ at 1024 px is 18 × 512


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


class LatentEncoder(nn.Module):
    """Image [N, 3, R, R] in [-1, 1] → latent [N, *latent_shape]."""

    def __init__(self, config: EncoderConfig = EncoderConfig(), seed: int = 0) -> None:
        super().__init__()
        if config.resolution < 8 or config.resolution & (config.resolution - 1):
            raise ModelLoadError(f"An encoder needs a power-of-two resolution ≥ 8 (got {config.resolution}).")
        self.config = config
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG stream
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            channels, size = 3, config.resolution
            while size > 4:
                out = min(config.width * 2 ** len(layers[::2]), 8 * config.width)
                layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.LeakyReLU(0.2)]
                channels, size = out, size // 2
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(channels * 16, math.prod(config.latent_shape))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.features(images).flatten(1)  # [N, C·4·4]
        return self.head(features).view(-1, *self.config.latent_shape)


def save_encoder(encoder: LatentEncoder, folder: Path, metadata: dict[str, Any]) -> Path:
    """Write ``encoder.safetensors`` and ``encoder.json`` (config + ``metadata``) into ``folder``, atomically."""
    meta = {"schema_version": SCHEMA_VERSION, "encoder": encoder.config.to_dict(), **metadata}
    return save_weights(folder, "encoder", encoder.state_dict(), meta)


def load_encoder(folder: Path) -> tuple[LatentEncoder, dict[str, Any]]:
    """Read an encoder written by :func:`save_encoder`; a clear :class:`ModelLoadError` for anything else."""
    folder = Path(folder)
    tensors, meta = read_weights(folder, "encoder", "encoder", SCHEMA_VERSION)
    label = str(folder / "encoder.safetensors")
    config = EncoderConfig.from_dict(meta.get("encoder"), str(folder / "encoder.json"))
    check_weights(tensors, label)
    # built on the meta device and compared with the file's tensors first: only an encoder the file fills is allocated
    try:
        encoder = build_checked(lambda: LatentEncoder(config), {k: v.shape for k, v in tensors.items()}, label,
                                "encoder")
        encoder.load_state_dict(tensors)
    except (ModelLoadError, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"'{folder}' has an encoder whose weights do not match its metadata ({exc}).") from exc
    return encoder.eval(), meta


def shipped_encoder_dir(G: Generator) -> Path:
    return shipped_encoder_folder(G.name)


def shipped_encoder_folder(name: str) -> Path:
    """The shipped encoder's folder for the model called ``name`` (the editor knows a model by its description)."""
    return resources_dir() / "encoders" / name


def encoder_folder(name: str, model_id: str) -> Path:
    """Where the encoder of the model called ``name`` (id ``model_id``) is looked for: the shipped one, else one
    trained here into the user's data folder."""
    shipped = shipped_encoder_folder(name)
    return shipped if (shipped / "encoder.json").is_file() else trained_dir(model_id, "encoder")


def has_encoder(name: str, model_id: str) -> bool:
    """Whether :func:`find_encoder` would find an encoder for the model, from the files alone: cheap, and without
    the model loaded, for a dialog."""
    return (encoder_folder(name, model_id) / "encoder.json").is_file()


def find_encoder(G: Generator, folder: str | Path | None = None) -> tuple[LatentEncoder, dict[str, Any]]:
    """The encoder for ``G`` (from ``folder``, else the shipped one, else one trained here into the user's data
    folder) on G's device, frozen, or :class:`ModelLoadError`.

    An encoder serves only the generator it was trained for (its metadata names the model id).
    """
    where = Path(folder) if folder else encoder_folder(G.name, G.base_model_id)
    if not (where / "encoder.json").is_file():
        raise ModelLoadError(f"No encoder for {G.name} at '{where}' (train one: landscape-studio train-encoder).")
    encoder, meta = load_encoder(where)
    if meta.get("generator_id") != G.base_model_id:
        raise ModelLoadError(f"The encoder at '{where}' was trained for {meta.get('generator_id')}, "
                             f"not {G.model_id}.")
    space = meta.get("space")
    if space is not None and (not isinstance(space, str) or space not in G.latent_spaces):
        raise ModelLoadError(f"The encoder at '{where}' predicts codes of a space {space!r} that {G.name} does not "
                             f"have ({', '.join(G.latent_spaces)}).")
    shape = tuple(G.space(space).shape)
    if tuple(encoder.config.latent_shape) != shape or encoder.config.resolution != G.resolution:
        raise ModelLoadError(f"The encoder at '{where}' predicts {encoder.config.latent_shape} latents from "
                             f"{encoder.config.resolution}-px images; {G.name} needs {shape} at {G.resolution} px.")
    return encoder.to(G.device).requires_grad_(False), meta
