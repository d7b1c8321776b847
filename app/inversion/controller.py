"""Run: invert the document's photo square with the Inversion panel's settings, show progress, adopt the result.

The work is ``core.photo_jobs.invert_photo`` — the CLI's ``invert`` runs the same job — so the θ rule (the
session's θ for every method that descends through θ) and the paste-back are the same everywhere.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator

from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.document.state import Adopted, OpenedPhoto
from app.engine import JobRequest
from core.alignment import Framing, known_framing
from core.inversion import InversionConfig, InversionResult, InversionStep
from core.jobs import CancelToken
from core.objectives.identity import SAME_PERSON_BELOW
from core.photo_jobs import PhotoInversion, invert_photo, result_reference, score
from core.placement import Placement

PROGRESS_INTERVAL_S = 0.1  # the progress bar and speed text change at most 10 times a second
RATE_WINDOW_S = 3.0  # the speed (and so the ETA) is measured over the last few seconds of steps


class StepRate:
    """Steps per second over the last ``RATE_WINDOW_S``: a run's phases differ in speed (a pivotal run's weight
    tuning is slower than its pivot search), and the start-up before the first step must not count."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, now: float, step: int) -> float:
        """Record that ``step`` was reached at ``now``; the rate measured so far (0 until two samples differ)."""
        samples = self._samples
        if samples and step < samples[-1][1]:
            samples.clear()  # a new run's steps (the controller is reused)
        samples.append((now, step))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW_S:
            samples.popleft()
        (t0, s0), (t1, s1) = samples[0], samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else 0.0


class InversionController(QObject):
    steps_received = Signal(object)  # list[InversionStep] of the running inversion or inpainting
    progress_changed = Signal(int, int, float)  # step, steps, steps per second

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self._run_began = 0.0
        self._progress_shown = 0.0
        self._rate = StepRate()
        doc.register_job("invert", self._done, on_steps=self.show_steps)
        doc.run_state_changed.connect(self._run_state)

    def run(self, config: InversionConfig, device: str) -> bool:
        """Invert the photo's square (the brushed pixels are ignored by the loss); False when refused."""
        d = self.doc
        if d.opened is None or d.placement is None:
            d.error_raised.emit("Open a photo first.")
            return False
        opened, placement, mask, theta, feather = d.opened, d.placement, d.run_mask(), d.landscape_dir, d.feather
        token, mode = CancelToken(), d.composite

        def job() -> Generator[InversionStep, None, tuple[Adopted, str]]:
            G = d.model(device)
            done = yield from invert_photo(G, opened.photo, placement=placement, config=config, mask=mask,
                                           theta=theta, feather=feather, composite=mode, cancel=token)
            return adopted_from(done, opened, feather, mode == "detail"), likeness(done, known_framing(G))

        if not d.submit(JobRequest("invert", job, token)):
            return False
        d.status_changed.emit("Inverting…")
        return True

    def _run_state(self, running: bool) -> None:
        if running:
            self._run_began = time.perf_counter()
            self._rate.reset()

    def elapsed(self) -> float:
        """Seconds since the current (or last) run began."""
        return time.perf_counter() - self._run_began

    def show_steps(self, records: list[InversionStep]) -> None:
        """Progress of a run (an inversion, or an inpainting: the same records): notices, plot, bar and speed."""
        last = records[-1]
        rate = self._rate.add(time.perf_counter(), last.step)
        for notice in (n for r in records for n in r.notices):
            self.doc.warning_raised.emit(notice)
        self.steps_received.emit(records)
        now = time.perf_counter()
        if now - self._progress_shown >= PROGRESS_INTERVAL_S or last.step == last.steps:
            self._progress_shown = now
            self.progress_changed.emit(last.step, last.steps, rate)

    def _done(self, outcome: tuple[Adopted, str]) -> None:
        adopted, figures = outcome
        result = adopted.result
        assert result is not None
        self.doc.adopt(adopted, f"Adopt {adopted.label}")
        state = f"Stopped after {result.steps_done} steps" if result.cancelled else f"Done: {result.steps_done} steps"
        self.doc.status_changed.emit(f"{state} in {result.seconds:.1f} s · {figures}")


def likeness(done: PhotoInversion, framing: Framing | None) -> str:
    """How close the reconstruction is to the photo's square, in the metrics the reports use (engine thread).
    A restoration is compared with its degraded view and a masked run ignores part of the square, so those
    report their loss only."""
    result = done.result
    loss = f"best loss {float(result.losses.min()):.4f}"
    if result.config.operator is not None or done.masked_fraction > 0:
        return loss
    db, lpips, identity = score(result.best_image, done.target, framing=framing)
    parts = [f"PSNR {db:.1f} dB"]
    if lpips is not None:
        parts.append(f"LPIPS {lpips:.3f}")
    if identity is not None:
        verdict = "same person" if identity < SAME_PERSON_BELOW else "reads as someone else"
        parts.append(f"identity {identity:.2f} ({verdict})")
    return " · ".join(parts)


def adopted_from(done: PhotoInversion, opened: OpenedPhoto, feather: float, detail: bool) -> Adopted:
    """The result as the document adopts it, composited on the display copy (engine thread)."""
    return adopted_result(done.result, done.placement, opened, feather, detail=detail)


def adopted_result(result: InversionResult, placement: Placement, opened: OpenedPhoto, feather: float, *,
                   detail: bool, label: str | None = None) -> Adopted:
    """Any inversion result (a Run's, a compared method's) as the document adopts it: one rule, so a result
    adopted from Compare Methods looks and edits exactly as if Run had made it. A restoration keeps its square
    as degraded (``result_reference``): under "detail" only what it restores enters the photo."""
    reference = None if result.config.operator is None else result_reference(result)  # (best_image is a fresh view)
    adopted = Adopted(result, placement, opened.display, result.best_latent.copy(), result.best_image,
                      tuning=result.tuning, space=result.space, label=label or f"{result.config.method} inversion",
                      reference=reference)
    return adopted.redisplayed(opened, feather, detail)
