"""Compare inversion methods on the same photo crop: one engine job runs each method in turn.

All torch work (model, target, inversions, metrics) happens inside the job on the engine thread; the GUI gets
numpy images and plain numbers. A method that fails is recorded with its message and the next one still runs, so
one unfinished method never costs the researcher the whole comparison.
"""

from __future__ import annotations

import json
import logging
import math
import time
import traceback
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from app.controller import DocumentController
from app.placement import model_mask, model_target
from app.workers import JobRequest
from core.device import from_uint8_hwc
from core.errors import CoreError
from core.generators import Generator as GeneratorModel
from core.imageio import CropBox, atomic_write_bytes
from core.inversion import InversionConfig, InversionResult, InversionStep, invert
from core.jobs import CancelToken
from core.metrics import lpips_distance, psnr

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
DIFF_MAX = 0.25  # difference maps saturate at 25 % of full range (on [0, 1]): the same scale for every method


@dataclass(frozen=True)
class CompareStarted:
    """First record of a comparison: the crop target, so the dialog shows it before any method ends."""

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
    lpips: float | None = None  # None when LPIPS's backbone is not on this machine
    seconds: float = 0.0  # wall-clock time of the whole method, set-up (θ, encoder) included
    steps_done: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        finite = self.psnr is not None and math.isfinite(self.psnr)
        return {"method": self.method, "status": self.status, "psnr_db": round(self.psnr, 4) if finite else None,
                "lpips": None if self.lpips is None else round(self.lpips, 5), "seconds": round(self.seconds, 3),
                "steps_done": self.steps_done, "warnings": list(self.warnings), "error": self.error}


