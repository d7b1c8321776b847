"""Clips of the generator's faces: an edit swept from a to b, a walk through latents, an inversion's progress.

Each kind reduces to one list of latents, a frame each (:func:`sweep_latents`, :func:`walk_latents`,
:func:`progress_latents`); :func:`write_animation` renders them at the model's full resolution, composites each
into the photo at the photo's resolution (aligned faces un-warped, the "detail" composite keeping the photo's own
texture) and streams the frames to the clip file — one job, with progress and cancel, for the CLI and the editor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from collections.abc import Generator as Job
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.animation.clip_writer import GIF_MAX_SIDE, ClipWriter, clip_format, fit_frame, frame_size
from core.animation.timing import ClipTiming, ease, interpolate
from core.device import to_uint8_hwc
from core.directions import Direction
from core.errors import InvalidInputError
from core.generators import Generator
from core.jobs import CancelToken
from core.photo_jobs.edit import edited_latent, render_latent
from core.placement import Placement, check_composite_mode

RENDER_CHUNK = 8  # frames rendered in one batch: the generator's fixed costs shared, memory bounded
Compose = Callable[[np.ndarray], np.ndarray]  # a rendered face → the whole frame (the photo with it composited)


@dataclass(frozen=True)
class Sweep:
    """One direction's part in an edit clip: its amount (std units) goes from ``start`` to ``end``."""

    direction: Direction
    start: float
    end: float


@dataclass(frozen=True, kw_only=True)
class Backdrop:
    """The photo a clip's faces are composited into, as the editor and ``edit`` composite a result."""

    pixels: np.ndarray  # uint8 [H, W, 3] the photo at full resolution
    placement: Placement
    feather: float
    reference: np.ndarray | None = None  # uint8 [S, S, 3] the unchanged face ("detail" adds only the change)
    fill_mask: np.ndarray | None = None  # an inpainted result changes only these pixels

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    def compose(self, image: np.ndarray) -> np.ndarray:
        return self.placement.composite(self.pixels, image, fill_mask=self.fill_mask, feather=self.feather,
                                        reference=self.reference)


@dataclass(frozen=True)
class AnimationProgress:
    frame: int  # frames written so far
    frames: int


@dataclass(frozen=True)
class AnimationResult:
    path: Path | None  # None when cancelled (no file is left)
    frames: int  # frames written
    size: tuple[int, int]  # (width, height) of the clip
    seconds: float  # wall time of the export
    cancelled: bool


def backdrop_for(G: Generator, pixels: np.ndarray, placement: Placement, *, latent: np.ndarray,
                 space: str | None, composite: str, feather: float,
                 fill_mask: np.ndarray | None = None) -> Backdrop:
    """The backdrop for a photo whose face is ``latent``: with the "detail" composite its full render is the
    reference each frame's change is taken from, so the first frame of an edit from 0 is the photo itself."""
    check_composite_mode(composite)
    reference = render_latent(G, latent, space, full=True) if composite == "detail" else None
    return Backdrop(pixels=pixels, placement=placement, feather=feather, reference=reference, fill_mask=fill_mask)


def sweep_latents(G: Generator, latent: np.ndarray, space: str | None, sweeps: Sequence[Sweep],
                  timing: ClipTiming) -> tuple[list[np.ndarray], str | None]:
    """A latent per frame: ``latent`` with every sweep's amount eased from its start to its end (and back when
    looping), by the edit rule the sliders use (:func:`core.photo_jobs.edited_latent`); and their space."""
    if not sweeps:
        raise InvalidInputError("An edit animation needs at least one direction to sweep.")
    frames, frame_space = [], space
    for progress in timing.sweep():
        edits = [(s.direction, s.start + float(progress) * (s.end - s.start)) for s in sweeps]
        moved, frame_space = edited_latent(G, latent, edits, space)
        frames.append(moved)
    return frames, frame_space


