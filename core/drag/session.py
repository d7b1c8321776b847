"""A drag edit as a job: alternate motion supervision and point tracking on a model's code (its ``drag_space``:
w+ on StyleGAN-family models) until every handle reaches its target, the step budget runs
out, or the user stops it (a stop keeps the code reached so far: the preview is the result).

The losses and the tracker are in :mod:`core.drag.motion`. On w+, as DragGAN, only the first rows (the coarse
layers that decide pose and shape) are optimised, with Adam; the finer rows stay, so skin and hair keep their
texture; a model whose drag space has no rows moves its whole code. It runs on whatever weights ``G`` carries, so
after pivotal tuning it drags the tuned copy, which knows the photo's face.
"""

from __future__ import annotations

import time
from collections.abc import Generator as JobGenerator
from dataclasses import dataclass, field

import numpy as np
import torch

from core.device import to_uint8_hwc
from core.drag.motion import (
    grid_distances,
    keep_weights,
    mask_loss,
    patch_templates,
    template_loss,
    track_patches,
)
from core.drag.points import DragPoint, check_points
from core.errors import InvalidInputError
from core.generators import Generator
from core.generators.style_based import StyleBasedGenerator
from core.jobs import CancelToken


@dataclass(frozen=True, kw_only=True)
class DragSettings:
    """How a drag runs. Radii and ``arrive_px`` are in pixels of the 256-px drag grid (``core.drag.motion``)."""

    steps: int = 120  # the most optimisation steps
    learning_rate: float = 5e-3  # Adam on the free w+ rows
    rows: int = 6  # optimise w+ rows [0, rows): the coarse layers (DragGAN's choice); a z code moves whole
    supervision_radius: float = 3.0  # the disc of features pushed and compared (DragGAN's r1)
    search_radius: float = 4.0  # how far tracking looks for a handle each step
    stride: float = 3.0  # how far ahead each push reaches
    mask_weight: float = 10.0  # how strongly the unmasked region is held (with a mask)
    arrive_px: float = 1.0  # a handle this close to its target is done
    preview_every: int = 5  # render the image every this many steps (and at the end)

    def validate(self, G: Generator) -> None:
        if not 1 <= self.steps <= 10_000:
            raise InvalidInputError(f"Drag steps must be 1–10000 (got {self.steps}).")
        if isinstance(G, StyleBasedGenerator) and not 1 <= self.rows <= G.num_ws:
            raise InvalidInputError(f"{G.name} has {G.num_ws} w+ rows; drag can free 1–{G.num_ws} (got {self.rows}).")
        numbers = (self.learning_rate, self.supervision_radius, self.search_radius, self.stride, self.arrive_px)
        if not all(np.isfinite(v) and v > 0 for v in numbers) or not self.mask_weight >= 0:
            raise InvalidInputError("Drag settings must be positive finite numbers.")
        if self.preview_every < 1:
            raise InvalidInputError("Drag previews must come every 1 step or more.")


@dataclass(frozen=True)
class DragProgress:
    step: int  # optimisation steps done
    steps: int  # the budget
    handles: tuple[tuple[float, float], ...]  # where the handles are now (fractions of the square)
    distance: float  # mean handle-to-target distance, drag-grid pixels
    image: np.ndarray | None  # uint8 [R, R, 3] on preview steps, else None


@dataclass(frozen=True)
class DragResult:
    latent: np.ndarray  # float32 [*shape] of ``space``: the dragged code
    image: np.ndarray  # uint8 [R, R, 3]: its image at the working resolution
    handles: tuple[tuple[float, float], ...]  # where the handles ended
    distances: list[float] = field(default_factory=list)  # mean distance before each step (drag-grid px)
    steps: int = 0  # steps taken
    seconds: float = 0.0
    stopped: bool = False  # the user stopped it (the code so far is kept)

    arrive_px: float = 1.0  # the settings' arrival distance
    space: str = "w+"  # the space of ``latent`` (the model's ``drag_space``)

    @property
    def arrived(self) -> bool:
        """Every handle reached its target (within ``arrive_px``)."""
        return bool(self.distances) and self.distances[-1] <= self.arrive_px


