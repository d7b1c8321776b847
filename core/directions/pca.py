"""GANSpace (Härkönen et al., NeurIPS 2020): directions from the principal components of what the model computes.

In a learned space (StyleGAN's w) the codes themselves are anisotropic, so their principal components are the
directions along which faces vary most. In an isotropic Gaussian space (the DCGAN's z) every direction has the
same spread and PCA of z says nothing; there GANSpace takes the PCA of an early layer's activations instead and
carries each component back to z by least squares (z ≈ U·x, x the sample's component coordinates).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from core.directions.apply import latent_scale
from core.directions.library import Direction
from core.directions.sefa import fix_signs
from core.errors import InvalidInputError
from core.generators import Generator
from core.generators.dcgan import DCGANGenerator

MAX_SAMPLES = 100_000  # more is no better basis, only hours and gigabytes of activations
DEFAULT_SAMPLES = 1000  # activations of 1000 faces: ~2 s on two CPU cores for the DCGAN


class _Captured(Exception):
    """Raised by the hook to stop the forward pass once the wanted layer has run."""


def layer_activations(module: nn.Module, layer: str, run: Callable[[], object]) -> torch.Tensor:
    """The output of ``module``'s sub-module named ``layer`` (as in ``named_modules``) while ``run()`` executes.

    A forward hook records it and then stops the pass, so layers after it cost nothing. Works for any module.
    """
    try:
        target = module.get_submodule(layer)
    except AttributeError as exc:
        names = ", ".join(n for n, _ in module.named_modules() if n)[:300]
        raise InvalidInputError(f"The model has no layer '{layer}' (it has: {names}).") from exc
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        captured.append(output.detach())
        raise _Captured

    handle = target.register_forward_hook(hook)
    try:
        with torch.no_grad():
            run()
    except _Captured:
        pass
    finally:
        handle.remove()
    if not captured:
        raise InvalidInputError(f"The layer '{layer}' did not run during the forward pass.")
    return captured[0]


def principal_components(samples: np.ndarray | torch.Tensor, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of ``samples`` [N, F]: components [K, F] (unit rows), coordinates [N, K], explained-variance ratios [K].

    Exact and deterministic (an eigendecomposition, no random projections), through the smaller of the Gram
    matrix [N, N] and the covariance [F, F]; ratios are shares of the total variance, in descending order.
    """
    x = torch.as_tensor(samples).detach().cpu().float().reshape(len(samples), -1)
    n, f = x.shape
    if not 1 <= count <= min(n - 1, f):
        raise InvalidInputError(f"PCA of {n} samples of {f} values gives 1 to {min(n - 1, f)} components "
                                f"(asked {count}); sample more.")
    x = x - x.mean(dim=0)
    small = (x @ x.T if n <= f else x.T @ x).double().numpy()  # [N, N] or [F, F]
    values, vectors = np.linalg.eigh(small)
    order = np.argsort(values)[::-1][:count]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    x64 = x.double().numpy()
    if n <= f:
        coords = vectors * np.sqrt(values)  # [N, K]
        components = (x64.T @ vectors / np.maximum(np.sqrt(values), 1e-300)).T  # [K, F]
    else:
        components, coords = vectors.T, x64 @ vectors
    total = max(float(np.square(x64).sum()), 1e-300)
    return components, coords, values / total


def activation_layer(G: Generator) -> tuple[nn.Module, str]:
    """The module and layer name whose activations PCA uses for ``G`` (the DCGAN's first up-block)."""
    if isinstance(G, DCGANGenerator):
        return G.net, "blocks.0"
    raise InvalidInputError(f"PCA does not know which early layer of {G.name} to use; give one by name.")


def pca_directions(
    G: Generator, count: int = 10, samples: int = DEFAULT_SAMPLES, seed: int = 0, layer: str | None = None,
    prefix: str = "pca",
) -> tuple[list[Direction], np.ndarray]:
    """``count`` GANSpace directions in ``G``'s default space named ``{prefix}-00`` …, and their
    explained-variance ratios (descending), from ``samples`` latents of seeds ``seed`` … ``seed + samples − 1``."""
    space = G.space()
    if not 2 <= samples <= MAX_SAMPLES:
        raise InvalidInputError(f"PCA needs from 2 to {MAX_SAMPLES} samples (got {samples}).")
    with torch.no_grad():
        z = G.sample_latent(samples, seed)  # [N, *shape]
    if space.gaussian_prior:
        module, name = activation_layer(G) if layer is None else (_net(G), layer)
        acts = layer_activations(module, name, lambda: G.synthesize(z))  # [N, C, H, W]
        _, coords, ratios = principal_components(acts, count)
        latents = z.detach().cpu().double().numpy().reshape(samples, -1)  # [N, D]
        basis = np.linalg.lstsq(coords, latents - latents.mean(axis=0), rcond=None)[0]  # [K, D]: z ≈ coords · U
        source: dict[str, str | None] = {"layer": name, "regressed_to": space.name}
    else:
        codes = z[:, 0] if len(space.shape) == 2 else z  # per-layer spaces: PCA of one layer's code (w)
        basis, _, ratios = principal_components(codes, count)
        source = {"layer": None}
    basis = fix_signs(basis / np.linalg.norm(basis, axis=1, keepdims=True))
    shape = space.shape[1:] if len(space.shape) == 2 else space.shape
    directions = [
        Direction(name=f"{prefix}-{k:02d}", vector=v.reshape(shape).astype(np.float32), space=space.name,
                  model_id=G.model_id, method="pca", scale=latent_scale(G, v.reshape(shape), space.name),
                  provenance={"component": k, "explained_variance": float(ratios[k]), "samples": samples,
                              "seed": seed, **source})
        for k, v in enumerate(basis)
    ]
    return directions, ratios


def _net(G: Generator) -> nn.Module:
    net = getattr(G, "net", None)
    if not isinstance(net, nn.Module):
        raise InvalidInputError(f"{G.name} does not expose its network, so its layers cannot be read.")
    return net
