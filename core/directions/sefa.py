"""SeFa (Shen & Zhou, CVPR 2021): directions in closed form from the weights of the layer that reads the latent.

The first layer maps a latent z to A·z (+ bias); moving z by α·n changes its output by α·A·n, so the unit
directions that change the output most are the top eigenvectors of AᵀA. For several layers reading the same
latent (StyleGAN2's style affines, one per synthesis layer) the sum of their AᵀA is used. No sampling, no
training: deterministic, and instant.

Which layers read the latent is the model's business: a generator with ``style_weights(layers)`` (StyleGAN2:
the style affines [in_ch, w_dim] of the chosen w+ rows) gives its own, rows normalised as the official code does;
the DCGAN's first transposed conv is read here. Directions are in w; with a layer range they move those w+ rows
only (space "w+", ``layers`` set), as the official SeFa's layer-wise editing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from core.directions.apply import latent_scale
from core.directions.library import Direction
from core.errors import InvalidInputError
from core.generators import Generator
from core.generators.dcgan import DCGANGenerator


def sefa_basis(
    weights: Sequence[np.ndarray | torch.Tensor], count: int, normalize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``count`` eigenvectors [K, D] (unit, orthogonal, rows) and eigenvalues [K] (descending) of Σ AᵀA.

    Each weight A is [out, D]: rows are output units, columns index the latent. ``normalize`` scales each
    output unit's row to unit length first, as the official SeFa code does for StyleGAN's style layers, so no
    layer dominates by its weight scale. Signs are fixed (largest coordinate positive) so results are stable.
    """
    if not weights:
        raise InvalidInputError("SeFa needs at least one weight matrix.")
    dims = {int(a.shape[-1]) for a in weights}
    if len(dims) != 1 or any(a.ndim != 2 for a in weights):
        shapes = [tuple(a.shape) for a in weights]
        raise InvalidInputError(f"SeFa weights must be matrices [out, D] sharing one D, got {shapes}.")
    (dim,) = dims
    if not 1 <= count <= dim:
        raise InvalidInputError(f"SeFa can give between 1 and {dim} directions for this model (asked {count}).")
    gram = np.zeros((dim, dim), dtype=np.float64)
    for a in weights:
        a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        a = a.astype(np.float64)
        if normalize:
            a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        gram += a.T @ a  # [D, D]
    values, vectors = np.linalg.eigh(gram)  # ascending
    order = np.argsort(values)[::-1][:count]
    basis = vectors[:, order].T  # [K, D]
    return fix_signs(basis), values[order]


def fix_signs(rows: np.ndarray) -> np.ndarray:
    """Flip each row so its largest-magnitude coordinate is positive (eigenvector signs are arbitrary)."""
    picks = rows[np.arange(len(rows)), np.abs(rows).argmax(axis=1)]
    return rows * np.where(picks < 0, -1.0, 1.0)[:, None]


def dcgan_latent_weights(G: DCGANGenerator) -> list[torch.Tensor]:
    """The DCGAN's first transposed conv as A [C·4·4, z_dim]: its weight [z_dim, C, 4, 4] with latent columns.

    On a 1×1 input a transposed conv is a plain linear map: output (c, i, j) = Σ_k W[k, c, i, j] · z_k.
    """
    first = next((m for m in G.net.modules() if isinstance(m, nn.ConvTranspose2d)), None)
    z_dim = G.space("z").shape[0]
    if first is None or first.weight.shape[0] != z_dim:
        raise InvalidInputError(f"{G.name} has no transposed conv reading its {z_dim}-d latent first.")
    return [first.weight.detach().reshape(z_dim, -1).T]  # [C·16, z_dim]


def latent_weights(G: Generator, layers: tuple[int, int] | None = None) -> list[torch.Tensor]:
    """The weight matrices [out, D] that read ``G``'s default latent (of the w+ rows ``layers``, when given)."""
    style_weights = getattr(G, "style_weights", None)
    if callable(style_weights):
        return style_weights(layers)
    if layers is not None:
        raise InvalidInputError(f"{G.name} has no per-layer latent; SeFa cannot be limited to layers {layers}.")
    if isinstance(G, DCGANGenerator):
        return dcgan_latent_weights(G)
    raise InvalidInputError(f"SeFa does not know which layers read the latent of {G.name} yet; use PCA instead.")


def sefa_directions(G: Generator, count: int = 10, prefix: str = "sefa", layers: tuple[int, int] | None = None,
                    normalize: bool | None = None) -> tuple[list[Direction], np.ndarray]:
    """``count`` SeFa directions for ``G`` named ``{prefix}-00`` …, and their eigenvalues (descending).

    ``layers`` (half-open w+ rows, StyleGAN2 only) factorises those rows' affines and makes directions that move
    only those rows. ``normalize`` (default: True for style affines, as the official code; False for the DCGAN,
    whose shipped directions were made so) scales each output unit's row to unit length first.
    """
    weights = latent_weights(G, layers)
    normalize = callable(getattr(G, "style_weights", None)) if normalize is None else normalize
    basis, values = sefa_basis(weights, count, normalize)
    trace = sum(float(a.shape[0]) if normalize else float(a.double().square().sum()) for a in weights)
    share = values / max(trace, 1e-300)  # of trace(Σ AᵀA)
    space = G.default_space if layers is None else "w+"
    where = {} if layers is None else {"layers": list(layers)}
    directions = [
        Direction(name=f"{prefix}-{k:02d}", vector=v.astype(np.float32), space=space, model_id=G.model_id,
                  method="sefa", scale=latent_scale(G, v, space), layers=layers,
                  provenance={"component": k, "eigenvalue": float(values[k]), "share": float(share[k]),
                              "normalized": normalize, **where})
        for k, v in enumerate(basis)
    ]
    return directions, values