def _drag_space(G: Generator) -> str:
    if G.drag_space is None:
        raise InvalidInputError(f"Drag editing needs a StyleGAN-family model (FFHQ or a StyleGAN2 checkpoint); "
                                f"{G.name} has no style layers to drag.")
    return G.drag_space


def _free_rows(G: Generator, settings: DragSettings) -> int | None:
    """How many leading rows of the code move (w+), or None when the whole code does (z)."""
    return settings.rows if isinstance(G, StyleBasedGenerator) and G.drag_space == "w+" else None


def _tensor(points: list[tuple[float, float]], device: torch.device) -> torch.Tensor:
    return torch.tensor(points, dtype=torch.float32, device=device)


def drag_job(G: Generator, latent: np.ndarray, space: str | None, points: list[DragPoint], *,
             settings: DragSettings | None = None, mask: np.ndarray | None = None,
             cancel: CancelToken | None = None) -> JobGenerator[DragProgress, None, DragResult]:
    """Drag ``latent`` (one code [*shape] of ``space``) so the content under each handle moves to its target.

    ``mask`` (float [R, R] in [0, 1] at any square size, 1 = may move) holds the rest of the face in place.
    Yields a :class:`DragProgress` before each step and at the end; returns the :class:`DragResult`.
    """
    drag_space = _drag_space(G)
    settings = settings or DragSettings()
    settings.validate(G)
    check_points(points)
    rows = _free_rows(G, settings)
    started = time.perf_counter()
    with torch.enable_grad():
        start = G.convert_latent(torch.as_tensor(latent, dtype=torch.float32)[None].to(G.device),
                                 space or G.default_space, drag_space).detach()  # [1, *shape]
        free = start[:, :rows].clone().requires_grad_(True)
        optimizer = torch.optim.Adam([free], lr=settings.learning_rate)
        with torch.no_grad():
            first = G.drag_features(start)
        handles = _tensor([p.handle for p in points], first.device)
        targets = _tensor([p.target for p in points], first.device)
        templates = patch_templates(first, handles, radius=settings.supervision_radius)  # [K, Q, C]
        keep = None if mask is None else keep_weights(torch.as_tensor(mask, device=first.device), first.shape[-1])
        distances: list[float] = []
        step = 0
        while True:
            code = free if rows is None else torch.cat([free, start[:, rows:]], 1)
            features = G.drag_features(code)
            if step:
                handles = track_patches(features.detach(), handles, templates, radius=settings.supervision_radius,
                                        search=settings.search_radius)
            gaps = grid_distances(handles, targets)
            distances.append(float(gaps.mean()))
            moving = gaps > settings.arrive_px
            done = step >= settings.steps or not bool(moving.any()) or (cancel is not None and cancel.cancelled)
            image = _image(G, code, drag_space) if done or step % settings.preview_every == 0 else None
            yield DragProgress(step, settings.steps, _pairs(handles), distances[-1], image)
            if done or (cancel is not None and cancel.cancelled):
                break
            loss = template_loss(features, handles, targets, templates, radius=settings.supervision_radius,
                                 stride=settings.stride, moving=moving)
            if keep is not None and settings.mask_weight > 0:
                loss = loss + settings.mask_weight * mask_loss(features, first, keep)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
    if image is None:  # stopped between previews
        image = _image(G, code, drag_space)
    return DragResult(code.detach()[0].cpu().numpy().astype(np.float32), image, _pairs(handles),
                      distances, step, time.perf_counter() - started,
                      stopped=cancel is not None and cancel.cancelled, arrive_px=settings.arrive_px, space=drag_space)


def _pairs(handles: torch.Tensor) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in handles.detach().cpu().tolist())


@torch.no_grad()
def _image(G: Generator, code: torch.Tensor, space: str) -> np.ndarray:
    return to_uint8_hwc(G.synthesize(code.detach(), space))[0]
