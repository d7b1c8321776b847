"""``compare_methods``: every chosen inversion method on the same photo square, one after another.

A method that fails is recorded with its message and the next one still runs, so one unfinished method never
costs a researcher the whole comparison. Scores are computed from the saved uint8 pixels, so they match anyone
recomputing them from the exported images.
"""

from __future__ import annotations

import json
import logging
import math
import time
import traceback
from collections.abc import Generator as Job
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.alignment import Framing, known_framing
from core.device import from_uint8_hwc
from core.errors import CoreError
from core.generators import Generator
from core.imageio import Photo, atomic_write_bytes
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.jobs import CancelToken
from core.metrics import identity_distances, lpips_distance, psnr
from core.photo_jobs.invert import model_inputs
from core.photo_jobs.theta_rule import with_session_theta
from core.placement import Placement

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
DIFF_MAX = 0.25  # difference maps saturate at 25 % of full range (on [0, 1]): the same scale for every method


@dataclass(frozen=True)
class CompareStarted:
    """First record of a comparison: the target, so a viewer shows it before any method ends."""

    target: np.ndarray  # uint8 [R, R, 3]
    methods: tuple[str, ...]  # the columns, in run order


@dataclass(frozen=True)
class CompareStep:
    """Progress of one method's run inside the comparison."""

    method: str
    index: int  # 0-based position of the method in the run
    count: int  # methods in the run
    step: int
    steps: int
    preview: np.ndarray | None = None  # uint8 [R, R, 3] the best start's current image, when the method made one


@dataclass(frozen=True)
class MethodOutcome:
    """One method's column: its image and figures, or why there are none."""

    method: str
    status: str  # "done", "stopped" (Stop pressed during it), "failed" or "skipped" (Stop pressed before it)
    image: np.ndarray | None = None  # uint8 [R, R, 3] the method's best reconstruction
    psnr: float | None = None  # dB against the target (known pixels only when a mask was painted)
    lpips: float | None = None  # None only when LPIPS's shipped weights are missing or damaged
    identity: float | None = None  # dlib identity distance to the target (same person below 0.6); None: n/a
    seconds: float = 0.0  # wall-clock time of the whole method, set-up (θ, encoder) included
    steps_done: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    result: InversionResult | None = None  # the whole run, so a viewer can adopt it

    def to_dict(self) -> dict[str, Any]:
        psnr = self.psnr if self.psnr is not None and math.isfinite(self.psnr) else None
        return {"method": self.method, "status": self.status, "psnr_db": None if psnr is None else round(psnr, 4),
                "lpips": None if self.lpips is None else round(self.lpips, 5),
                "identity_distance": None if self.identity is None else round(self.identity, 5),
                "seconds": round(self.seconds, 3),
                "steps_done": self.steps_done, "warnings": list(self.warnings), "error": self.error}


@dataclass(frozen=True)
class MethodDone:
    """A method ended (done, stopped, failed or skipped): its outcome at once, so a viewer can show and adopt it
    while the later methods still run. The same object ends up in :attr:`Comparison.outcomes`."""

    index: int  # 0-based position of the method in the run
    count: int  # methods in the run
    outcome: MethodOutcome


@dataclass(frozen=True)
class Comparison:
    """The whole run: the target, one outcome per requested method (in order) and what it was run with."""

    target: np.ndarray  # uint8 [R, R, 3] the photo square the methods reconstruct
    outcomes: list[MethodOutcome]
    config: InversionConfig  # the shared settings (``method`` replaced per run)
    device: str
    masked: bool
    placement: Placement
    photo: str
    model: str
    cancelled: bool = False
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (no arrays), versioned so later readers know the layout."""
        return {"schema_version": SCHEMA_VERSION, "kind": "method-comparison", "photo": self.photo,
                "model": self.model, **self.placement.to_dict(), "resolution": int(self.target.shape[0]),
                "device": self.device, "masked": self.masked, "cancelled": self.cancelled,
                "psnr_region": "known (unmasked) pixels" if self.masked else "whole crop",
                "difference_scale": {"min": 0.0, "max": DIFF_MAX, "units": "mean |result - target| over RGB, "
                                     "as a fraction of full range"},
                "config": self.config.to_dict(), "methods": [o.to_dict() for o in self.outcomes],
                "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.created))}


def difference_map(image: np.ndarray, target: np.ndarray) -> np.ndarray:
    """|image − target| per pixel, mean over RGB, as float32 [R, R] in [0, 1] (1 = black vs white)."""
    delta = np.abs(image.astype(np.float32) - target.astype(np.float32))
    return delta.mean(axis=2) / 255.0


def score(image: np.ndarray, target: np.ndarray, keep: torch.Tensor | None = None,
          framing: Framing | None = None) -> tuple[float, float | None, float | None]:
    """(PSNR dB, LPIPS or None, identity distance or None) of uint8 ``image`` against uint8 ``target``. ``keep``
    [1, 1, R, R] weighs pixels (PSNR only: LPIPS and identity have no mask, so only whole-square runs get them);
    the identity distance needs the model's ``framing``."""
    a, b = from_uint8_hwc(image), from_uint8_hwc(target)
    distance = lpips_distance(a, b) if keep is None else None
    identity = identity_distances(a, b, framing) if keep is None else None
    return (float(psnr(a, b, keep)[0]), None if distance is None else float(distance[0]),
            None if identity is None else float(identity[0]))


