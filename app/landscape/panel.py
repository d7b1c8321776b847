"""The Landscape panel: the loss surface around the current crop's inversion, in X and in Z, side by side.

The panel edits a ``SliceConfig`` and shows what the landscape controller streams back; it computes nothing.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.landscape.labels import axis_texts, loss_label
from app.landscape.plot import LandscapeView
from app.widgets.qimage import numpy_to_qimage
from app.widgets.vertical_scroll import VerticalScrollArea
from core.landscape import SliceConfig

DIRS = [("Trajectory (top 2 principal directions)", "trajectory"), ("Random (2 directions)", "random"),
        ("Two editing directions", "edit")]
TERMS = ["total", "pixel", "lpips", "prior"]
PREFERRED_HEIGHT = 340  # px: the dock's height when it opens; the canvas above keeps the rest


def opengl_available() -> bool:
    try:
        import pyqtgraph.opengl  # noqa: F401
    except Exception:
        return False
    return True


class LandscapePanel(QWidget):
    compute_requested = Signal()
    stop_requested = Signal()
    export_requested = Signal()
    image_requested = Signal(str, float, float)  # space, axis-1 and axis-2 coordinates of a clicked point

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = SliceConfig()
        self.dirs = QComboBox()
        for label, value in DIRS:
            self.dirs.addItem(label, value)
        self.edit_a, self.edit_b = QComboBox(), QComboBox()
        self.grid = QSpinBox()
        self.grid.setRange(3, 257)
        self.grid.setSingleStep(2)
        self.grid.setValue(d.grid)
        self.span = QDoubleSpinBox()
        self.span.setRange(0.05, 50.0)
        self.span.setValue(d.span)
        self.term = QComboBox()
        self.term.addItems(TERMS)
        self.steps = QSpinBox()
        self.steps.setRange(5, 2000)
        self.steps.setValue(100)
        self.steps.setToolTip("Steps of the inversion whose path and result the surface is drawn around")
        self.log_scale = QCheckBox("Log scale")
        self.same_scale = QCheckBox("Same colour scale")
        self.same_scale.setChecked(True)  # X and Z side by side invite comparison: a colour must mean one loss
        self.same_scale.setToolTip("Both maps use one colour range (the lowest to the highest loss of either), "
                                   "so equal colours are equal losses; off, each map spans its own range")
        self.compute = QPushButton("Compute")
        self.export = QPushButton("Export…")
        self.export.setEnabled(False)
        self.status = QLabel("Computes the loss around this crop's inversion, in X and through θ in Z. "
                             "Click a point of a map to see the face its latent makes.")
        self.status.setWordWrap(True)
        self.clicked_image = QLabel()
        self.clicked_image.setFixedSize(96, 96)
        self.clicked_image.setToolTip("The image of the last clicked point")
        self.view = LandscapeView()
        self.profile = pg.PlotWidget(title="1-D profile along the horizontal axis, through the centre")
        self.describe_profile(SliceConfig())
        self.profile.addLegend()
        self.profile_curves = {space: self.profile.plot(name=space.upper(), pen=pg.mkPen(colour, width=2))
                               for space, colour in (("x", "#4fc3f7"), ("z", "#ffb74d"))}
        self.surface = self._surface_tab()
        self._layout()
        self._running = False
        self.compute.clicked.connect(lambda: self.stop_requested.emit() if self._running else
                                     self.compute_requested.emit())
        self.export.clicked.connect(self.export_requested)
        self.log_scale.toggled.connect(self.view.set_log_scale)
        self.same_scale.toggled.connect(self.view.set_shared_scale)
        self.dirs.currentIndexChanged.connect(self._sync)
        for space, view in self.view.maps.items():
            view.point_clicked.connect(lambda x, y, s=space: self.image_requested.emit(s, x, y))
        self._sync()

    def _layout(self) -> None:
        """Settings on the left, the maps take the rest (a wide bottom dock)."""
        tabs = QTabWidget()
        tabs.addTab(self.view, "Heat maps")
        tabs.addTab(self.profile, "Profile")
        tabs.addTab(self.surface, "3-D")
        form = QFormLayout()
        edits = QHBoxLayout()
        edits.addWidget(self.edit_a)
        edits.addWidget(self.edit_b)
        colours = QHBoxLayout()
        colours.addWidget(self.log_scale)
        colours.addWidget(self.same_scale)
        for label, widget in (("Directions", self.dirs), ("Edit directions", edits), ("Grid", self.grid),
                              ("Span", self.span), ("Loss", self.term), ("Inversion steps", self.steps),
                              ("Colours", colours)):
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        for button in (self.compute, self.export):
            buttons.addWidget(button)
        info = QHBoxLayout()
        info.addWidget(self.status, 1)
        info.addWidget(self.clicked_image)
        settings = QVBoxLayout()
        settings.setContentsMargins(0, 0, 0, 0)
        settings.addLayout(form)
        settings.addStretch(1)
        controls = QWidget()
        controls.setMaximumWidth(380)
        side = QVBoxLayout(controls)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(VerticalScrollArea(settings), 1)  # the settings scroll; Compute stays in sight
        side.addLayout(buttons)
        side.addLayout(info)
        layout = QHBoxLayout(self)
        layout.addWidget(controls)
        layout.addWidget(tabs, 1)

    def sizeHint(self) -> QSize:
        """Wide, and PREFERRED_HEIGHT tall (at least the settings' height): the maps' own hints (QGraphicsView's,
        up to two thirds of the screen) would leave the canvas a strip when the dock opens."""
        hint = super().sizeHint()
        return QSize(hint.width(), max(PREFERRED_HEIGHT, self.minimumSizeHint().height()))

    def _surface_tab(self) -> QWidget:
        if opengl_available():
            import pyqtgraph.opengl as gl

            view = gl.GLViewWidget()
            self.surface_item = gl.GLSurfacePlotItem(shader="heightColor", computeNormals=False)
            view.addItem(self.surface_item)
            return view
        self.surface_item = None
        note = QLabel("The 3-D surface needs OpenGL (PyOpenGL and a GL context), which this machine does not have. "
                      "The heat maps and the profile show the same values.")
        note.setWordWrap(True)
        return note

    def _sync(self) -> None:
        editing = self.dirs.currentData() == "edit"
        for combo in (self.edit_a, self.edit_b):
            combo.setEnabled(editing and not self._running)

    def set_direction_names(self, names: list[str]) -> None:
        for combo, index in ((self.edit_a, 0), (self.edit_b, 1)):
            current = combo.currentText()
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(combo.findText(current) if current in names else min(index, len(names) - 1))

    def config(self) -> SliceConfig:
        dirs = self.dirs.currentData()
        if dirs == "edit":
            dirs = f"edit:{self.edit_a.currentText()},{self.edit_b.currentText()}"
        return SliceConfig(dirs=dirs, grid=self.grid.value(), span=self.span.value(), term=self.term.currentText())

    def set_running(self, running: bool) -> None:
        self._running = running
        self.compute.setText("Stop" if running else "Compute")
        for widget in (self.dirs, self.grid, self.span, self.term, self.steps):
            widget.setEnabled(not running)
        self._sync()

    def show_profile(self, space: str, ts: np.ndarray, loss: np.ndarray) -> None:
        self.profile_curves[space].setData(ts, loss)

    def describe_profile(self, config: SliceConfig) -> None:
        """The profile runs along the maps' horizontal axis: the same words, and the same loss."""
        horizontal = axis_texts(config, space="x or z")[0]
        self.profile.setLabel("bottom", horizontal.label)  # one line: the profile is wide
        self.profile.getAxis("bottom").setToolTip(horizontal.tooltip)
        self.profile.setLabel("left", loss_label(config.term, False))

    def show_clicked(self, image: np.ndarray) -> None:
        pixmap = QPixmap.fromImage(numpy_to_qimage(image)).scaled(96, 96)
        self.clicked_image.setPixmap(pixmap)

    def show_surface(self, xs: np.ndarray, ys: np.ndarray, loss: np.ndarray) -> None:
        if self.surface_item is None:
            return
        height = (loss - np.nanmin(loss)) / max(float(np.nanmax(loss) - np.nanmin(loss)), 1e-12)
        self.surface_item.setData(x=xs, y=ys, z=height.T * (xs[-1] - xs[0]) / 2)
