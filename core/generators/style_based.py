"""What every StyleGAN-family generator shares: z → w by a mapping network, one w per modulated layer (w+),
``w_avg`` and truncation. StyleGAN2 checkpoints and the FFHQ MobileStyleGAN differ only in how ws become pixels.
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from core.device import seeded_generator
from core.errors import InvalidInputError
from core.generators.base import Generator, LatentSpace

W_STATS_SAMPLES = 10_000  # z draws mapped to estimate the per-dimension spread of W
W_STATS_SEED = 0


class StyleBasedGenerator(Generator):
    """Latent spaces z, w and w+ over a ``mapping`` and a ``synthesize_ws``; ``self.net.w_avg`` is the centre.

    ``default_space`` is ``w``: inverting in W (as NVIDIA's projector does) keeps the code on the mapped manifold,
    so the result edits and interpolates like a generated face; ``w+`` (one w per layer) reconstructs more but
    leaves the manifold, and stays available for callers that ask for it.
    """

    _w_std: torch.Tensor | None
    preferred_start = "mean"  # a random w is often far from any photo's face; w_avg is a face (NVIDIA, PTI start there)
    drag_space = "w+"  # drag frees the coarse rows of w+ (``drag_features`` reads ws [N, num_ws, w_dim])

    def _init_spaces(self, w_dim: int, num_ws: int, w_avg: torch.Tensor | None) -> None:
        """Declare the spaces and set ``w_avg`` (estimated from the mapping when the weights do not carry one)."""
        self.latent_spaces = {
            "z": LatentSpace("z", (w_dim,), gaussian_prior=True),
            "w": LatentSpace("w", (w_dim,), gaussian_prior=False),
            "w+": LatentSpace("w+", (num_ws, w_dim), gaussian_prior=False),
        }
        self.default_space = "w"
        self._w_std = None
        if w_avg is None:
            w_avg, self._w_std = self._estimate_w_stats()
        self.w_avg.copy_(w_avg.reshape(w_dim))

    @abstractmethod
    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, w_dim] → w [N, w_dim]."""

    @abstractmethod
    def synthesize_ws(self, ws: torch.Tensor) -> torch.Tensor:
        """ws [N, num_ws, w_dim] → images [N, 3, R, R]."""

    @property
    def w_avg(self) -> torch.Tensor:
        """The truncation centre [w_dim]: the checkpoint's ``latent_avg`` when it has one, else the mapped mean."""
        w_avg = self.net.w_avg
        assert isinstance(w_avg, torch.Tensor)  # a registered buffer of every style-based net
        return w_avg

    @property
    def w_dim(self) -> int:
        return self.latent_spaces["w"].shape[0]

    @property
    def num_ws(self) -> int:
        return self.latent_spaces["w+"].shape[0]

    def ws(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        """Any space's codes [N, *shape] → per-layer ws [N, num_ws, w_dim] (z is mapped, w is broadcast)."""
        key = space or self.default_space
        shape = self.space(key).shape
        latent = latent.to(self.device, torch.float32)
        if tuple(latent.shape[1:]) != shape:
            raise InvalidInputError(f"A '{key}' latent of {self.name} is [N, {', '.join(map(str, shape))}], "
                                    f"got {list(latent.shape)}.")
        if key == "w+":
            return latent
        w = self.mapping(latent) if key == "z" else latent  # [N, w_dim]
        return w[:, None, :].expand(-1, self.num_ws, -1)

    def synthesize(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        return self.synthesize_ws(self.ws(latent, space))

    def synthesize_coarse(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        return self.synthesize_coarse_ws(self.ws(latent, space))

    def synthesize_coarse_ws(self, ws: torch.Tensor) -> torch.Tensor:
        """ws → the coarse images (:attr:`has_coarse_image`); the exact ones unless a model has a cheaper way."""
        return self.synthesize_ws(ws)

    def convert_latent(self, latent: torch.Tensor, source: str, target: str | None = None) -> torch.Tensor:
        """z → w (mapped) or w+, w → w+ (broadcast); w+ → w and anything → z have no inverse and are refused."""
        key = target or self.default_space
        if key == source:
            return latent
        if key == "w+":
            return self.ws(latent, source)
        if key == "w" and source == "z":
            return self.mapping(latent.to(self.device, torch.float32))
        return super().convert_latent(latent, source, key)

    def truncation(self, ws: torch.Tensor, psi: float) -> torch.Tensor:
        """w or ws moved towards ``w_avg``: w_avg + ψ (w − w_avg). ψ = 1 leaves them, ψ = 0 gives the average face;
        ψ < 1 trades variety for typical, cleaner images."""
        return torch.lerp(self.w_avg.to(ws), ws, psi)

    @torch.no_grad()
    def sample_latent(self, n: int, seed: int, space: str | None = None) -> torch.Tensor:
        key = space or self.default_space
        z = self.gaussian_latent(n, seed, "z")  # [n, z_dim], one seed per row
        if key == "z":
            return z
        ws = self.ws(z, "z")  # [n, num_ws, w_dim]
        return ws if key == "w+" else ws[:, 0]

    def latent_stats(self, space: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        shape = self.space(space).shape
        if (space or self.default_space) == "z":
            return torch.zeros(shape, device=self.device), torch.ones(shape, device=self.device)
        if self._w_std is None:
            self._w_std = self._estimate_w_stats()[1]
        mean, std = self.w_avg, self._w_std.to(self.device)
        return mean.expand(shape).clone(), std.expand(shape).clone()

    @torch.no_grad()
    def _estimate_w_stats(self, n: int = W_STATS_SAMPLES, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std [w_dim] of ``n`` mapped z draws (fixed seed, so they are the same on every load)."""
        rng = seeded_generator(W_STATS_SEED)
        dim = self.latent_spaces["z"].shape[0]
        total = torch.zeros(dim, dtype=torch.float64, device=self.device)
        total_sq = torch.zeros_like(total)
        for start in range(0, n, batch):
            z = torch.randn(min(batch, n - start), dim, generator=rng).to(self.device)
            w = self.mapping(z).double()  # [b, w_dim]
            total += w.sum(0)
            total_sq += w.square().sum(0)
        mean = total / n
        std = (total_sq / n - mean.square()).clamp_min(0).mul(n / (n - 1)).sqrt()
        return mean.float(), std.float()

    def to(self, device: torch.device | str) -> StyleBasedGenerator:
        self.net.to(device)
        self.device = torch.device(device)
        if self._w_std is not None:
            self._w_std = self._w_std.to(self.device)
        return self


def check_layer_range(G: StyleBasedGenerator, layers: tuple[int, int] | None) -> tuple[int, int]:
    """``layers`` (half-open w+ rows, default all) checked against the model's rows."""
    start, stop = layers or (0, G.num_ws)
    if not 0 <= start < stop <= G.num_ws:
        raise InvalidInputError(f"{G.name} has w+ rows 0–{G.num_ws - 1}; layers {start}–{stop - 1} are out of range.")
    return start, stop
