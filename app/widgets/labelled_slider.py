"""A named slider for a real value, with a box to type it and a reset button.

It separates the cheap and the expensive signal, as the rest of the app does: ``value_changing`` fires on every
move of a drag (for a live preview), ``value_committed(old, new)`` once per gesture (for the undo stack): when
the drag ends, when a value is typed, on reset, or per click/key step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

TICKS_PER_UNIT = 100  # slider resolution: 0.01


class LabelledSlider(QWidget):
    value_changing = Signal(float)  # during a drag
    value_committed = Signal(float, float)  # (value before the gesture, value after)

    def __init__(self, name: str, low: float = -3.0, high: float = 3.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(name)
        self.label.setMinimumWidth(90)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(120)
        self.box = QDoubleSpinBox()
        self.box.setDecimals(2)
        self.box.setSingleStep(0.1)
        self.box.setKeyboardTracking(False)  # typing "1.5" is one commit, not "1" then "1.5"
        self.reset = QToolButton()
        self.reset.setText("⟲")
        self.reset.setToolTip("Reset to 0")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.label, 0), (self.slider, 1), (self.box, 0), (self.reset, 0)):
            layout.addWidget(widget, stretch)
        self._value = 0.0
        self._gesture_start: float | None = None
        self.set_range(low, high)
        self.slider.sliderPressed.connect(self._drag_began)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(self._drag_ended)
        self.box.valueChanged.connect(lambda v: self._commit(float(v)))
        self.reset.clicked.connect(lambda: self._commit(0.0))

    # -- public ---------------------------------------------------------------------------------------------
    def value(self) -> float:
        return self._value

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting anything (undo/redo and document loads call this)."""
        self._value = float(value)
        self._show(self._value)

    def set_range(self, low: float, high: float) -> None:
        if not low < high:
            raise ValueError(f"A slider range needs low < high, got {low}…{high}.")
        self.low, self.high = float(low), float(high)
        for widget in (self.slider, self.box):
            widget.blockSignals(True)
        self.slider.setRange(round(low * TICKS_PER_UNIT), round(high * TICKS_PER_UNIT))
        self.slider.setPageStep(TICKS_PER_UNIT // 2)
        self.box.setRange(low, high)
        for widget in (self.slider, self.box):
            widget.blockSignals(False)
        self._value = min(max(self._value, self.low), self.high)
        self._show(self._value)

    def set_name(self, name: str) -> None:
        self.label.setText(name)

    # -- internals ------------------------------------------------------------------------------------------
    def _show(self, value: float) -> None:
        for widget in (self.slider, self.box):
            widget.blockSignals(True)
        self.slider.setValue(round(value * TICKS_PER_UNIT))
        self.box.setValue(value)
        for widget in (self.slider, self.box):
            widget.blockSignals(False)

    def _drag_began(self) -> None:
        self._gesture_start = self._value

    def _slider_moved(self, ticks: int) -> None:
        value = ticks / TICKS_PER_UNIT
        if self._gesture_start is None:  # a click on the groove or a key: one step is one gesture
            self._commit(value)
            return
        self._value = value
        self.box.blockSignals(True)
        self.box.setValue(value)
        self.box.blockSignals(False)
        self.value_changing.emit(value)

    def _drag_ended(self) -> None:
        start, self._gesture_start = self._gesture_start, None
        if start is not None and start != self._value:
            self.value_committed.emit(start, self._value)

    def _commit(self, value: float) -> None:
        value = min(max(value, self.low), self.high)
        old = self._value
        self._value = value
        self._show(value)
        if old != value:
            self.value_committed.emit(old, value)
