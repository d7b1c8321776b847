"""Loss-surface heat maps: one per space (X, and Z through θ), side by side with linked ranges.

Each map is a pyqtgraph ``ImageItem`` with a colour bar, contour lines and the optimiser's path; rows arrive
one by one while the grid is computed. Hovering shows the loss under the cursor; a click reports the grid
point so the caller can show the image that latent makes. The axes say which directions the slice runs along
and in what units, the colour bars which loss they show, and one legend below both maps names the markers.
The maps share one colour scale by default, so the same colour is the same loss in X and in Z.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.landscape.labels import MARKERS, AxisText, axis_texts, loss_label
from core.landscape import SliceConfig

CONTOURS = 8
COLORMAP = "viridis"
AXIS_FONT = "8pt"  # two-line axis labels under maps ~250 px wide (half a narrow dock)
Levels = tuple[float, float]
FIGURE_SIZE = (1000, 460)  # px: the least an exported figure of a hidden view gets


def _label_style() -> dict[str, str]:
    """CSS for an axis label: a style replaces pyqtgraph's own, so the foreground colour is restated."""
    return {"font-size": AXIS_FONT, "color": pg.mkColor(pg.getConfigOption("foreground")).name()}


class SharedScale:
    """The colour levels of maps drawn side by side. ``shared``: one range, the min/max over all of them, so a
    colour reads as the same loss in each; off: each map spans its own values (more contrast, no comparison)."""

    def __init__(self, shared: bool = True) -> None:
        self.shared = shared
        self.maps: list[SliceMap] = []
        self._spreading = False

    def levels_for(self, view: SliceMap) -> Levels | None:
        own = view.own_range()
        if own is None:
            return None
        ranges = [r for r in (m.own_range() for m in self.maps) if r is not None] if self.shared else [own]
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        return low, (high if high > low else low + 1e-9)

    def spread(self, source: SliceMap, contours: bool) -> None:
        """Redraw the other maps whose levels ``source``'s new values moved (contours only once it is complete:
        redrawing them on every streamed row would be slow)."""
        if self._spreading:
            return
        self._spreading = True
        try:
            for view in self.maps:
                if view is not source and view.levels != self.levels_for(view):
                    view.redraw(contours)
        finally:
            self._spreading = False


