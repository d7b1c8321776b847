"""Move latents along directions: ``latent + Σ αᵢ · scaleᵢ · dᵢ`` (α in std units), and make directions independent.

Edits are plain additions, so applying α and then −α gives the latent back (up to float rounding), and several
sliders combine in any order. A direction with ``layers`` set moves only those rows of a per-layer latent
[num_ws, w_dim] (StyleGAN's W+ style mixing: coarse layers change pose, fine ones colour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from core.directions.library import Direction
from core.errors import InvalidInputError
from core.generators import Generator

Latent = TypeVar("Latent", np.ndarray, torch.Tensor)
MIN_RESIDUAL = 1e-3  # a conditioned direction shorter than this (of 1) lies inside the others' span


def apply_directions(latent: Latent, edits: Sequence[tuple[Direction, float]]) -> Latent:
    """``latent`` moved by every (direction, α): numpy in → numpy out, torch in → torch out (same dtype/device).

    ``latent`` is one code [*shape] or a batch [N, *shape]; each direction's vector must match its trailing
    axes. With ``layers`` set, axis −2 is the layer axis ([num_ws, w_dim] or [N, num_ws, w_dim]) and only the
    rows ``layers[0]:layers[1]`` move. A new array or tensor is returned; ``latent`` is never modified.

    Anchored edits (truncation, style mixing: ``Direction.anchored``) come after the steps: each pulls the rows it
    acts on a fraction α of the way toward its point, ``x ← x + α (anchor − x)``, so truncation applies to the
    edited code, and a mixed layer range is the other code's whatever the sliders did there.
    """
    if not isinstance(latent, torch.Tensor | np.ndarray):
        raise InvalidInputError(f"A latent must be a numpy array or torch tensor, got {type(latent).__name__}.")
    if isinstance(latent, torch.Tensor):
        floating = latent.dtype.is_floating_point
    else:
        floating = np.issubdtype(latent.dtype, np.floating)
    if not floating:
        raise InvalidInputError(f"A latent must hold floating-point numbers, got {latent.dtype}.")
    shape = tuple(latent.shape)
    delta = np.zeros(shape[-2:] if len(shape) >= 2 else shape, dtype=np.float64)  # [*trailing]
    for direction, alpha in edits:
        if not direction.anchored:
            _add_edit(delta, shape, direction, float(alpha))
    if isinstance(latent, torch.Tensor):
        moved = latent + torch.as_tensor(delta, dtype=latent.dtype, device=latent.device)
    else:
        moved = latent + delta.astype(latent.dtype)
    for direction, alpha in edits:
        if direction.anchored:
            moved = _pull(moved, direction, float(alpha))
    return moved


def _pull(latent: Latent, direction: Direction, alpha: float) -> Latent:
    """``latent`` with the rows ``direction`` acts on moved a fraction ``alpha`` toward its anchor."""
    if not np.isfinite(alpha):
        raise InvalidInputError(f"The amount for '{direction.name}' must be a finite number (got {alpha}).")
    shape, anchor = tuple(latent.shape), direction.vector
    rows = slice(None) if direction.layers is None else slice(*direction.layers)
    if direction.layers is not None:
        if len(shape) < 2 or direction.layers[1] > shape[-2]:
            raise InvalidInputError(f"'{direction.name}' mixes layers {direction.layers[0]}–{direction.layers[1] - 1}"
                                    f", but the latent {list(shape)} has no such layers.")
        if anchor.ndim == 2:  # a whole per-layer code: its own rows supply those layers
            anchor = anchor[rows]
    target_shape = shape[-2:] if direction.layers is not None else shape[len(shape) - anchor.ndim:]
    if anchor.ndim > len(shape) or (direction.layers is None and target_shape != anchor.shape) or (
            direction.layers is not None and anchor.shape[-1] != shape[-1]):
        raise InvalidInputError(f"'{direction.name}' holds a point of shape {list(direction.vector.shape)}, but the "
                                f"latent is {list(shape)}; it belongs to another latent space or model.")
    if isinstance(latent, torch.Tensor):
        point: Any = torch.as_tensor(anchor, dtype=latent.dtype, device=latent.device)
        moved = latent.clone()
    else:
        point = anchor.astype(latent.dtype)
        moved = latent.copy()
    if direction.layers is None:
        return moved + alpha * (point - moved)
    moved[..., rows, :] = moved[..., rows, :] + alpha * (point - moved[..., rows, :])
    return moved


def apply_direction(latent: Latent, direction: Direction, alpha: float) -> Latent:
    """One edit: ``latent + α · scale · d`` (see :func:`apply_directions`)."""
    return apply_directions(latent, [(direction, alpha)])


def _add_edit(delta: np.ndarray, shape: tuple[int, ...], direction: Direction, alpha: float) -> None:
    """Add one edit into ``delta`` (the latent's last one or two axes) in place."""
    if not np.isfinite(alpha):
        raise InvalidInputError(f"The amount for '{direction.name}' must be a finite number (got {alpha}).")
    v = direction.vector.astype(np.float64) * (alpha * direction.scale)
    if shape[len(shape) - v.ndim:] != v.shape:
        raise InvalidInputError(
            f"Direction '{direction.name}' has shape {v.shape} but the latent is {shape}; it belongs to another "
            "latent space or model.")
    if direction.layers is None:
        delta += v  # broadcasts a [w_dim] vector over every layer
        return
    if len(shape) < 2 or v.ndim != 1:
        raise InvalidInputError(
            f"Direction '{direction.name}' edits layers {direction.layers}: it needs a per-layer latent "
            f"[num_ws, w_dim] and a [w_dim] vector, got a latent {shape}.")
    start, stop = direction.layers
    if stop > shape[-2]:
        raise InvalidInputError(
            f"Direction '{direction.name}' edits layers {start}–{stop - 1}, but the latent has {shape[-2]} layers.")
    delta[start:stop] += v


def conditional(direction: Direction, others: Sequence[Direction], name: str | None = None) -> Direction:
    """``direction`` with every component along ``others`` removed, renormalised (InterFaceGAN's conditioning).

    Moving along the result leaves the others' attributes (as linear scores) unchanged: e.g. "age" conditioned
    on "glasses" ages a face without adding glasses. The others are first made orthonormal (Gram–Schmidt), so
    correlated others are handled. ``scale`` is kept: exact for isotropic spaces such as z; in w, measure it
    again with :func:`latent_scale` if it matters. Raises when the direction lies (almost) in their span.
    """
    v = direction.vector.astype(np.float64).ravel()
    basis: list[np.ndarray] = []
    for other in others:
        if other.vector.shape != direction.vector.shape:
            raise InvalidInputError(
                f"Cannot condition '{direction.name}' {direction.vector.shape} on '{other.name}' "
                f"{other.vector.shape}: they live in different spaces.")
        u = other.vector.astype(np.float64).ravel()
        for b in basis:
            u = u - (u @ b) * b
        if np.linalg.norm(u) > MIN_RESIDUAL:  # skip others that repeat earlier ones
            basis.append(u / np.linalg.norm(u))
    for b in basis:
        v = v - (v @ b) * b
    residual = float(np.linalg.norm(v))
    if residual < MIN_RESIDUAL:
        names = ", ".join(o.name for o in others)
        raise InvalidInputError(
            f"'{direction.name}' lies almost entirely along {names}: nothing is left once they are held fixed.")
    vector = (v / residual).reshape(direction.vector.shape).astype(np.float32)
    provenance = {**direction.provenance, "conditioned_on": [o.name for o in others], "kept_fraction": residual}
    return direction.replace(name=name or direction.name, vector=vector, provenance=provenance)


def latent_scale(G: Generator, vector: np.ndarray, space: str | None = None, n: int = 2000, seed: int = 0) -> float:
    """The std of ``G``'s latents along unit ``vector``: the length of α = 1.

    A Gaussian-prior space (DCGAN's z) has independent dimensions with known std σ, so the answer is exact,
    sqrt(Σ vᵢ² σᵢ²) (= 1 in N(0, I)); otherwise it is measured on ``n`` codes sampled from seed ``seed``.
    """
    latent_space = G.space(space)
    v = np.asarray(vector, dtype=np.float64)
    v = v / max(float(np.linalg.norm(v)), 1e-300)  # the spread along the unit vector, whatever float rounding did
    if latent_space.gaussian_prior:
        std = G.latent_stats(space)[1].detach().cpu().double().numpy()  # [*shape]
        if std.shape != v.shape and std.shape[-1:] != v.shape:
            raise InvalidInputError(f"A vector of shape {v.shape} does not fit the space {latent_space.shape}.")
        std = std if std.shape == v.shape else std.reshape(-1, v.shape[-1]).mean(axis=0)
        return float(np.sqrt(np.sum(v * v * std * std)))
    with torch.no_grad():
        latents = G.sample_latent(n, seed, space).detach().cpu().double().numpy()  # [n, *shape]
    return sampled_scale(latents, v)


def sampled_scale(latents: np.ndarray, vector: np.ndarray) -> float:
    """Std of ``latents`` [n, *shape] projected on unit ``vector`` ([*shape], or [w_dim] for each of num_ws rows)."""
    v = np.asarray(vector, dtype=np.float64)
    v = v / max(float(np.linalg.norm(v)), 1e-300)
    x = np.asarray(latents, dtype=np.float64)
    if x.shape[1:] == v.shape:
        projected = x.reshape(len(x), -1) @ v.ravel()  # [n]
    elif x.ndim == 3 and x.shape[2:] == v.shape:
        projected = (x @ v).ravel()  # [n * num_ws]: every layer's code counts
    else:
        raise InvalidInputError(f"Latents {x.shape} cannot be projected on a vector of shape {v.shape}.")
    if len(projected) < 2:
        raise InvalidInputError("At least two latents are needed to measure a spread.")
    scale = float(projected.std())
    if not np.isfinite(scale) or scale <= 0:
        raise InvalidInputError("The model's latents do not vary along this direction; it cannot be scaled.")
    return scale
