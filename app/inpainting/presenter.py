"""Wiring of the Inpainting feature: panel ↔ inpainting controller ↔ canvas."""

from __future__ import annotations

from collections.abc import Callable

from app.document.controller import DocumentController
from app.document.state import Adopted
from app.inpainting.controller import InpaintController
from app.inpainting.panel import InpaintingPanel
from app.views.canvas import CanvasView


class InpaintingPresenter:
    def __init__(self, doc: DocumentController, panel: InpaintingPanel, canvas: CanvasView,
                 device: Callable[[], str], prepare: Callable[[int], None], show_mask: Callable[[bool], None]) -> None:
        """``device`` names the device to run on; ``prepare(steps)`` applies the preferences and resets the progress
        view before a run; ``show_mask`` shows or hides the mask overlay (a candidate fills exactly the brushed
        pixels, so the red overlay would hide it)."""
        self.doc, self.panel, self.canvas, self.device = doc, panel, canvas, device
        self.prepare, self.show_mask = prepare, show_mask
        self.inpaint = InpaintController(doc)
        panel.run_requested.connect(self.run)
        panel.stop_requested.connect(doc.stop)
        panel.candidate_chosen.connect(self.preview)
        panel.apply_requested.connect(self.inpaint.apply)
        panel.more_like_requested.connect(self.more_like)
        panel.more_different_requested.connect(self.more_different)
        self.inpaint.candidates_changed.connect(panel.show_candidates)
        self.inpaint.finished.connect(lambda _result: self.preview(max(panel.gallery.currentRow(), 0)))
        doc.run_state_changed.connect(self._running)
        doc.photo_opened.connect(lambda _opened: panel.clear())
        doc.model_changed.connect(self._model_changed)
        doc.result_applied.connect(self._result_applied)

    def _model_changed(self, _key: str) -> None:
        """Candidates are latents of the previous model: they can no longer be applied or refined."""
        self.inpaint.result = None
        self.panel.clear()

    def run(self) -> None:
        self.prepare(self.panel.steps.value())
        if self.inpaint.run(self.panel.config(), device=self.device()):
            self.panel.gallery.clear()

    def more_like(self, index: int) -> None:
        self.prepare(self.panel.steps.value())
        self.inpaint.more_like(index, self.device())

    def more_different(self) -> None:
        self.prepare(self.panel.steps.value())
        self.inpaint.more_different(self.device())

    def _running(self, running: bool) -> None:
        self.panel.set_running(running and self.inpaint.running)

    def preview(self, index: int) -> None:
        """Show candidate ``index`` filling the brushed pixels (nothing is applied until Apply)."""
        shown = self.inpaint.preview_patch(index)
        if shown is None or self.doc.opened is None:  # (no preview without an open photo)
            return
        base = self.inpaint.base  # what the candidates were made on: the result, its edits and earlier fills
        self.canvas.set_result(base if base is not None else self.doc.shown_display())
        self.canvas.set_result_patch(*shown)
        self.show_mask(False)
        keep = "Apply keeps it once the run ends" if self.inpaint.running else "Apply keeps it"
        self.panel.status.setText(f"Previewing candidate #{index + 1}: {keep}, ←/→ browse.")

    def _result_applied(self, adopted: Adopted | None) -> None:
        self.canvas.set_result_patch(None, None)
