"""The Drag panel: how a drag runs (steps, what may move), Drag / Stop / Clear Points, and its progress.

The points themselves live on the canvas (the Drag tool); the panel only counts them and reports gestures, the
presenter runs the drag.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.views.drag_points import DragPair
from app.widgets.vertical_scroll import VerticalScrollArea
from core.drag import DragSettings

HINT = ("With the Drag tool (D) click a point on the face — a red handle — then where it should move: a blue "
        "target. Add more pairs the same way; drag a point to move it, right click or Backspace removes the last. "
        "Then press Drag: the face follows the handles to their targets.")
MASK_HINT = "Brush (B) the part of the face that may change; everything else is held in place."
MASK_NONE = "Brush (B) the area that may move first: nothing is brushed."
PROGRESS_HINT = "Distance: the mean gap between the handles and their targets, in pixels of a 256-px face."


class DragPanel(QWidget):
    run_requested = Signal()
    stop_requested = Signal()
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.points = QLabel()
        self.points.setWordWrap(True)
        self.steps = QSpinBox()
        self.steps.setRange(1, 2000)
        self.steps.setValue(DragSettings().steps)
        self.steps.setToolTip("The most optimisation steps; the drag ends sooner once every handle arrives")
        self.masked = QCheckBox("Only the brushed area may move")
        self.run_button = QPushButton("Drag")
        self.run_button.setToolTip("Move the face so that each handle reaches its target (undoable)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this step and keep the face reached so far (Esc)")
        self.clear_button = QPushButton("Clear Points")
        self.progress = QLabel("")
        self.progress.setToolTip(PROGRESS_HINT)
        self._layout()
        self._running = self._has_mask = self._has_points = False
        self.run_button.clicked.connect(self.run_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.clear_button.clicked.connect(self.clear_requested)
        self.set_running(False)
        self.set_has_mask(False)
        self.set_points([])

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Steps", self.steps)
        form.addRow(self.masked)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.clear_button):
            buttons.addWidget(button)
        content = QVBoxLayout()
        content.setContentsMargins(0, 0, 0, 0)
        for widget in (self.hint, self.points):
            content.addWidget(widget)
        content.addLayout(form)
        content.addLayout(buttons)
        content.addWidget(self.progress)
        content.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(VerticalScrollArea(content))

    def settings(self) -> tuple[int, bool]:
        """(steps, only the brushed area may move)."""
        return self.steps.value(), self.masked.isChecked() and self.masked.isEnabled()

    def set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.clear_button.setEnabled(not running and self._has_points)
        self.steps.setEnabled(not running)
        self.masked.setEnabled(not running and self._has_mask)

    def set_has_mask(self, has: bool) -> None:
        """Something is brushed: the may-move box can be ticked (it is untouched otherwise, so a brushed area
        later finds the user's choice)."""
        self._has_mask = has
        self.masked.setEnabled(has and not self._running)
        self.masked.setToolTip(MASK_HINT if has else MASK_NONE)

    def set_points(self, pairs: list[DragPair]) -> None:
        complete = sum(target is not None for _, target in pairs)
        if not pairs:
            text = "No points yet."
        elif complete < len(pairs):
            text = f"{complete} pair{'s' if complete != 1 else ''} ready; point {len(pairs)} needs its target."
        else:
            text = f"{complete} pair{'s' if complete != 1 else ''} ready."
        self.points.setText(text)
        self._has_points = bool(pairs)
        self.clear_button.setEnabled(self._has_points and not self._running)

    def show_progress(self, step: int, steps: int, distance: float) -> None:
        self.progress.setText(f"step {step} / {steps} · {distance:.1f} px to go")

    def show_message(self, text: str) -> None:
        self.progress.setText(text)