def walk_latents(G: Generator, keyframes: Sequence[np.ndarray], space: str | None,
                 timing: ClipTiming) -> list[np.ndarray]:
    """A latent per frame of a walk through ``keyframes`` (codes of ``space``), easing in and out of each; codes
    of a Gaussian prior (z) are interpolated on the sphere (:func:`interpolate`)."""
    spherical = G.space(space).gaussian_prior
    points = [np.asarray(k, dtype=np.float32) for k in keyframes]
    shape = G.space(space).shape
    for i, point in enumerate(points):
        if point.shape != shape:
            raise InvalidInputError(f"Keyframe {i + 1} of the walk has shape {list(point.shape)}; this model's "
                                    f"'{G.space(space).name}' codes are {list(shape)}.")
    ring = [*points, points[0]] if timing.loop else points
    return [interpolate(ring[i], ring[i + 1], f, spherical=spherical) for i, f in timing.walk(len(points))]


def progress_latents(path: Sequence[np.ndarray], timing: ClipTiming) -> list[np.ndarray]:
    """A latent per frame along an inversion's recorded path (one latent per step, the start first): the clip's
    clock, eased, picks the step; a looping clip plays forward then back."""
    if len(path) < 2:
        raise InvalidInputError("An inversion's progress needs at least 2 recorded steps.")
    u = timing.clock()
    if timing.loop:
        u = 1.0 - np.abs(2.0 * u - 1.0)
    steps = np.rint(ease(timing.easing, u) * (len(path) - 1)).astype(int)
    return [np.asarray(path[int(i)], dtype=np.float32) for i in steps]


def write_animation(G: Generator, latents: Sequence[np.ndarray], space: str | None, *, path: str | Path,
                    fps: float, compose: Compose | None = None, source_size: tuple[int, int] | None = None,
                    full: bool = True, max_side: int | None = None,
                    cancel: CancelToken | None = None) -> Job[AnimationProgress, None, AnimationResult]:
    """Render each latent (at the model's full resolution unless ``full`` is False), ``compose`` it into the photo
    of ``source_size`` = (w, h) (e.g. :meth:`Backdrop.compose`; else the face alone), fit it to the clip's size
    and write the clip. ``max_side``: the clip's longer side (default: the photo's, or the render's; a GIF at most
    :data:`GIF_MAX_SIDE`). Cancelling stops between frames and leaves no file."""
    began = time.perf_counter()
    path = Path(path).expanduser()
    kind = clip_format(path)
    side = G.render_resolution if full else G.resolution
    source = source_size if compose is not None and source_size is not None else (side, side)
    if max_side is None and kind == "gif" and max(source) > GIF_MAX_SIDE:
        max_side = GIF_MAX_SIDE
    size = frame_size(*source, max_side=max_side, even=kind == "mp4")
    total = len(latents)
    yield AnimationProgress(0, total)
    with ClipWriter(path, fps=fps, size=size) as writer:
        for first in range(0, total, RENDER_CHUNK):
            if cancel is not None and cancel.cancelled:
                writer.discard()
                return AnimationResult(None, writer.frames, size, time.perf_counter() - began, True)
            for image in _render(G, latents[first:first + RENDER_CHUNK], space, full):
                writer.add(fit_frame(compose(image) if compose is not None else image, size))
            yield AnimationProgress(writer.frames, total)
        written = writer.finish()
    return AnimationResult(written, total, size, time.perf_counter() - began, False)


def _render(G: Generator, latents: Sequence[np.ndarray], space: str | None, full: bool) -> np.ndarray:
    """uint8 [N, S, S, 3]: the latents' faces in one batch, at the model's full render resolution or (not
    ``full``) its working one."""
    code = torch.from_numpy(np.stack([np.asarray(x, dtype=np.float32) for x in latents])).to(G.device)
    with torch.no_grad():
        images = G.render(code, space) if full else G.synthesize(code, space)
    if not torch.isfinite(images).all():
        raise InvalidInputError("The model produced non-finite pixels for a frame: a latent or an amount is far "
                                "outside what the model was trained on.")
    return to_uint8_hwc(images)
