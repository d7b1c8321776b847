"""Compare inversion methods on the document's photo square: one engine job runs ``core.photo_jobs.compare_methods``.

The GUI gets numpy images and plain numbers; the same job, with the same θ rule, serves any other caller.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from core.inversion import InversionConfig
from core.jobs import CancelToken
from core.photo_jobs import CompareStarted, CompareStep, Comparison, compare_methods


class CompareController(QObject):
    """Runs comparisons on the document's photo square; the dialog draws what this emits."""

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

        def job() -> Generator[CompareStarted | CompareStep, None, Comparison]:
            G = d.model(device)
            return (yield from compare_methods(G, opened.photo, placement=placement, methods=methods,
                                               config=base_config, mask=mask, theta=theta, device=device,
                                               model=model, cancel=token))

        if not d.submit(JobRequest("compare", job, token)):
            return False
        d.status_changed.emit(f"Comparing {len(methods)} methods…")
        return True

    def _done(self, comparison: Comparison) -> None:
        self.last = comparison
        failed = [o.method for o in comparison.outcomes if o.status == "failed"]
        text = "Comparison stopped." if comparison.cancelled else "Comparison done."
        if failed:
            text += f" Failed: {', '.join(failed)}."
        self.doc.status_changed.emit(text)
        self.finished.emit(comparison)
