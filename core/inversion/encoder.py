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
from core.resources import resources_dir
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
    def from_dict(cls, data: dict[str, Any]) -> EncoderConfig:
        return cls(int(data["resolution"]), tuple(int(d) for d in data["latent_shape"]), int(data["width"]))


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
    try:
        encoder = LatentEncoder(EncoderConfig.from_dict(meta["encoder"]))
        encoder.load_state_dict(tensors)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"'{folder}' has an encoder whose weights do not match its metadata ({exc}).") from exc
    return encoder.eval(), meta


def shipped_encoder_dir(G: Generator) -> Path:
    return resources_dir() / "encoders" / G.name


def find_encoder(G: Generator, folder: str | Path | None = None) -> tuple[LatentEncoder, dict[str, Any]]:
    """The encoder for ``G`` (from ``folder`` or the shipped one) on G's device, frozen, or :class:`ModelLoadError`.

    An encoder serves only the generator it was trained for (its metadata names the model id).
    """
    where = Path(folder) if folder else shipped_encoder_dir(G)
    if not (where / "encoder.json").is_file():
        raise ModelLoadError(f"No encoder for {G.name} at '{where}' (train one: landscape-studio train-encoder).")
    encoder, meta = load_encoder(where)
    if meta.get("generator_id") != G.base_model_id:
        raise ModelLoadError(f"The encoder at '{where}' was trained for {meta.get('generator_id')}, "
                             f"not {G.model_id}.")
    shape = tuple(G.space(meta.get("space")).shape)
    if tuple(encoder.config.latent_shape) != shape or encoder.config.resolution != G.resolution:
        raise ModelLoadError(f"The encoder at '{where}' predicts {encoder.config.latent_shape} latents from "
                             f"{encoder.config.resolution}-px images; {G.name} needs {shape} at {G.resolution} px.")
    return encoder.to(G.device).requires_grad_(False), meta
