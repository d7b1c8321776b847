"""Loss landscapes: the inversion's objective on a 2-D plane (or a line) through a latent.

A slice is ``loss(center + x · axes[0] + y · axes[1])`` on a ``grid × grid`` lattice with x, y in
[-span, span]. The axes carry their own scale, so a coordinate of 1 is "one axis length":

- ``trajectory``: the top two principal directions of the optimisation path (PCA around the path's mean, as in
  Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"), each scaled so the path spans about ±1;
  the centre is the path's last point (the result), and the path itself is returned projected onto the plane.
- ``random``: two seeded Gaussian directions, orthonormalised, then scaled to the norm of the centre latent
  ("filter normalisation" for a single latent: a coordinate of 1 moves the latent as far as it is from 0).
- ``edit:a,b``: two named directions of a library, each × its ``scale`` (one std of the model's latents along
  it), so coordinates read like the Directions panel's sliders (in std units).

``space`` "x" slices the generator's own latent; "z" slices the learned space of θ (the generator sees θ(z)),
which is where the ``landscape`` inversion method descends (for its first ``horizon`` steps, or throughout for a
θ whose Adam goes on in Z). A z-slice needs the
z-path of such a run: :func:`landscape_trajectory` reads it from the ``InversionStep.z`` records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from collections.abc import Generator as Job
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from core.errors import InvalidInputError
from core.generators import Generator
from core.jobs import CancelToken
from core.objectives import LossWeights, Objective
from core.objectives.operators import Mask, compose_operators, parse_operator
from core.objectives.priors import gaussian_nll
from core.theta import LandscapeMapping, theta_latent

SPACES = ("x", "z")
TERMS = ("total", "pixel", "lpips", "prior")
LossFn = Callable[[torch.Tensor], torch.Tensor]


MAX_SPAN = 1e4  # axis units; a span of 1e300 puts every grid point at inf

@dataclass(frozen=True)
class SliceConfig:
    """Settings of one loss-landscape slice."""

    dirs: str = "trajectory"  # "trajectory" | "random" | "edit:a,b" (two direction names from a library)
    grid: int = 65  # points per side (odd, so the centre is a grid point), 3..257
    span: float = 2.0  # half-width of the grid in units of each axis (the axes carry their scale)
    space: str = "x"  # "x": the generator's latent; "z": the learned space through θ (x = θ(z))
    term: str = "total"  # "total" or one loss term ("pixel", "lpips", "prior"), unweighted
    seed: int = 0  # seeds the random axes
    batch: int = 256  # latents per forward pass

    def validate(self) -> None:
        """Raise :class:`InvalidInputError` naming the setting that is out of range."""
        if self.dirs not in ("trajectory", "random") and len(edit_names(self.dirs)) != 2:
            raise InvalidInputError(f"Unknown slice directions '{self.dirs}'; choose trajectory, random or "
                                    "edit:NAME,NAME (two direction names).")
        if not (3 <= self.grid <= 257 and self.grid % 2 == 1):
            raise InvalidInputError(f"The grid must be an odd number of points from 3 to 257 (got {self.grid}).")
        if not (math.isfinite(self.span) and 0 < self.span <= MAX_SPAN):
            raise InvalidInputError(f"The span must be a number above 0 and at most {MAX_SPAN:g} (got {self.span}).")
        if self.space not in SPACES:
            raise InvalidInputError(f"Unknown slice space '{self.space}'; choose x or z.")
        if self.term not in TERMS:
            raise InvalidInputError(f"Unknown loss term '{self.term}'; choose one of: {', '.join(TERMS)}.")
        if not 1 <= self.batch <= 65536:
            raise InvalidInputError(f"The batch must be between 1 and 65536 (got {self.batch}).")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SliceConfig:
        """Inverse of :meth:`to_dict`; unknown keys are refused so a typo never passes silently."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidInputError(f"Unknown slice settings: {', '.join(sorted(unknown))}.")
        return cls(**data)


def edit_names(dirs: str) -> list[str]:
    """``"edit:a,b"`` → ``["a", "b"]`` (empty for anything else)."""
    if not dirs.startswith("edit:"):
        return []
    return [n.strip() for n in dirs[5:].split(",") if n.strip()]


@dataclass
class SliceRow:
    """Row ``index`` of the grid (y = ys[index]), streamed as soon as it is computed."""

    index: int
    values: np.ndarray  # float64 [grid]


