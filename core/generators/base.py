"""The generator contract every model (embedded DCGAN, user StyleGAN2) implements.

Inversion, directions, inpainting and landscape plots only speak this interface, so a new architecture is one
adapter. Images are float NCHW in [-1, 1]; latents are float tensors whose per-sample shape the model declares
in ``latent_spaces`` (``z`` is the Gaussian input; StyleGAN adds ``w`` and per-layer ``w+``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from core.device import seeded_generator
from core.errors import InvalidInputError


@dataclass(frozen=True)
class LatentSpace:
    """One latent space of a model and the Gaussian that describes where its codes live."""

    name: str  # "z", "w" or "w+"
    shape: tuple[int, ...]  # per-sample shape, e.g. (100,) or (num_ws, w_dim)
    gaussian_prior: bool  # True when codes are drawn from N(0, I) directly (z); False when mean/std are estimated


class Generator(ABC):
    """A pretrained image generator G: latent → image, frozen (inversion optimises latents, not weights)."""

    name: str  # human-readable model name
    model_id: str  # stable id: name plus a hash of the weights, stored with every result
    resolution: int  # output images are [N, 3, resolution, resolution]
    latent_spaces: dict[str, LatentSpace]
    default_space: str  # the space inversion optimises unless told otherwise
    device: torch.device
    net: torch.nn.Module  # the weights (pivotal tuning fine-tunes a copy of them; nothing else touches them)
    _base_model_id: str  # set on a pivotal-tuned copy only (see ``base_model_id``)

    @abstractmethod
    def synthesize(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        """Latents [N, *shape] of ``space`` → images [N, 3, R, R] in [-1, 1], differentiable in the latent."""

    @abstractmethod
    def sample_latent(self, n: int, seed: int, space: str | None = None) -> torch.Tensor:
        """Codes for seeds ``seed … seed + n - 1`` from the model's prior (private RNGs: global state untouched)."""

    @abstractmethod
    def latent_stats(self, space: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-dimension mean and std of the space's codes (shape ``shape``), for priors and noise scales."""

    @abstractmethod
    def to(self, device: torch.device | str) -> Generator:
        """Move the model in place and return it."""

    # Where inversion starts when its settings say "auto": "prior" (seeded draws) or "mean" (the mean latent)
    preferred_start = "prior"
    # The space drag editing optimises (``drag_features`` reads codes of it); None: the model cannot be dragged
    drag_space: str | None = None

    # Whether :meth:`synthesize_coarse` is a cheaper approximation (FFHQ: a to-image layer after its 128-px block)
    has_coarse_image = False

    def synthesize_coarse(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        """A cheaper, approximate :meth:`synthesize` for a descent's first steps (``coarse_steps``); the exact
        image on a model that has none."""
        return self.synthesize(latent, space)

    def prepare(self) -> None:
        """One-off work that the model's first use would otherwise pay mid-run (FFHQ: fitting its coarse image
        layer, ≈ 10 s the first time, kept afterwards); the editor calls it while loading. Nothing by default."""
        return None

    def drag_features(self, latent: torch.Tensor) -> torch.Tensor:
        """Codes [N, *shape] of ``drag_space`` → the synthesis features drag editing pushes and tracks [N, C, h, w]
        (DragGAN's: a mid-level block whose channels are specific enough to track a point and smooth enough to push
        it)."""
        raise InvalidInputError(f"{self.name} does not expose the features drag editing needs.")

    @property
    def render_resolution(self) -> int:
        """The side of :meth:`render`'s images: the model's full output, when it works at a smaller one."""
        return self.resolution

    def render(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        """Full-resolution images [N, 3, S, S] (S = ``render_resolution``) for paste-back and export; models whose
        working resolution is their output's (most) just synthesize."""
        return self.synthesize(latent, space)

    @property
    def base_model_id(self) -> str:
        """The id of the original weights: a pivotal-tuned copy keeps its base's, so the θ and encoder trained for
        the base still serve it (they map into the same latent space)."""
        return self.__dict__.get("_base_model_id", self.model_id)

    def space(self, name: str | None = None) -> LatentSpace:
        """The named latent space (default: ``default_space``); a clear error for one the model lacks."""
        key = name or self.default_space
        if key not in self.latent_spaces:
            raise InvalidInputError(
                f"{self.name} has no latent space '{key}' (it has: {', '.join(self.latent_spaces)})."
            )
        return self.latent_spaces[key]

    def convert_latent(self, latent: torch.Tensor, source: str, target: str | None = None) -> torch.Tensor:
        """Codes [N, *shape] of space ``source`` as codes of ``target`` (default: ``default_space``).

        Lets a θ, an encoder or a direction made for one space serve another (StyleGAN's w → w+). Only the
        identity here; models with several spaces override it. Refuses a conversion the model cannot make.
        """
        key = target or self.default_space
        if source != key:
            raise InvalidInputError(f"{self.name} cannot turn a '{source}' latent into a '{key}' latent.")
        return latent

    def mean_latent(self, space: str | None = None) -> torch.Tensor:
        """The centre of the latent distribution, [1, *shape] (note: for the DCGAN, z = 0 is a dead point)."""
        return self.latent_stats(space)[0].unsqueeze(0)

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        """Images for seeds ``seed … seed + n - 1``, [n, 3, R, R] in [-1, 1]."""
        return self.synthesize(self.sample_latent(n, seed))

    def gaussian_latent(self, n: int, seed: int, space: str | None = None) -> torch.Tensor:
        """Standard normal codes for seeds ``seed … seed + n - 1``, one seed per code (as StyleGAN's tools do).

        A seed names one face whatever the batch: the first k of n codes equal the k codes of a smaller draw.
        """
        shape = self.space(space).shape
        rows = [torch.randn(shape, generator=seeded_generator(seed + i)) for i in range(n)]
        return torch.stack(rows).to(self.device)  # [n, *shape]
