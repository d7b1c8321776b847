"""The canvas toolbar: tool choice (crop, brush, eraser, drag points), brush size and softness, mask visibility,
before/after compare, zoom."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QSlider, QToolBar, QWidget

from app.views.canvas import CanvasView

TOOLS = [("crop", "Crop", "C", "Move or resize the square region given to the model"),
         ("brush", "Brush", "B", "Paint the mask: brushed pixels are ignored by the inversion"),
         ("eraser", "Eraser", "E", "Erase the mask"),
         ("drag", "Drag", "D", "Drag points: click a handle (red) on the face, then where it should go (blue); "
                               "Drag in the Drag panel moves it there")]
COMPARE = [("after", "After", "Show the result over the photo"), ("before", "Before", "Show the photo only"),
           ("split", "Split", "Before on the left of the line, after on the right")]


def _slider(low: int, high: int, value: int, width: int = 120) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setFixedWidth(width)
    return slider


class CanvasToolBar(QToolBar):
    def __init__(self, canvas: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__("Canvas", parent)
        self.setObjectName("toolbar_canvas")
        self.canvas = canvas
        self.tool_actions = self._group(TOOLS, self._set_tool, shortcut=True)
        self.tool_actions[0].setChecked(True)
        self.addSeparator()
        self.size_label = QLabel()
        self.size_slider = _slider(1, 400, round(canvas.brush_size()))
        self.size_slider.valueChanged.connect(lambda v: canvas.set_brush_size(float(v)))
        self.feather_slider = _slider(0, 100, 50, 80)
        self.feather_slider.setToolTip("Brush softness")
        self.feather_slider.valueChanged.connect(lambda v: canvas.set_brush_feather(v / 100))
        canvas.set_brush_feather(0.5)
        self.addWidget(QLabel(" Size "))
        self.addWidget(self.size_slider)
        self.addWidget(self.size_label)
        self.addWidget(QLabel(" Soft "))
        self.addWidget(self.feather_slider)
        self.mask_action = self.addAction("Show mask")
        self.mask_action.setCheckable(True)
        self.mask_action.setChecked(True)
        self.mask_action.setShortcut(QKeySequence("M"))
        self.mask_action.toggled.connect(canvas.set_mask_visible)
        self.addSeparator()
        self.compare_actions = self._group(COMPARE, canvas.set_compare)
        self.compare_actions[0].setChecked(True)
        self.split_slider = _slider(0, 100, 50, 100)
        self.split_slider.setToolTip("Split position")
        self.split_slider.valueChanged.connect(lambda v: canvas.set_split(v / 100))
        self.addWidget(self.split_slider)
        self.addSeparator()
        self.addAction("Fit", canvas.fit)
        self.addAction("100 %", canvas.zoom_100)
        self.size_slider.valueChanged.connect(self._show_size)
        self._show_size(self.size_slider.value())

    def _group(self, entries: list[tuple[str, str, str, str]] | list[tuple[str, str, str]],
               handler: Callable[[str], object],
               shortcut: bool = False) -> list[QAction]:
        group = QActionGroup(self)
        actions = []
        for entry in entries:
            key, text, *rest = entry
            action = QAction(text, self)
            action.setCheckable(True)
            action.setToolTip(rest[-1])
            if shortcut:
                action.setShortcut(QKeySequence(rest[0]))
            action.triggered.connect(lambda _=False, k=key: handler(k))
            group.addAction(action)
            self.addAction(action)
            actions.append(action)
        return actions

    def _set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)

    def _show_size(self, value: int) -> None:
        self.size_label.setText(f" {value} px")

    def sync_brush_size(self, _size: float = 0.0) -> None:
        """Follow size changes made on the canvas itself ([ ] keys, Alt+wheel)."""
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(round(self.canvas.brush_size()))
        self.size_slider.blockSignals(False)
        self._show_size(self.size_slider.value())
