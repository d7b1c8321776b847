"""Wiring of the Inpainting feature: panel ↔ inpainting controller ↔ canvas."""

from __future__ import annotations

from collections.abc import Callable

from app.controller import Adopted, DocumentController
from app.inpaint_controller import InpaintController
from app.panels.inpainting import InpaintingPanel
from app.views.canvas import CanvasView


class InpaintingPresenter:
    def __init__(self, doc: DocumentController, panel: InpaintingPanel, canvas: CanvasView,
                 device: Callable[[], str], prepare: Callable[[], None]) -> None:
        """``device`` names the device to run on; ``prepare`` applies the preferences (feather) before a run."""
        self.doc, self.panel, self.canvas, self.device, self.prepare = doc, panel, canvas, device, prepare
        self.inpaint = InpaintController(doc)
        panel.run_requested.connect(self.run)
        panel.stop_requested.connect(doc.stop)
        panel.candidate_chosen.connect(self.preview)
        panel.apply_requested.connect(self.inpaint.apply)
        panel.more_like_requested.connect(lambda index: self.inpaint.more_like(index, self.device()))
        panel.more_different_requested.connect(lambda: self.inpaint.more_different(self.device()))
        self.inpaint.candidates_changed.connect(panel.show_candidates)
        self.inpaint.finished.connect(lambda _result: self.preview(max(panel.gallery.currentRow(), 0)))
        doc.run_state_changed.connect(self._running)
        doc.photo_opened.connect(lambda _opened: panel.clear())
        doc.result_applied.connect(self._result_applied)

    def run(self) -> None:
        self.prepare()
        if self.inpaint.run(self.panel.config(), self.canvas.mask(), self.device()):
            self.panel.gallery.clear()

    def _running(self, running: bool) -> None:
        self.panel.set_running(running and self.doc._job == "inpaint")

    def preview(self, index: int) -> None:
        """Show candidate ``index`` filling the brushed pixels (nothing is applied until Apply)."""
        shown = self.inpaint.preview_patch(index)
        if shown is None:
            return
        adopted = self.doc.adopted
        base = adopted.display if adopted is not None else self.doc.opened.display
        self.canvas.set_result(base)
        self.canvas.set_result_patch(*shown)
        self.panel.status.setText(f"Previewing candidate #{index + 1}: Apply keeps it, ←/→ browse.")

    def _result_applied(self, adopted: Adopted | None) -> None:
        self.canvas.set_result_patch(None, None)