class SliceMap(QWidget):
    """One space's heat map; ``point_clicked(x, y)`` carries axis coordinates."""

    point_clicked = Signal(float, float)

    def __init__(self, title: str, space: str = "x", scale: SharedScale | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = scale
        self.plot = pg.PlotWidget()
        self.plot.setTitle(title, size="9pt")  # the title's width is the map column's minimum
        self.plot.setAspectLocked(True)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # coordinates are plain numbers of axis units
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get(COLORMAP), interactive=False, width=12)
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.bar.axis.enableAutoSIPrefix(False)  # "total loss (x0.001)" over ticks 100…800 reads as a bigger loss
        self.contours: list[pg.IsocurveItem] = []
        self.path = pg.PlotDataItem(pen=pg.mkPen("w", width=2), symbol="o", symbolSize=4, symbolBrush="w")
        self.start = pg.ScatterPlotItem(size=11, brush=pg.mkBrush("#ff5050"), symbol="s")
        self.end = pg.ScatterPlotItem(size=13, brush=pg.mkBrush("#ffd700"), symbol="star")
        self.picked = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#00e5ff", width=2), brush=pg.mkBrush(None),
                                         symbol="o")
        for item in (self.path, self.start, self.end, self.picked):
            self.plot.addItem(item)
        self.readout = QLabel(" ")
        self.readout.setStyleSheet("background: black; color: #c8c8c8")  # one dark strip with the maps and legend
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.loss = np.zeros((0, 0))
        self.xs = self.ys = np.zeros(0)
        self.log_scale = False
        self.term = "total"
        self.levels: Levels | None = None  # what the image and colour bar show now
        self._rect = (0.0, 0.0, 1.0, 1.0)
        self.describe(SliceConfig(space=space))
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def describe(self, config: SliceConfig, explained: np.ndarray | None = None) -> None:
        """Name the axes after the slice's directions and units, and the colour bar after its loss."""
        self.axes: tuple[AxisText, AxisText] = axis_texts(config, explained)
        self.term = config.term
        for side, text in zip(("bottom", "left"), self.axes, strict=True):
            self.plot.setLabel(side, text.html, **_label_style())
            self.plot.getAxis(side).setToolTip(text.tooltip)
        self._label_bar()

    def _label_bar(self) -> None:
        self.bar.axis.setLabel(loss_label(self.term, self.log_scale), **_label_style())
        self.bar.axis.setWidth(None)  # room for the tick values and the label

    @property
    def bar_label(self) -> str:
        return str(self.bar.axis.labelText)

    def axis_label(self, side: str) -> str:
        """The text of the ``side`` axis's label ("left" or "bottom"), its line break as a space."""
        return str(self.plot.getAxis(side).labelText).replace("<br>", " ")

    def begin(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """A new grid: every value unknown (NaN) until its row arrives."""
        self.xs, self.ys = np.asarray(xs, float), np.asarray(ys, float)
        self.loss = np.full((len(ys), len(xs)), np.nan)
        dx, dy = (xs[-1] - xs[0]) / max(len(xs) - 1, 1), (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self._rect = (xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        self.fit()
        self.set_trajectory(None)
        self.picked.setData([], [])
        self.redraw()

    def clear(self) -> None:
        """No slice: a stale one would still set the colours of a shared scale."""
        self.loss, self.xs, self.ys = np.zeros((0, 0)), np.zeros(0), np.zeros(0)
        self.set_trajectory(None)
        self.picked.setData([], [])
        self.redraw()

    def fit(self) -> None:
        """Show the whole grid (the range a new slice opens with)."""
        if len(self.xs) and len(self.ys):
            self.plot.setRange(xRange=(self.xs[0], self.xs[-1]), yRange=(self.ys[0], self.ys[-1]), padding=0.03)

    def set_row(self, index: int, values: np.ndarray) -> None:
        self.loss[index] = values
        self.redraw(contours=False)

    def set_loss(self, loss: np.ndarray) -> None:
        self.loss = np.asarray(loss, float)
        self.redraw()

    def set_log_scale(self, log_scale: bool, redraw: bool = True) -> None:
        self.log_scale = log_scale
        self._label_bar()
        if redraw:
            self.redraw()

    def shown_values(self) -> np.ndarray:
        values = self.loss
        if self.log_scale:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.log10(np.clip(values, 1e-12, None))
        return values

    def own_range(self) -> Levels | None:
        """Min and max of this map's known values as coloured (log10 when log scale is on), or None."""
        values = self.shown_values()
        known = values[np.isfinite(values)]
        return None if known.size == 0 else (float(known.min()), float(known.max()))

    def redraw(self, contours: bool = True) -> None:
        values = self.shown_values()
        levels = self.scale.levels_for(self) if self.scale is not None else self.own_range()
        if levels is not None and self.scale is None:
            levels = (levels[0], levels[1] if levels[1] > levels[0] else levels[0] + 1e-9)
        self.levels = levels
        if levels is None:
            self.image.clear()
            self._clear_contours()
        else:
            self.image.setImage(np.where(np.isfinite(values), values, levels[0]), levels=levels)
            self.image.setRect(*self._rect)  # after setImage: the rect maps the image's pixels onto axis units
            self.bar.setLevels(levels)
            if contours and np.isfinite(values).all():
                self._draw_contours(values, *levels)
        if self.scale is not None:
            self.scale.spread(self, contours)

    def _clear_contours(self) -> None:
        for item in self.contours:
            item.setParentItem(None)
            self.plot.scene().removeItem(item)
        self.contours = []

    def _draw_contours(self, values: np.ndarray, low: float, high: float) -> None:
        """Iso-loss lines, children of the image so they share its pixel→axis transform."""
        self._clear_contours()
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
            self.pick(float(self.xs[found[1]]), float(self.ys[found[0]]))

    def pick(self, x: float, y: float) -> None:
        """Mark the grid point (x, y) and ask for its image."""
        self.picked.setData([x], [y])
        self.point_clicked.emit(x, y)


class LandscapeView(QWidget):
    """X and Z maps side by side (panning or zooming one moves the other), one colour scale, a legend below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = SharedScale()
        self.maps = {"x": SliceMap("X: generator latent", "x", self.scale),
                     "z": SliceMap("Z: through learned θ", "z", self.scale)}
        self.scale.maps = list(self.maps.values())
        self.maps["z"].plot.setXLink(self.maps["x"].plot)
        self.maps["z"].plot.setYLink(self.maps["x"].plot)
        self.key = pg.GraphicsLayoutWidget()
        self.key.setFixedHeight(28)
        self.key.ci.setContentsMargins(4, 0, 4, 0)
        self.legend = pg.LegendItem(colCount=len(MARKERS), horSpacing=8, frame=False)
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # a compact key, left
        self.key.addItem(self.legend)
        sample = self.maps["x"]
        for name, text in MARKERS.items():
            self.legend.addItem(getattr(sample, name), text)
        row = QHBoxLayout()
        row.setSpacing(0)
        for view in self.maps.values():
            row.addWidget(view, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row, 1)
        layout.addWidget(self.key)

    def legend_texts(self) -> list[str]:
        return [label.text for _sample, label in self.legend.items]

    def set_log_scale(self, log_scale: bool) -> None:
        for view in self.maps.values():  # every map first: a shared range must not mix log and linear values
            view.set_log_scale(log_scale, redraw=False)
        self._redraw()

    def set_shared_scale(self, shared: bool) -> None:
        self.scale.shared = shared
        self._redraw()

    def _redraw(self) -> None:
        for view in self.maps.values():
            view.redraw()

    def figure(self) -> QImage:
        """The maps as they look — axes, labels, colour bars, legend — for export (core's slice.png is the bare
        map). A hidden view (its dock never opened: laid out tiny, if at all) is first given a readable size and
        the whole grid in sight. Grabbing a hidden widget first runs what Qt deferred until it is shown: the
        parents' layout (which would undo an earlier resize), then the children's resize events."""
        if not self.isVisible():
            self.grab()
            self.resize(max(self.width(), FIGURE_SIZE[0]), max(self.height(), FIGURE_SIZE[1]))
            for widget in (self, *self.findChildren(QWidget)):
                if (layout := widget.layout()) is not None:
                    layout.activate()
            self.grab()
            for view in self.maps.values():
                view.fit()
        return self.grab().toImage()
