"""Wiring of drag editing: the Drag tool's points on the canvas ↔ the Drag panel ↔ the drag controller.

The window makes one ``DragPresenter(window)``; it docks its own panel (a tab beside Inversion) and offers
Edit → Drag Points, so the window's own code stays wiring of one line. While a drag runs the canvas shows each
frame over the photo (as a slider preview does) and the handles where the engine tracked them; the result is one
undo step. The points are the tool's, not the document's: after a drag the handles stay where they ended, their
targets kept (press Drag again to go on); undo and redo bring back the points each face had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QAction

from app.docks import add_tabbed_dock
from app.document.state import Adopted
from app.drag.controller import DragController, DragFrame, DragOutcome
from app.drag.panel import DragPanel
from app.views.drag_points import DragPair
from app.widgets.canvas_toolbar import TOOLS

if TYPE_CHECKING:
    from app.main_window import MainWindow

REMEMBERED = 64  # results whose points undo and redo bring back


def _pairs(handles: np.ndarray, pairs: list[DragPair]) -> list[DragPair]:
    """``pairs`` with their handles moved to ``handles`` (float [K, 2] photo pixels), targets kept."""
    return [((float(x), float(y)), target) for (x, y), (_, target) in zip(handles, pairs, strict=True)]


class DragPresenter:
    def __init__(self, window: MainWindow) -> None:
        self.window, self.doc, self.canvas = window, window.controller, window.canvas
        self.panel = DragPanel()
        self.dock = add_tabbed_dock(window, window.docks, "drag", "Drag", self.panel)
        window.docks["inversion"].raise_()
        self.drag = DragController(self.doc, window.edits)
        self.tool_action = window.toolbar.tool_actions[[key for key, *_ in TOOLS].index("drag")]
        self.menu_action = QAction("Drag &Points", window)
        self.menu_action.setStatusTip("Choose the Drag tool and show the Drag panel")
        self.menu_action.triggered.connect(self.activate)
        self.tool_action.triggered.connect(lambda _checked=False: self.show_panel())
        self._running_pairs: list[DragPair] = []  # the points the running drag started from
        self._remembered: list[tuple[Adopted, list[DragPair]]] = []  # (result, its points) for undo and redo
        self._connect()

    def _connect(self) -> None:
        p, c, d = self.panel, self.canvas, self.doc
        p.run_requested.connect(self.run)
        p.stop_requested.connect(d.stop)
        p.clear_requested.connect(self.clear)
        c.drag_points_changed.connect(lambda: p.set_points(c.drag_points()))
        c.drag_point_refused.connect(d.status_changed)
        c.mask_changed.connect(lambda: p.set_has_mask(bool(d.mask.any())))  # strokes, undo, import, a new photo
        d.photo_opened.connect(self._photo_opened)
        d.result_applied.connect(self._result_applied)
        d.run_state_changed.connect(self._run_state)
        self.drag.frame_ready.connect(self._frame)
        self.drag.finished.connect(self._finished)
        self.drag.failed.connect(self._failed)

    # -- gestures --------------------------------------------------------------------------------------------
    def activate(self) -> None:
        """Edit → Drag Points: the Drag tool, and its panel in front."""
        self.tool_action.setChecked(True)
        self.canvas.set_tool("drag")
        self.show_panel()

    def show_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()

    def clear(self) -> None:
        self.canvas.set_drag_points([])
        self.panel.set_points([])
        self.panel.show_message("")

    def run(self) -> bool:
        """Drag with the canvas's points and the panel's settings (refusals come as messages)."""
        pairs = self.canvas.drag_points()
        steps, masked = self.panel.settings()
        if self.drag.refusal(pairs, masked) is None:
            self.window._prepare_run(steps)  # the preferences apply; the Progress view starts over on the square
            self.window.progress_panel.plot.set_value_label("px to go")
        if not self.drag.run(pairs, steps, masked):
            return False
        self._running_pairs = pairs
        self._remember(self.doc.adopted, pairs)
        self._lock(True)  # at once: the job may wait a moment behind a slider preview
        self.panel.show_message(f"step 0 / {steps} · starting…")
        return True

    # -- the run ---------------------------------------------------------------------------------------------
    def _run_state(self, running: bool) -> None:
        self._lock(running and self.drag.running)

    def _lock(self, running: bool) -> None:
        self.panel.set_running(running)
        self.canvas.set_drag_points_locked(running)

    def _frame(self, frame: DragFrame) -> None:
        self.panel.show_progress(frame.step, frame.steps, frame.distance)
        if frame.patch is not None and frame.box is not None:
            self.canvas.set_result_patch(frame.patch, frame.box)
        self.canvas.set_drag_points(_pairs(frame.handles, self._running_pairs))
        bar = self.window.progress
        bar.setMaximum(max(frame.steps, 1))
        bar.setValue(frame.step)
        rate = frame.step / frame.seconds if frame.seconds > 0 else 0.0
        progress = self.window.progress_panel
        progress.set_speed(frame.step, frame.steps, rate)
        progress.plot.append([frame.step], [{"px to go": frame.distance}])  # the Progress view plots the drag

    def _finished(self, outcome: DragOutcome) -> None:
        pairs = _pairs(outcome.handles, self._running_pairs)
        self.canvas.set_drag_points(pairs)
        self.panel.set_points(pairs)
        if outcome.result.steps > 0:
            self._remember(outcome.adopted, pairs)
        left = outcome.result.distances[-1] if outcome.result.distances else 0.0
        state = "arrived" if outcome.result.arrived else "stopped" if outcome.result.stopped else "out of steps"
        self.panel.show_message(f"{state} · step {outcome.result.steps} / {self.panel.steps.value()} · "
                                f"{left:.1f} px to go")
        self.window.progress_panel.speed.setText(f"drag {state} · {outcome.result.steps} steps in "
                                                 f"{outcome.result.seconds:.1f} s")

    def _failed(self, message: str) -> None:
        self.canvas.set_result_patch(None, None)
        self.canvas.set_drag_points(self._running_pairs)
        self.panel.show_message("The drag failed: nothing changed.")

    # -- the document ----------------------------------------------------------------------------------------
    def _remember(self, adopted: Adopted | None, pairs: list[DragPair]) -> None:
        if adopted is not None:
            self._remembered = [(a, p) for a, p in self._remembered if a is not adopted][-REMEMBERED + 1:]
            self._remembered.append((adopted, list(pairs)))

    def _result_applied(self, adopted: Adopted | None) -> None:
        """Points lie in the square of the result they move; undo and redo bring back the points of that face."""
        self.canvas.set_drag_square(None if adopted is None else adopted.placement.corners())
        for known, pairs in self._remembered:
            if known is adopted and not self.drag.running:
                self.canvas.set_drag_points(pairs)
                self.panel.set_points(pairs)

    def _photo_opened(self, _opened: object) -> None:
        self._remembered.clear()
        self.canvas.set_drag_square(None)  # the new photo's square, until it has a result of its own
        self.panel.set_points([])
        self.panel.show_message("")