@dataclass
class LandscapeSlice:
    loss: np.ndarray  # float64 [grid, grid], row = y, column = x; NaN where not computed (cancelled)
    xs: np.ndarray  # [grid] axis coordinates
    ys: np.ndarray  # [grid]
    center: np.ndarray  # [*shape] latent at (0, 0), in ``space``
    axes: np.ndarray  # [2, *shape] the two directions (with their scale), in ``space``
    trajectory: np.ndarray | None  # [T, 2] the optimisation path in axis coordinates, or None
    explained_variance: np.ndarray | None  # [2] fraction of the path's variance along each axis (trajectory axes)
    space: str
    term: str
    config: SliceConfig
    seconds: float
    cancelled: bool = False

    @property
    def center_loss(self) -> float:
        mid = self.loss.shape[0] // 2
        return float(self.loss[mid, mid])


def grid_coordinates(config: SliceConfig) -> np.ndarray:
    return np.linspace(-config.span, config.span, config.grid)  # [grid], 0 exactly in the middle


def slice_grid(loss_fn: LossFn, center: torch.Tensor, axes: torch.Tensor, config: SliceConfig,
               cancel: CancelToken | None = None) -> Job[SliceRow, None, LandscapeSlice]:
    """Evaluate ``loss_fn`` (latents [B, *shape] → [B]) on the grid; yields each :class:`SliceRow` in order.

    Rows are batched ``config.batch`` latents per call (several rows per call when they fit, a row in several
    calls when not). Cancelling stops between calls; the result then holds NaN in the rows not computed.
    """
    config.validate()
    began = time.perf_counter()
    _check_plane(center, axes)
    xs = ys = grid_coordinates(config)
    n = config.grid
    loss = np.full((n, n), np.nan)
    ax = torch.as_tensor(xs, dtype=center.dtype, device=center.device)
    rows_per_call = max(1, config.batch // n)
    cancelled = False
    for first in range(0, n, rows_per_call):
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        rows = range(first, min(n, first + rows_per_call))
        ay = torch.as_tensor(ys[rows.start:rows.stop], dtype=center.dtype, device=center.device)
        values = _evaluate_rows(loss_fn, center, axes, ax, ay, config.batch)  # [len(rows), n]
        for i, row in zip(rows, values, strict=True):
            loss[i] = row
            yield SliceRow(i, row.copy())
    return LandscapeSlice(loss, xs.copy(), ys.copy(), center.detach().cpu().numpy().copy(),
                          axes.detach().cpu().numpy().copy(), None, None, config.space, config.term, config,
                          time.perf_counter() - began, cancelled)


def _check_plane(center: torch.Tensor, axes: torch.Tensor) -> None:
    if tuple(axes.shape) != (2, *center.shape):
        raise InvalidInputError(f"The axes must be [2, {', '.join(map(str, center.shape))}] like the centre "
                                f"(got {list(axes.shape)}).")
    if not (bool(torch.isfinite(center).all()) and bool(torch.isfinite(axes).all())):
        raise InvalidInputError("The slice centre or axes contain NaN or infinite values.")


def _evaluate_rows(loss_fn: LossFn, center: torch.Tensor, axes: torch.Tensor, ax: torch.Tensor, ay: torch.Tensor,
                   batch: int) -> np.ndarray:
    """Losses at center + ax[j]·axes[0] + ay[i]·axes[1], as float64 [len(ay), len(ax)]."""
    shape = (1,) * center.dim()
    a, b = axes[0].unsqueeze(0), axes[1].unsqueeze(0)  # [1, *shape]
    points = [center.unsqueeze(0) + ax.view(-1, *shape) * a + y * b for y in ay]  # each [n, *shape]
    latents = torch.cat(points)  # [rows · n, *shape]
    out = []
    with torch.no_grad():
        for start in range(0, latents.shape[0], batch):
            out.append(loss_fn(latents[start:start + batch]).detach().double().cpu())
    return torch.cat(out).numpy().reshape(len(ay), len(ax))


def slice_line(loss_fn: LossFn, center: torch.Tensor, axis: torch.Tensor, config: SliceConfig
               ) -> tuple[np.ndarray, np.ndarray]:
    """1-D profile loss(center + t · axis) for t in [-span, span]: (ts [grid], loss [grid] float64)."""
    config.validate()
    _check_plane(center, torch.stack([axis, axis]))
    ts = grid_coordinates(config)
    zero = torch.zeros(1, dtype=center.dtype, device=center.device)
    values = _evaluate_rows(loss_fn, center, torch.stack([axis, torch.zeros_like(axis)]),
                            torch.as_tensor(ts, dtype=center.dtype, device=center.device), zero, config.batch)
    return ts, values[0]


def trajectory_axes(trajectory: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PCA of an optimisation path [T, *shape] → (axes [2, *shape], explained [2], coords [T, 2], center).

    The centre is the last point (the result). The axes are the top two principal directions of the points
    around their mean, each scaled by the path's largest distance from the centre along it, so the path's
    coordinates lie in [-1, 1] and a span of 2 shows it with a margin. ``explained`` is each axis's fraction of
    the path's total variance. A path with fewer than two independent moves gets a seeded orthogonal filler axis
    (explained 0) of the other axis's length.
    """
    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim < 2 or traj.shape[0] < 2 or not np.isfinite(traj).all():
        raise InvalidInputError("A trajectory needs at least 2 finite latents [T, *shape].")
    shape = traj.shape[1:]
    flat = traj.reshape(len(traj), -1)  # [T, D]
    if flat.shape[1] < 2:
        raise InvalidInputError("A 2-D slice needs latents of at least 2 dimensions.")
    centered = flat - flat.mean(0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    variance = s ** 2
    total = float(variance.sum())
    units = [vt[k] for k in range(min(2, len(s))) if total > 0 and variance[k] > 1e-12 * total]
    explained = np.array([variance[k] / total for k in range(len(units))] + [0.0] * (2 - len(units)))
    rng = np.random.default_rng(0)
    while len(units) < 2:  # degenerate path: fill with directions orthogonal to what is there
        units.append(_orthonormal_to(rng.standard_normal(flat.shape[1]), units))
    basis = np.stack(units)  # [2, D] orthonormal
    center = flat[-1]
    coords = (flat - center) @ basis.T  # [T, 2]
    extent = np.abs(coords).max(0)
    fallback = float(extent.max()) if extent.max() > 0 else max(float(np.linalg.norm(center)), 1.0)
    scale = np.where(extent > 0, extent, fallback)
    return ((basis * scale[:, None]).reshape(2, *shape), explained, coords / scale, center.reshape(shape))


def _orthonormal_to(v: np.ndarray, basis: Sequence[np.ndarray]) -> np.ndarray:
    for u in basis:
        v = v - (v @ u) * u
    return v / np.linalg.norm(v)


def random_axes(shape: Sequence[int], seed: int, scale: float) -> np.ndarray:
    """Two seeded random orthonormal directions [2, *shape] (Gaussian draws, Gram–Schmidt), × ``scale``.

    :func:`slice_for_photo` passes the norm of the centre latent as ``scale`` (filter normalisation).
    """
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if size < 2:
        raise InvalidInputError("A 2-D slice needs latents of at least 2 dimensions.")
    first = _orthonormal_to(rng.standard_normal(size), [])
    second = _orthonormal_to(rng.standard_normal(size), [first])
    return (np.stack([first, second]) * float(scale)).reshape(2, *shape)


def edit_axes(library: Any, names: list[str]) -> np.ndarray:
    """Two named directions of a ``DirectionLibrary``: vector × scale each, [2, *shape] (unit = one std)."""
    if len(names) != 2:
        raise InvalidInputError(f"An edit slice needs exactly two direction names (got {len(names)}).")
    directions = [library.get(name) for name in names]
    vectors = [np.asarray(d.vector, dtype=np.float64) * d.scale for d in directions]
    if vectors[0].shape != vectors[1].shape:
        raise InvalidInputError(f"Directions '{names[0]}' and '{names[1]}' have different shapes.")
    return np.stack(vectors)


def inversion_loss_fn(G: Generator, target: torch.Tensor, mask: torch.Tensor | None, config: Any,
                      term: str = "total", space: str = "x", theta: LandscapeMapping | None = None) -> LossFn:
    """The inversion's objective (with its mask and forward model) per latent, or one unweighted term of it.

    ``config`` is an ``InversionConfig`` (its loss weights, operator and latent space are used) or bare
    :class:`LossWeights`. For ``space`` "z" each point z is sent through θ first (the generator sees θ(z), the
    prior term judges θ(z)). A single term is evaluated even when its weight is 0 in ``config``.
    """
    if term not in TERMS:
        raise InvalidInputError(f"Unknown loss term '{term}'; choose one of: {', '.join(TERMS)}.")
    if space not in SPACES:
        raise InvalidInputError(f"Unknown slice space '{space}'; choose x or z.")
    if space == "z" and theta is None:
        raise InvalidInputError("A slice in z needs the landscape mapping θ.")
    weights = config if isinstance(config, LossWeights) else config.loss
    g_space = None if isinstance(config, LossWeights) else config.space
    operator_text = None if isinstance(config, LossWeights) else config.operator
    if term == "lpips" and weights.lpips == 0:
        weights = LossWeights(pixel=weights.pixel, lpips=1.0, prior=weights.prior, lpips_net=weights.lpips_net)
    target = target.to(G.device, torch.float32)
    masked = None if mask is None else Mask(mask.to(G.device, torch.float32))
    objective = Objective(G, target, None, weights, g_space, compose_operators(masked, parse_operator(operator_text)))
    if term == "lpips" and not objective.uses_lpips:
        raise InvalidInputError("The LPIPS term cannot be sliced: LPIPS is not available on this machine.")

    def loss_fn(latents: torch.Tensor) -> torch.Tensor:
        x = theta_latent(G, theta, latents, g_space) if space == "z" else latents  # type: ignore[arg-type]
        images = G.synthesize(x, g_space)
        if term == "prior":
            return gaussian_nll(x, objective.mean, objective.std)
        terms = objective(images, x)
        if term not in terms:
            raise InvalidInputError(f"The objective has no '{term}' term.")
        return terms[term]

    return loss_fn


def landscape_trajectory(steps: Sequence[Any], start: int = 0) -> np.ndarray:
    """The z-path [T, z_dim] of start ``start`` from a landscape inversion's ``InversionStep`` records.

    Only the steps taken in Z carry ``z``: all of them for a θ whose Adam goes on in Z (``handover_in_z``), else
    the first ``horizon`` updates, the last z being the one whose θ(z) was handed to Adam in X.
    """
    path = [s.z[start] for s in steps if getattr(s, "z", None) is not None]
    if len(path) < 2:
        raise InvalidInputError("These steps hold no z-path (was the inversion run with method 'landscape' and a "
                                "ready θ?).")
    return np.stack(path)


def latent_trajectory(steps: Sequence[Any], start: int = 0) -> np.ndarray:
    """The x-path [T, *shape] of start ``start`` from any inversion's ``InversionStep`` records."""
    return np.stack([s.latent[start] for s in steps])


def slice_for_photo(G: Generator, target: torch.Tensor, mask: torch.Tensor | None, inversion_config: Any,
                    slice_config: SliceConfig, trajectory: np.ndarray | None = None,
                    theta: LandscapeMapping | None = None, library: Any = None, cancel: CancelToken | None = None,
                    center: np.ndarray | None = None) -> Job[SliceRow, None, LandscapeSlice]:
    """The slice job for a photo: the inversion's objective around ``center`` (default: the trajectory's last
    point) along ``slice_config.dirs``. ``trajectory`` [T, *shape] is in the slice's space (z's for "z");
    ``theta`` defaults to G's shipped θ for "z"; ``library`` is needed for edit axes (x only)."""
    slice_config.validate()
    if slice_config.space == "z" and theta is None:
        from core.theta import find_mapping

        theta, _ = find_mapping(G, getattr(inversion_config, "landscape", None))
    if center is None and trajectory is None:
        raise InvalidInputError("A slice needs a centre latent or the trajectory of an inversion.")
    coords = explained = None
    if slice_config.dirs == "trajectory":
        if trajectory is None:
            raise InvalidInputError("Trajectory axes need the inversion's trajectory.")
        axes, explained, coords, path_center = trajectory_axes(trajectory)
        if center is None:
            center = path_center
        else:
            coords = _project(trajectory, np.asarray(center, dtype=np.float64), axes)
    else:
        if center is None:
            assert trajectory is not None  # refused above when both are missing
            center = trajectory[-1]
        center = np.asarray(center, dtype=np.float64)
        if slice_config.dirs == "random":
            axes = random_axes(center.shape, slice_config.seed, float(np.linalg.norm(center)) or 1.0)
        else:
            if slice_config.space != "x" or library is None:
                raise InvalidInputError("Edit axes need a direction library and the slice space x.")
            axes = edit_axes(library, edit_names(slice_config.dirs))
        if trajectory is not None:
            coords = _project(trajectory, center, axes)
    center_t = torch.as_tensor(np.asarray(center), dtype=torch.float32, device=G.device)
    axes_t = torch.as_tensor(np.asarray(axes), dtype=torch.float32, device=G.device)
    if tuple(axes_t.shape[1:]) != tuple(center_t.shape):
        raise InvalidInputError(f"The axes {list(axes_t.shape[1:])} do not match the latent {list(center_t.shape)}.")
    loss_fn = inversion_loss_fn(G, target, mask, inversion_config, slice_config.term, slice_config.space, theta)
    result = yield from slice_grid(loss_fn, center_t, axes_t, slice_config, cancel)
    result.trajectory, result.explained_variance = coords, explained
    return result


def _project(trajectory: np.ndarray, center: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Least-squares coordinates [T, 2] of the path in the (not necessarily orthogonal) axes around ``center``."""
    flat = np.asarray(trajectory, dtype=np.float64).reshape(len(trajectory), -1) - center.reshape(-1)
    basis = axes.reshape(2, -1).astype(np.float64)  # [2, D]
    coords, *_ = np.linalg.lstsq(basis.T, flat.T, rcond=None)
    return coords.T


def save_slice(s: LandscapeSlice, folder: Any) -> dict[str, Any]:
    """Write slice.npz / .csv / .json / .png into ``folder`` (see ``core.landscape.slice_io``)."""
    from core.landscape.slice_io import save_slice as write

    return write(s, folder)