def write_export(png: bytes, comparison: Comparison, path: Path) -> list[Path]:
    """``path`` (.png) gets the grid, the same name with .json the numbers; both all-or-nothing."""
    path = Path(path).with_suffix(".png")
    data = json.dumps(comparison.to_dict(), indent=2, allow_nan=False).encode()
    return [atomic_write_bytes(path, png), atomic_write_bytes(path.with_suffix(".json"), data)]


def compare_methods(G: Generator, photo: Photo, *, placement: Placement, methods: Sequence[str],
                    config: InversionConfig, mask: np.ndarray | None = None, theta: str | None = None,
                    device: str = "", model: str = "", cancel: CancelToken | None = None
                    ) -> Job[CompareStarted | CompareStep | MethodDone, None, Comparison]:
    """Run ``methods`` in order with the shared ``config`` (and the session's θ, as a plain run uses it).

    Each method's end is yielded as a :class:`MethodDone` right away: nobody waits for the slowest method to see
    (or adopt) the others."""
    base = with_session_theta(config, theta)
    pixels, small = model_inputs(G, photo, placement, mask)
    yield CompareStarted(pixels, tuple(methods))
    outcomes = []
    for index, method in enumerate(methods):
        if cancel is not None and cancel.cancelled:
            outcome = MethodOutcome(method, "skipped")
        else:
            outcome = yield from _run_one(G, pixels, small, base.with_changes(method=method), index, len(methods),
                                          cancel)
        outcomes.append(outcome)
        yield MethodDone(index, len(methods), outcome)
    name = photo.source.name if photo.source else ""
    return Comparison(pixels, outcomes, base, device or str(G.device), small is not None, placement, name,
                      model or G.name, cancelled=cancel is not None and cancel.cancelled)


def _run_one(G: Generator, pixels: np.ndarray, mask: torch.Tensor | None, config: InversionConfig, index: int,
             count: int, cancel: CancelToken | None) -> Job[CompareStep, None, MethodOutcome]:
    """One method: its steps as :class:`CompareStep`, then its outcome; its errors stay in its column."""
    began = time.perf_counter()
    try:
        job = invert(G, from_uint8_hwc(pixels, G.device), config, mask, cancel)
        while True:
            try:
                record: InversionStep = next(job)
            except StopIteration as stop:
                result: InversionResult = stop.value
                break
            preview = None if record.preview is None else record.preview[int(np.argmin(record.start_losses))]
            yield CompareStep(config.method, index, count, record.step, record.steps, preview)
        keep = None if mask is None else (1.0 - mask.float().clamp(0, 1))[None, None]
        value, distance, identity = score(result.best_image, pixels, keep, known_framing(G))
    except CoreError as exc:
        return MethodOutcome(config.method, "failed", seconds=time.perf_counter() - began, error=str(exc))
    except Exception as exc:  # a method still being written must not sink the others: say so in its column
        log.error("compare: %s failed:\n%s", config.method, traceback.format_exc())
        return MethodOutcome(config.method, "failed", seconds=time.perf_counter() - began,
                             error=f"Unexpected error: {exc}")
    return MethodOutcome(config.method, "stopped" if result.cancelled else "done", result.best_image.copy(),
                         value, distance, identity, time.perf_counter() - began, result.steps_done,
                         tuple(result.warnings), result=result)
