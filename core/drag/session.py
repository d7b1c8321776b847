"""A drag edit as a job: alternate motion supervision and point tracking on a StyleGAN-family model's w+ code
until every handle reaches its target, the step budget runs out, or the user stops it (a stop keeps the code
reached so far: the preview is the result).

The losses and the tracker are in :mod:`core.drag.motion`. As DragGAN, only the first w+ rows (the coarse
layers that decide pose and shape) are optimised, with Adam; the finer rows stay, so skin and hair keep their
texture. It runs on whatever weights ``G`` carries, so after pivotal tuning it drags the tuned copy, which knows
the photo's face.
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
    rows: int = 6  # optimise w+ rows [0, rows): the coarse layers (DragGAN's choice)
    supervision_radius: float = 3.0  # the disc of features pushed and compared (DragGAN's r1)
    search_radius: float = 4.0  # how far tracking looks for a handle each step
    stride: float = 3.0  # how far ahead each push reaches
    mask_weight: float = 10.0  # how strongly the unmasked region is held (with a mask)
    arrive_px: float = 1.0  # a handle this close to its target is done
    preview_every: int = 5  # render the image every this many steps (and at the end)

    def validate(self, G: StyleBasedGenerator) -> None:
        if not 1 <= self.steps <= 10_000:
            raise InvalidInputError(f"Drag steps must be 1–10000 (got {self.steps}).")
        if not 1 <= self.rows <= G.num_ws:
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
    latent: np.ndarray  # float32 [num_ws, w_dim]: the dragged w+ code
    image: np.ndarray  # uint8 [R, R, 3]: its image at the working resolution
    handles: tuple[tuple[float, float], ...]  # where the handles ended
    distances: list[float] = field(default_factory=list)  # mean distance before each step (drag-grid px)
    steps: int = 0  # steps taken
    seconds: float = 0.0
    stopped: bool = False  # the user stopped it (the code so far is kept)

    arrive_px: float = 1.0  # the settings' arrival distance

    @property
    def arrived(self) -> bool:
        """Every handle reached its target (within ``arrive_px``)."""
        return bool(self.distances) and self.distances[-1] <= self.arrive_px


def _style_model(G: Generator) -> StyleBasedGenerator:
    if not isinstance(G, StyleBasedGenerator):
        raise InvalidInputError(f"Drag editing needs a StyleGAN-family model (FFHQ or a StyleGAN2 checkpoint); "
                                f"{G.name} has no style layers to drag.")
    return G


def _tensor(points: list[tuple[float, float]], device: torch.device) -> torch.Tensor:
    return torch.tensor(points, dtype=torch.float32, device=device)


def drag_job(G: Generator, latent: np.ndarray, space: str | None, points: list[DragPoint], *,
             settings: DragSettings | None = None, mask: np.ndarray | None = None,
             cancel: CancelToken | None = None) -> JobGenerator[DragProgress, None, DragResult]:
    """Drag ``latent`` (one code [*shape] of ``space``) so the content under each handle moves to its target.

    ``mask`` (float [R, R] in [0, 1] at any square size, 1 = may move) holds the rest of the face in place.
    Yields a :class:`DragProgress` before each step and at the end; returns the :class:`DragResult`.
    """
    style = _style_model(G)
    settings = settings or DragSettings()
    settings.validate(style)
    check_points(points)
    started = time.perf_counter()
    with torch.enable_grad():
        start = style.convert_latent(torch.as_tensor(latent, dtype=torch.float32)[None].to(style.device),
                                     space or style.default_space, "w+").detach()  # [1, num_ws, w_dim]
        free = start[:, :settings.rows].clone().requires_grad_(True)
        optimizer = torch.optim.Adam([free], lr=settings.learning_rate)
        with torch.no_grad():
            first = style.drag_features(start)
        handles = _tensor([p.handle for p in points], first.device)
        targets = _tensor([p.target for p in points], first.device)
        templates = patch_templates(first, handles, radius=settings.supervision_radius)  # [K, Q, C]
        keep = None if mask is None else keep_weights(torch.as_tensor(mask, device=first.device), first.shape[-1])
        distances: list[float] = []
        step = 0
        while True:
            ws = torch.cat([free, start[:, settings.rows:]], 1)
            features = style.drag_features(ws)
            if step:
                handles = track_patches(features.detach(), handles, templates, radius=settings.supervision_radius,
                                        search=settings.search_radius)
            gaps = grid_distances(handles, targets)
            distances.append(float(gaps.mean()))
            moving = gaps > settings.arrive_px
            done = step >= settings.steps or not bool(moving.any()) or (cancel is not None and cancel.cancelled)
            preview = done or step % settings.preview_every == 0
            yield DragProgress(step, settings.steps, _pairs(handles), distances[-1],
                               _image(style, ws) if preview else None)
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
    final = ws.detach()
    return DragResult(final[0].cpu().numpy().astype(np.float32), _image(style, final), _pairs(handles),
                      distances, step, time.perf_counter() - started,
                      stopped=cancel is not None and cancel.cancelled, arrive_px=settings.arrive_px)


def _pairs(handles: torch.Tensor) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in handles.detach().cpu().tolist())


@torch.no_grad()
def _image(G: StyleBasedGenerator, ws: torch.Tensor) -> np.ndarray:
    return to_uint8_hwc(G.synthesize_ws(ws.detach()))[0]
