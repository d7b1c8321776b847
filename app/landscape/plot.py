"""Loss-surface heat maps: one per space (X, and Z through θ), side by side with linked ranges.

Each map is a pyqtgraph ``ImageItem`` with a colour bar, contour lines and the optimiser's path; rows arrive
one by one while the grid is computed. Hovering shows the loss under the cursor; a click reports the grid
point so the caller can show the image that latent makes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

CONTOURS = 8
COLORMAP = "viridis"


class SliceMap(QWidget):
    """One space's heat map; ``point_clicked(x, y)`` carries axis coordinates."""

    point_clicked = Signal(float, float)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title=title)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "axis 1")
        self.plot.setLabel("left", "axis 2")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # coordinates are plain numbers of axis units
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get(COLORMAP), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.contours: list[pg.IsocurveItem] = []
        self.path = pg.PlotDataItem(pen=pg.mkPen("w", width=2), symbol="o", symbolSize=4, symbolBrush="w")
        self.start = pg.ScatterPlotItem(size=11, brush=pg.mkBrush("#ff5050"), symbol="s")
        self.end = pg.ScatterPlotItem(size=13, brush=pg.mkBrush("#ffd700"), symbol="star")
        for item in (self.path, self.start, self.end):
            self.plot.addItem(item)
        self.readout = QLabel(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.loss = np.zeros((0, 0))
        self.xs = self.ys = np.zeros(0)
        self.log_scale = False
        self._rect = (0.0, 0.0, 1.0, 1.0)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def begin(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """A new grid: every value unknown (NaN) until its row arrives."""
        self.xs, self.ys = np.asarray(xs, float), np.asarray(ys, float)
        self.loss = np.full((len(ys), len(xs)), np.nan)
        dx, dy = (xs[-1] - xs[0]) / max(len(xs) - 1, 1), (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self._rect = (xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        self.plot.setRange(xRange=(xs[0], xs[-1]), yRange=(ys[0], ys[-1]), padding=0.03)
        self.set_trajectory(None)
        self._redraw()

    def set_row(self, index: int, values: np.ndarray) -> None:
        self.loss[index] = values
        self._redraw(contours=False)

    def set_loss(self, loss: np.ndarray) -> None:
        self.loss = np.asarray(loss, float)
        self._redraw()

    def set_log_scale(self, log_scale: bool) -> None:
        self.log_scale = log_scale
        self._redraw()

    def shown_values(self) -> np.ndarray:
        values = self.loss
        if self.log_scale:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.log10(np.clip(values, 1e-12, None))
        return values

    def _redraw(self, contours: bool = True) -> None:
        values = self.shown_values()
        known = values[np.isfinite(values)]
        if known.size == 0:
            self.image.clear()
            return
        low, high = float(known.min()), float(known.max())
        high = high if high > low else low + 1e-9
        self.image.setImage(np.where(np.isfinite(values), values, low), levels=(low, high))
        self.image.setRect(*self._rect)  # after setImage: the rect maps the image's pixels onto axis units
        self.bar.setLevels((low, high))
        if contours and np.isfinite(values).all():
            self._draw_contours(values, low, high)

    def _draw_contours(self, values: np.ndarray, low: float, high: float) -> None:
        """Iso-loss lines, children of the image so they share its pixel→axis transform."""
        for item in self.contours:
            item.setParentItem(None)
            self.plot.scene().removeItem(item)
        self.contours = []
        for level in np.linspace(low, high, CONTOURS + 2)[1:-1]:
            curve = pg.IsocurveItem(data=values, level=float(level), pen=pg.mkPen((255, 255, 255, 110)),
                                    axisOrder="row-major")
            curve.setParentItem(self.image)
            self.contours.append(curve)

    def set_trajectory(self, points: np.ndarray | None) -> None:
        """[T, 2] axis coordinates of the optimiser's path (start square, end star), or None."""
        if points is None or len(points) == 0:
            for item in (self.path, self.start, self.end):
                item.setData([], [])
            return
        self.path.setData(points[:, 0], points[:, 1])
        self.start.setData([points[0, 0]], [points[0, 1]])
        self.end.setData([points[-1, 0]], [points[-1, 1]])

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        """Nearest grid point (row, column) and its loss, or None outside the grid."""
        if self.loss.size == 0 or not (self.xs[0] <= x <= self.xs[-1] and self.ys[0] <= y <= self.ys[-1]):
            return None
        col, row = int(np.abs(self.xs - x).argmin()), int(np.abs(self.ys - y).argmin())
        return row, col, float(self.loss[row, col])

    def _hovered(self, pos: QPointF) -> None:
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        found = self.value_at(point.x(), point.y())
        self.readout.setText(" " if found is None else
                             f"({self.xs[found[1]]:+.2f}, {self.ys[found[0]]:+.2f})  loss {found[2]:.5g}")

    def _clicked(self, event: Any) -> None:  # pyqtgraph's MouseClickEvent (pyqtgraph is untyped)
        point = self.plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        found = self.value_at(point.x(), point.y())
        if found is not None:
            self.point_clicked.emit(float(self.xs[found[1]]), float(self.ys[found[0]]))


class LandscapeView(QWidget):
    """X and Z maps side by side; panning or zooming one moves the other."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.maps = {"x": SliceMap("X: the generator's latent"), "z": SliceMap("Z: through θ (learned)")}
        self.maps["z"].plot.setXLink(self.maps["x"].plot)
        self.maps["z"].plot.setYLink(self.maps["x"].plot)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for view in self.maps.values():
            layout.addWidget(view, 1)

    def set_log_scale(self, log_scale: bool) -> None:
        for view in self.maps.values():
            view.set_log_scale(log_scale)
