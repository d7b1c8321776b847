"""Run: invert the document's photo square with the Inversion panel's settings, show progress, adopt the result.

The work is ``core.photo_jobs.invert_photo`` — the CLI's ``invert`` runs the same job — so the θ rule (the
session's θ for every method that descends through θ) and the paste-back are the same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Generator

from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.document.state import Adopted, OpenedPhoto
from app.engine import JobRequest
from core.inversion import InversionConfig, InversionStep
from core.jobs import CancelToken
from core.photo_jobs import PhotoInversion, invert_photo

PROGRESS_INTERVAL_S = 0.1  # the progress bar and speed text change at most 10 times a second


class InversionController(QObject):
    steps_received = Signal(object)  # list[InversionStep] of the running inversion or inpainting
    progress_changed = Signal(int, int, float)  # step, steps, steps per second

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self._run_began = 0.0
        self._progress_shown = 0.0
        doc.register_job("invert", self._done, on_steps=self.show_steps)
        doc.run_state_changed.connect(self._run_state)

    def run(self, config: InversionConfig, device: str) -> bool:
        """Invert the photo's square (the brushed pixels are ignored by the loss); False when refused."""
        d = self.doc
        if d.opened is None or d.placement is None:
            d.error_raised.emit("Open a photo first.")
            return False
        opened, placement, mask, theta, feather = d.opened, d.placement, d.run_mask(), d.landscape_dir, d.feather
        token = CancelToken()

        def job() -> Generator[InversionStep, None, Adopted]:
            G = d.model(device)
            done = yield from invert_photo(G, opened.photo, placement=placement, config=config, mask=mask,
                                           theta=theta, feather=feather, cancel=token)
            return adopted_from(done, opened, feather)

        if not d.submit(JobRequest("invert", job, token)):
            return False
        d.status_changed.emit("Inverting…")
        return True

    def _run_state(self, running: bool) -> None:
        if running:
            self._run_began = time.perf_counter()

    def show_steps(self, records: list[InversionStep]) -> None:
        """Progress of a run (an inversion, or an inpainting: the same records): notices, plot, bar and speed."""
        last = records[-1]
        elapsed = max(time.perf_counter() - self._run_began, 1e-6)
        for notice in (n for r in records for n in r.notices):
            self.doc.warning_raised.emit(notice)
        self.steps_received.emit(records)
        now = time.perf_counter()
        if now - self._progress_shown >= PROGRESS_INTERVAL_S or last.step == last.steps:
            self._progress_shown = now
            self.progress_changed.emit(last.step, last.steps, last.step / elapsed)

    def _done(self, adopted: Adopted) -> None:
        result = adopted.result
        assert result is not None
        self.doc.adopt(adopted, f"Adopt {adopted.label}")
        state = f"Stopped after {result.steps_done} steps" if result.cancelled else f"Done: {result.steps_done} steps"
        self.doc.status_changed.emit(f"{state}, best loss {float(result.losses.min()):.4f} ({result.seconds:.1f} s)")


def adopted_from(done: PhotoInversion, opened: OpenedPhoto, feather: float) -> Adopted:
    """The result as the document adopts it, composited on the display copy (engine thread)."""
    result = done.result
    display = opened.composite_on_display(done.placement, result.best_image, None, feather)
    return Adopted(result, done.placement, display, result.best_latent.copy(), result.best_image,
                   tuning=result.tuning, space=result.space, label=f"{result.config.method} inversion")
