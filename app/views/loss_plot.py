"""Live loss curves of an inversion on a log axis: one curve per loss term, updated as steps arrive."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt

# Okabe–Ito colours (distinguishable with colour-blindness), chosen to read well on pyqtgraph's dark background.
TERM_COLOURS = {
    "total": "#F0F0F0",
    "best": "#F0E442",
    "pixel": "#56B4E9",
    "lpips": "#E69F00",
    "prior": "#CC79A7",
}
SPARE_COLOURS = ("#009E73", "#D55E00", "#9AD0F5", "#FFB3C6", "#B5E48C", "#A0A0FF")
IGNORED_KEYS = frozenset({"step", "lr"})  # in history dicts but not losses
TERM_ORDER = ("total", "best")  # drawn and listed after the other terms, so they sit on top
PREFERRED_HEIGHT = 300  # px: the plot's size hint (it grows with the room it is given); through the Progress
# dock's hint it also sets the dock's share of the right column, enough on a 1366×768 screen for the whole panel


class _Series:
    """Growable (steps, values) buffers for one curve; capacity doubles, so appending is amortised O(1)."""

    def __init__(self) -> None:
        self.steps = np.empty(256, dtype=np.float64)
        self.values = np.empty(256, dtype=np.float64)
        self.count = 0

    def extend(self, steps: list[float], values: list[float]) -> None:
        need = self.count + len(steps)
        if need > len(self.steps):
            capacity = max(need, 2 * len(self.steps))
            self.steps = np.resize(self.steps, capacity)
            self.values = np.resize(self.values, capacity)
        self.steps[self.count : need] = steps
        self.values[self.count : need] = values
        self.count = need

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.steps[: self.count], self.values[: self.count]


class _LossAxis(pg.AxisItem):
    """Log axis that labels only 1, 2 and 5 × 10ⁿ, so the minor ticks between decades do not crowd."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings = super().logTickStrings(values, scale, spacing)
        mantissas = [_mantissa(10.0 ** float(v) * scale) for v in values]
        kept = [text if m in (1, 2, 5) else "" for text, m in zip(strings, mantissas, strict=True)]
        return kept if sum(1 for text in kept if text) >= 2 else strings  # within a narrow range: label them all


