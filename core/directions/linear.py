"""Supervised directions (InterFaceGAN, Shen et al. CVPR 2020): a linear boundary between "yes" and "no" codes.

A person marks generated faces as having an attribute or not; a linear classifier on their latents separates
the two, and its unit normal is the direction that adds the attribute. The classifier is L2-regularised
logistic regression solved by Newton's method in float64: no dependency, no randomness, a few milliseconds
for hundreds of labels. A second, label-free way: the difference between two inverted photos' latents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.directions.apply import latent_scale
from core.directions.library import Direction
from core.errors import InvalidInputError
from core.generators import Generator

MAX_NEWTON_STEPS = 50


def fit_boundary(latents: np.ndarray | torch.Tensor, labels: Sequence[bool] | np.ndarray,
                 l2: float = 1e-2) -> tuple[np.ndarray, float, float]:
    """Logistic regression on ``latents`` [N, D] (flattened per sample) with boolean ``labels`` [N].

    Returns the unit normal [D] pointing from "no" to "yes", the bias of the unit-normal boundary
    (score = x·n + bias), and the training accuracy in [0, 1]. ``l2`` penalises the weights (not the bias),
    which keeps the fit finite when the labels are perfectly separable.
    """
    x = _as_matrix(latents)
    y = np.asarray(labels, dtype=bool)
    if y.shape != (len(x),):
        raise InvalidInputError(f"There are {len(x)} latents but {y.size} labels; give one label per latent.")
    if y.sum() < 2 or (~y).sum() < 2:
        raise InvalidInputError("Mark at least two examples yes and two no to fit a direction.")
    if not (np.isfinite(l2) and l2 > 0):
        raise InvalidInputError(f"The L2 weight must be a positive number (got {l2}).")
    w = _newton_logistic(np.hstack([x, np.ones((len(x), 1))]), y.astype(np.float64), l2)
    norm = float(np.linalg.norm(w[:-1]))
    if norm < 1e-12:
        raise InvalidInputError("The labels do not depend on the latent at all; no direction can be found.")
    accuracy = float(np.mean((x @ w[:-1] + w[-1] > 0) == y))
    return w[:-1] / norm, float(w[-1] / norm), accuracy


def _newton_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Weights [D + 1] (last: bias) minimising mean log-loss + l2/2 · |w|², by damped Newton steps."""
    n, d = x.shape
    penalty = np.full(d, l2)
    penalty[-1] = 0.0  # the bias is free

    def loss(w: np.ndarray) -> float:
        s = x @ w
        return float(np.mean(np.logaddexp(0.0, s) - y * s) + 0.5 * np.sum(penalty * w * w))

    w = np.zeros(d)
    for _ in range(MAX_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -500, 500)))
        grad = x.T @ (p - y) / n + penalty * w
        hess = (x.T * (p * (1 - p))) @ x / n + np.diag(penalty) + 1e-10 * np.eye(d)
        step = np.linalg.solve(hess, grad)
        t, current = 1.0, loss(w)
        while loss(w - t * step) > current and t > 1e-6:  # backtrack: Newton can overshoot far from the optimum
            t *= 0.5
        w = w - t * step
        if np.max(np.abs(t * step)) < 1e-9:
            break
    return w


def supervised_direction(
    G: Generator, latents: np.ndarray | torch.Tensor, labels: Sequence[bool] | np.ndarray, name: str,
    space: str | None = None, l2: float = 1e-2,
) -> Direction:
    """A named direction for ``G`` from labelled latents [N, *shape] of ``space`` (see :func:`fit_boundary`)."""
    shape = G.space(space).shape
    x = _as_matrix(latents)
    if x.shape[1] != int(np.prod(shape)):
        raise InvalidInputError(f"Latents of {x.shape[1]} values do not fit {G.name}'s space {shape}.")
    normal, bias, accuracy = fit_boundary(x, labels, l2)
    y = np.asarray(labels, dtype=bool)
    vector = normal.reshape(shape).astype(np.float32)
    space_name = G.space(space).name
    return Direction(name=name, vector=vector, space=space_name, model_id=G.model_id, method="supervised",
                     scale=latent_scale(G, vector, space_name),
                     provenance={"labels": len(y), "positives": int(y.sum()), "training_accuracy": accuracy,
                                 "bias": bias, "l2": l2})


def direction_from_two_latents(
    a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor, G: Generator, name: str = "two-photos",
    space: str | None = None,
) -> Direction:
    """The unit direction from latent ``a`` to latent ``b`` (b − a), its length recorded in ``provenance``.

    With the default scale, α = 1 moves one std of the model's latents; the full step from a to b is
    α = length / scale (also recorded, as ``alpha_to_b``).
    """
    shape = G.space(space).shape
    va, vb = (_as_matrix(v).reshape(-1) for v in (a, b))
    if va.shape != vb.shape or va.size != int(np.prod(shape)):
        raise InvalidInputError(f"Both latents must fit {G.name}'s space {shape} (got {va.size} and {vb.size} values).")
    diff = vb - va
    length = float(np.linalg.norm(diff))
    if length < 1e-8:
        raise InvalidInputError("The two latents are the same, so they give no direction; use two different photos.")
    vector = (diff / length).reshape(shape).astype(np.float32)
    space_name = G.space(space).name
    scale = latent_scale(G, vector, space_name)
    return Direction(name=name, vector=vector, space=space_name, model_id=G.model_id, method="two-photos",
                     scale=scale, provenance={"length": length, "alpha_to_b": length / scale})


def _as_matrix(latents: np.ndarray | torch.Tensor) -> np.ndarray:
    """Latents as float64 [N, D] (one flattened code per row); a single code becomes one row."""
    x = latents.detach().cpu().numpy() if isinstance(latents, torch.Tensor) else np.asarray(latents)
    if not np.issubdtype(x.dtype, np.floating) or x.size == 0:
        raise InvalidInputError(f"Latents must be floating-point numbers, got {x.dtype} of shape {x.shape}.")
    x = x.astype(np.float64).reshape(len(x) if x.ndim > 1 else 1, -1)
    if not np.isfinite(x).all():
        raise InvalidInputError("The latents contain NaN or infinite values.")
    return x
