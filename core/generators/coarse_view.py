"""A model seen through its coarse image: the same latent spaces and weights, ``synthesize`` = its coarse image.

Training θ unrolls many descents, each step a forward and two backward passes through the model; on FFHQ the coarse
image (:mod:`.coarse_head`) makes an iteration ≈ 4× cheaper and its unrolled graph 6× smaller. θ trained on this
view is gated on the exact model (``train-landscape --coarse-image``), so what ships is judged on what the editor
shows; measured on FFHQ, what θ learned there did not carry over to the exact image (docs/landscape.md), so it
stays an experiment the editor does not offer.
"""

from __future__ import annotations

import torch

from core.errors import InvalidInputError
from core.generators.base import Generator


def check_coarse_image(G: Generator) -> None:
    """Refuse, in words, a model that has no coarse image (before a run starts anything)."""
    if not G.has_coarse_image:
        raise InvalidInputError(f"{G.name} has no coarse image to train on; train on its exact image.")


class CoarseImage(Generator):
    """``exact`` with :meth:`synthesize` replaced by its :meth:`~Generator.synthesize_coarse`; everything else
    (latents, statistics, id, device) is the exact model's, so a θ trained here is a θ of the exact model."""

    def __init__(self, exact: Generator) -> None:
        check_coarse_image(exact)
        exact.prepare()  # fits the coarse image layer once, before any timing or memory plan sees it
        self.exact = exact
        self.name = exact.name  # shipped encoders and θ are found by name: the view's are the model's
        self.model_id = exact.model_id
        self.resolution = exact.resolution
        self.latent_spaces = exact.latent_spaces
        self.default_space = exact.default_space
        self.device = exact.device
        self.net = exact.net
        self.preferred_start = exact.preferred_start

    def synthesize(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        return self.exact.synthesize_coarse(latent, space)

    def synthesize_coarse(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        return self.exact.synthesize_coarse(latent, space)

    def sample_latent(self, n: int, seed: int, space: str | None = None) -> torch.Tensor:
        return self.exact.sample_latent(n, seed, space)

    def latent_stats(self, space: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.exact.latent_stats(space)

    def convert_latent(self, latent: torch.Tensor, source: str, target: str | None = None) -> torch.Tensor:
        return self.exact.convert_latent(latent, source, target)

    def mean_latent(self, space: str | None = None) -> torch.Tensor:
        return self.exact.mean_latent(space)

    def to(self, device: torch.device | str) -> CoarseImage:
        self.exact.to(device)
        self.device = self.exact.device
        return self

    @property
    def base_model_id(self) -> str:
        return self.exact.base_model_id