class LossPlotView(pg.PlotWidget):
    """Loss terms (pixel, lpips, prior, …) against the step, log y axis; ``total`` thick, ``best`` dashed.

    Values that a log axis cannot show (zero, negative, NaN, infinite) are skipped, so ``values`` returns only the
    points that are drawn.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, axisItems={"left": _LossAxis("left")})
        item = self.getPlotItem()
        item.setLogMode(x=False, y=True)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLabel("bottom", "step")
        item.setLabel("left", "loss")
        item.getAxis("left").enableAutoSIPrefix(False)  # plain loss values, not "loss (x0.001)"
        item.setMenuEnabled(False)
        item.setDownsampling(auto=True, mode="peak")  # long runs stay cheap to draw
        item.setClipToView(True)
        item.addLegend(offset=(-10, 10), brush=pg.mkBrush(20, 20, 20, 210), pen=pg.mkPen(90, 90, 90))
        item.getAxis("left").setWidth(52)  # a fixed width: changing tick labels never trigger a relayout
        self.setMinimumSize(240, 160)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._series: dict[str, _Series] = {}
        self._phase_lines: list[pg.InfiniteLine] = []

    def sizeHint(self) -> QSize:
        """Room for the curves and a legend; not QGraphicsView's hint (up to two thirds of the screen), which gave
        the Progress dock most of the window's height and width."""
        return QSize(480, PREFERRED_HEIGHT)

    def set_value_label(self, text: str) -> None:
        """Name the y axis for a run that plots something other than losses (a drag's distance left)."""
        self.getPlotItem().setLabel("left", text)

    def reset(self) -> None:
        """Remove every curve and its legend entry (a new run starts; the y axis is "loss" again)."""
        item = self.getPlotItem()
        item.setLabel("left", "loss")
        for curve in self._curves.values():
            item.removeItem(curve)
        self._curves.clear()
        self._series.clear()
        item.enableAutoRange()

    def append(self, steps: list[int], losses: list[dict[str, float]]) -> None:
        """Add a batch of steps; ``losses[i]`` maps each term to its value at ``steps[i]`` (terms may come and go)."""
        if len(steps) != len(losses):
            raise ValueError(f"append needs one loss dict per step, got {len(steps)} steps and {len(losses)} dicts.")
        batches: dict[str, tuple[list[float], list[float]]] = {}
        for step, terms in zip(steps, losses, strict=True):
            for term, value in _plottable(terms):
                xs, ys = batches.setdefault(term, ([], []))
                xs.append(float(step))
                ys.append(value)
        for term in sorted(batches, key=_draw_order):
            xs, ys = batches[term]
            series = self._series.get(term)
            if series is None:
                series = self._series[term] = _Series()
                self._curves[term] = self._make_curve(term)
            series.extend(xs, ys)
            self._curves[term].setData(*series.view())

    def set_step_range(self, steps: int, phases: Sequence[tuple[int, str]] = ()) -> None:
        """Fix the x axis to a whole run's length (so the axis is not re-laid-out on every append), and mark where
        each of its ``phases`` (first step, name) begins, e.g. a pivotal run's pivot search and weight tuning."""
        item = self.getPlotItem()
        item.enableAutoRange(x=False)
        item.setXRange(0, max(steps, 1), padding=0.02)
        for line in self._phase_lines:
            item.removeItem(line)
        self._phase_lines = []
        for first, name in phases:
            line = pg.InfiniteLine(first, angle=90, pen=pg.mkPen(150, 150, 150, style=Qt.PenStyle.DashLine),
                                   label=f"{name} →", labelOpts={"position": 0.92, "color": (190, 190, 190),
                                                                "anchors": [(0, 0.5), (0, 0.5)]})
            item.addItem(line, ignoreBounds=True)
            self._phase_lines.append(line)

    def phases(self) -> list[tuple[float, str]]:
        """(first step, label) of each marked phase."""
        return [(float(line.value()), line.label.format) for line in self._phase_lines]

    def set_history(self, history: list[dict[str, float]]) -> None:
        """Replace everything with a whole run's history: dicts of ``step`` plus terms (``lr`` is not drawn)."""
        self.reset()
        steps = [int(entry.get("step", index)) for index, entry in enumerate(history)]
        self.append(steps, history)

    def values(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) drawn for ``term`` (copies; both empty when the term has not been seen)."""
        series = self._series.get(term)
        if series is None:
            return np.empty(0), np.empty(0)
        steps, values = series.view()
        return steps.copy(), values.copy()

    def terms(self) -> list[str]:
        """Terms with a curve, in the order they were first seen."""
        return list(self._curves)

    def _make_curve(self, term: str) -> pg.PlotDataItem:
        colour = TERM_COLOURS.get(term) or SPARE_COLOURS[_spare_index(self._curves)]
        width = {"total": 2.5, "best": 1.5}.get(term, 1.5)
        style = Qt.PenStyle.DashLine if term == "best" else Qt.PenStyle.SolidLine
        pen = pg.mkPen(colour, width=width, style=style)
        curve = self.getPlotItem().plot(name=term, pen=pen, antialias=True)
        curve.setSkipFiniteCheck(True)  # only finite, positive values ever reach the curve
        curve.setZValue(_draw_order(term)[0])
        return curve


def _plottable(terms: Mapping[str, float]) -> Iterable[tuple[str, float]]:
    """(term, value) pairs a log axis can show: skips ``step``/``lr``, non-numbers, and values that are not > 0."""
    for term, value in terms.items():
        if term in IGNORED_KEYS or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number > 0.0:
            yield term, number


def _mantissa(value: float) -> int:
    """The leading digit of a positive number (0.05 → 5, 200 → 2); 0 for anything else."""
    if not math.isfinite(value) or value <= 0.0:
        return 0
    return round(value / 10.0 ** math.floor(math.log10(value) + 1e-9))


def _draw_order(term: str) -> tuple[int, str]:
    """Sort key: ordinary terms first (alphabetically), then ``total`` and ``best`` on top."""
    return (1 + TERM_ORDER.index(term), term) if term in TERM_ORDER else (0, term)


def _spare_index(existing: Mapping[str, object]) -> int:
    """A spare colour not yet used by another unknown term (cycling when there are more terms than colours)."""
    unknown = sum(1 for name in existing if name not in TERM_COLOURS)
    return unknown % len(SPARE_COLOURS)