@dataclass(frozen=True)
class Comparison:
    """The whole run: the target, one outcome per requested method (in order) and what it was run with."""

    target: np.ndarray  # uint8 [R, R, 3] the photo crop the methods reconstruct
    outcomes: list[MethodOutcome]
    config: InversionConfig  # the shared settings (``method`` replaced per run)
    device: str
    masked: bool
    crop: CropBox
    photo: str
    model: str
    cancelled: bool = False
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (no arrays), versioned so later readers know the layout."""
        return {"schema_version": SCHEMA_VERSION, "kind": "method-comparison", "photo": self.photo,
                "model": self.model, "crop": self.crop.to_dict(), "resolution": int(self.target.shape[0]),
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


def score(image: np.ndarray, target: np.ndarray, keep: torch.Tensor | None = None) -> tuple[float, float | None]:
    """(PSNR dB, LPIPS or None) of uint8 ``image`` against uint8 ``target``: what the saved pixels score, so the
    numbers match anyone recomputing them from the exported images. ``keep`` [1, 1, R, R] weighs pixels (PSNR)."""
    a, b = from_uint8_hwc(image), from_uint8_hwc(target)
    distance = lpips_distance(a, b) if keep is None else None  # LPIPS has no mask: only whole-crop runs get it
    return float(psnr(a, b, keep)[0]), None if distance is None else float(distance[0])


def write_export(png: bytes, comparison: Comparison, path: Path) -> list[Path]:
    """``path`` (.png) gets the grid, the same name with .json the numbers; both all-or-nothing."""
    path = Path(path).with_suffix(".png")
    data = json.dumps(comparison.to_dict(), indent=2, allow_nan=False).encode()
    return [atomic_write_bytes(path, png), atomic_write_bytes(path.with_suffix(".json"), data)]


class CompareController(QObject):
    """Runs comparisons on the document's photo crop; the dialog draws what this emits."""

    steps_received = Signal(object)  # list[CompareStarted | CompareStep], batched by the engine
    finished = Signal(object)  # Comparison, or None when the job itself failed

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.last: Comparison | None = None
        doc.register_job("compare", self._done, lambda _message: self.finished.emit(None),
                         on_steps=self.steps_received.emit)

    @property
    def running(self) -> bool:
        return self.doc.engine.busy and self.doc._job == "compare"

    def stop(self) -> None:
        """Stop after the current step: the running method keeps its best so far, later ones are skipped."""
        if self.running:
            self.doc.engine.cancel()

    def compare(self, methods: list[str], base_config: InversionConfig, device: str,
                mask: np.ndarray | None) -> bool:
        """Submit one "compare" job running ``methods`` in order on the current crop; False when refused."""
        d = self.doc
        if d.opened is None or d.crop is None:
            d.error_raised.emit("Open a photo first.")
            return False
        if not methods:
            d.status_changed.emit("Choose at least one method to compare.")
            return False
        opened, crop, alignment, token, methods = d.opened, d.crop, d.alignment, CancelToken(), list(methods)
        mask = None if mask is None or not mask.any() else mask.copy()
        base = base_config
        if base.landscape is None and d.landscape_dir:  # the θ trained in this session, as a plain run uses
            base = base.with_changes(landscape=d.landscape_dir)
        context = {"config": base, "device": device, "masked": mask is not None, "crop": crop,
                   "photo": opened.photo.source.name if opened.photo.source else "", "model": d.model_name}

        def job() -> Generator[object, None, Comparison]:
            G = d.model(device)
            pixels = model_target(opened.photo.pixels, crop, alignment, G.resolution)  # uint8 [R, R, 3]
            small = None if mask is None else torch.from_numpy(model_mask(mask, crop, alignment, G.resolution))
            yield CompareStarted(pixels, tuple(methods))
            outcomes = []
            for index, method in enumerate(methods):
                if token.cancelled:
                    outcomes.append(MethodOutcome(method, "skipped"))
                    continue
                outcome = yield from self._run_one(G, pixels, small, base.with_changes(method=method), index,
                                                   len(methods), token)
                outcomes.append(outcome)
            return Comparison(pixels, outcomes, cancelled=token.cancelled, **context)

        if not d.submit(JobRequest("compare", job, token)):
            return False
        d.status_changed.emit(f"Comparing {len(methods)} methods…")
        return True

    def _run_one(self, G: GeneratorModel, pixels: np.ndarray, mask: torch.Tensor | None, config: InversionConfig,
                 index: int, count: int, token: CancelToken) -> Generator[CompareStep, None, MethodOutcome]:
        """One method (engine thread): its steps as :class:`CompareStep`, then its outcome; errors stay in it."""
        began = time.perf_counter()
        try:
            target = from_uint8_hwc(pixels, G.device)
            job = invert(G, target, config, mask, token)
            while True:
                try:
                    record: InversionStep = next(job)
                except StopIteration as stop:
                    result: InversionResult = stop.value
                    break
                preview = None if record.preview is None else record.preview[int(np.argmin(record.start_losses))]
                yield CompareStep(config.method, index, count, record.step, record.steps, preview)
            keep = None if mask is None else (1.0 - mask.float().clamp(0, 1))[None, None]
            value, distance = score(result.best_image, pixels, keep)
        except CoreError as exc:
            return MethodOutcome(config.method, "failed", seconds=time.perf_counter() - began, error=str(exc))
        except Exception as exc:  # a method still being written must not sink the others: say so in its column
            log.error("compare: %s failed:\n%s", config.method, traceback.format_exc())
            return MethodOutcome(config.method, "failed", seconds=time.perf_counter() - began,
                                 error=f"Unexpected error: {exc}")
        return MethodOutcome(config.method, "stopped" if result.cancelled else "done", result.best_image.copy(),
                             value, distance, time.perf_counter() - began, result.steps_done,
                             tuple(result.warnings))

    def _done(self, comparison: Comparison) -> None:
        self.last = comparison
        failed = [o.method for o in comparison.outcomes if o.status == "failed"]
        text = "Comparison stopped." if comparison.cancelled else "Comparison done."
        if failed:
            text += f" Failed: {', '.join(failed)}."
        self.doc.status_changed.emit(text)
        self.finished.emit(comparison)
