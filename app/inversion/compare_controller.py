"""Compare inversion methods on the document's photo square: one engine job runs ``core.photo_jobs.compare_methods``.

The GUI gets numpy images and plain numbers; the same job, with the same θ rule, serves any other caller. Each
method's outcome arrives as that method ends, and any finished method's result can be adopted into the document
as one undo step, exactly as Run adopts its own.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.document.state import OpenedPhoto
from app.engine import JobRequest
from app.inversion.controller import adopted_result
from core.inversion import InversionConfig
from core.jobs import CancelToken
from core.photo_jobs import CompareStarted, CompareStep, Comparison, MethodDone, MethodOutcome, compare_methods
from core.placement import Placement

ADOPTABLE = ("done", "stopped")  # a stopped method keeps its best so far, as a stopped Run does


class CompareController(QObject):
    """Runs comparisons on the document's photo square; the dialog draws what this emits."""

    steps_received = Signal(object)  # list[CompareStarted | CompareStep | MethodDone], batched by the engine
    outcome_received = Signal(object)  # MethodDone, one per method as it ends (after its batch's steps_received)
    finished = Signal(object)  # Comparison, or None when the job itself failed

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.last: Comparison | None = None
        self.source: tuple[OpenedPhoto, Placement] | None = None  # the photo and square the last run works on
        doc.register_job("compare", self._done, lambda _message: self.finished.emit(None), on_steps=self._steps)

    @property
    def running(self) -> bool:
        return self.doc.engine.running("compare")

    def stop(self) -> None:
        """Stop after the current step: the running method keeps its best so far, later ones are skipped."""
        self.doc.engine.cancel("compare")

    def compare(self, methods: list[str], base_config: InversionConfig, device: str,
                mask: np.ndarray | None = None) -> bool:
        """Submit one "compare" job running ``methods`` in order on the current square; False when refused.
        ``mask`` defaults to the document's brush mask."""
        d = self.doc
        if d.opened is None or d.placement is None:
            d.error_raised.emit("Open a photo first.")
            return False
        if not methods:
            d.status_changed.emit("Choose at least one method to compare.")
            return False
        opened, placement, token, methods = d.opened, d.placement, CancelToken(), list(methods)
        mask = d.run_mask() if mask is None else (mask.copy() if mask.any() else None)
        theta, model = d.landscape_dir, d.model_name

        def job() -> Generator[CompareStarted | CompareStep | MethodDone, None, Comparison]:
            G = d.model(device)
            return (yield from compare_methods(G, opened.photo, placement=placement, methods=methods,
                                               config=base_config, mask=mask, theta=theta, device=device,
                                               model=model, cancel=token))

        if not d.submit(JobRequest("compare", job, token)):
            return False
        self.source = (opened, placement)
        d.status_changed.emit(f"Comparing {len(methods)} methods…")
        return True

    def _steps(self, records: list) -> None:
        self.steps_received.emit(records)
        for record in records:
            if isinstance(record, MethodDone):
                self.outcome_received.emit(record)

    def _done(self, comparison: Comparison) -> None:
        self.last = comparison
        failed = [o.method for o in comparison.outcomes if o.status == "failed"]
        text = "Comparison stopped." if comparison.cancelled else "Comparison done."
        if failed:
            text += f" Failed: {', '.join(failed)}."
        self.doc.status_changed.emit(text)
        self.finished.emit(comparison)

    def adopt(self, outcome: MethodOutcome) -> tuple[bool, str]:
        """Make ``outcome``'s result the document's adopted inversion (one undo step); (adopted?, what happened).

        Refused when the document no longer shows the photo and square the comparison ran on: the result would be
        pasted where it was never fitted."""
        d = self.doc
        if outcome.result is None or outcome.status not in ADOPTABLE:
            text = f"Not adopted: {outcome.method} has no result ({outcome.status})."
        elif self.source is None or d.opened is not self.source[0] or d.placement != self.source[1]:
            text = ("Not adopted: the photo or its crop changed since this comparison ran. "
                    "Run the comparison again on the current square.")
        else:
            opened, placement = self.source
            adopted = adopted_result(outcome.result, placement, opened, d.feather, detail=d.detail,
                                     label=f"{outcome.method} inversion (Compare)")
            d.adopt(adopted, f"Adopt {adopted.label}")
            text = f"Adopted the {outcome.method} result from the comparison (Undo brings back the previous one)."
            d.status_changed.emit(text)
            return True, text
        d.status_changed.emit(text)
        return False, text
