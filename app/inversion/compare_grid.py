"""The comparison grid: the target and one column per method, the per-pixel error maps beneath, all views zoomed
and panned together (zooming into an eye in one column zooms all of them).

Kept apart from the dialog so the dialog holds only what the user does (choose, run, read, adopt, export).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from core.photo_jobs import DIFF_MAX, CompareStep, MethodOutcome, difference_map

DIFF_COLORMAP = "inferno"  # black = no error, bright = large error
ERROR_COLOR = "#ff8a8a"
TITLE_COLOR = "#e8e8e8"


class CompareGridView(pg.GraphicsLayoutWidget):
    """Target + one column per method; row 2 holds the difference maps. All views share one range."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("#202124")
        self.images: dict[str, pg.ImageItem] = {}  # "target" and each method → its image
        self.diffs: dict[str, pg.ImageItem] = {}  # each method → its difference map
        self.plots: dict[str, pg.PlotItem] = {}  # "target" and each method → the plot holding its image
        self.diff_plots: dict[str, pg.PlotItem] = {}
        self.notes: dict[str, pg.TextItem] = {}
        self.views: list[pg.ViewBox] = []  # every view, the target's first: all are linked to it
        self.bar: pg.ColorBarItem | None = None

    def begin(self, methods: list[str]) -> None:
        """Empty columns for ``methods`` (the previous comparison goes).

        Every view gets the same pixel size (equal column and row stretch, two-line titles in both rows):
        pyqtgraph lines up linked views by their screen geometry, and aspect-locked views of unequal sizes
        would keep re-expanding each other's ranges.
        """
        self.clear()
        self.images, self.diffs, self.plots, self.diff_plots, self.notes, self.views = {}, {}, {}, {}, {}, []
        self.plots["target"] = self._plot(0, 0, "<b>Target</b><br>photo crop")
        self.images["target"] = self._image(self.plots["target"])
        legend = pg.LabelItem(f"<b>Difference</b><br>|result − target|,<br>mean over RGB;<br>one scale for all:"
                              f"<br>0 – {DIFF_MAX:g} of full range", size="9pt", color=TITLE_COLOR)
        self.addItem(legend, 1, 0)
        for column, method in enumerate(methods, start=1):
            self.plots[method] = self._plot(0, column, f"<b>{method}</b><br>waiting…")
            self.images[method] = self._image(self.plots[method])
            self.diff_plots[method] = self._plot(1, column, f"|{method} − target|<br>…")
            self.diffs[method] = self._image(self.diff_plots[method])
            self.diffs[method].setColorMap(pg.colormap.get(DIFF_COLORMAP))
        self.bar = pg.ColorBarItem(values=(0, DIFF_MAX), colorMap=pg.colormap.get(DIFF_COLORMAP), interactive=False,
                                   width=14, colorMapMenu=False)
        self.bar.setImageItem(list(self.diffs.values()))
        self.addItem(self.bar, 1, len(methods) + 1)
        grid = self.ci.layout
        for column in range(len(methods) + 1):
            grid.setColumnStretchFactor(column, 1)
            grid.setColumnPreferredWidth(column, 150)
        grid.setColumnStretchFactor(len(methods) + 1, 0)
        for row in (0, 1):
            grid.setRowStretchFactor(row, 1)

    def _plot(self, row: int, column: int, title: str) -> pg.PlotItem:
        plot = self.addPlot(row, column)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.hideButtons()
        self.set_title(plot, title)
        view = plot.getViewBox()
        view.setAspectLocked(True)
        view.invertY(True)  # images: row 0 at the top
        view.setMenuEnabled(False)
        if self.views:
            view.setXLink(self.views[0])
            view.setYLink(self.views[0])
        self.views.append(view)
        return plot

    @staticmethod
    def set_title(plot: pg.PlotItem, html: str) -> None:
        plot.setTitle(html, size="10pt", color=TITLE_COLOR)

    def _image(self, plot: pg.PlotItem) -> pg.ImageItem:
        image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(image)
        return image

    def set_target(self, target: np.ndarray) -> None:
        size = target.shape[0]
        self.images["target"].setImage(target, levels=(0, 255), autoLevels=False)
        self.set_title(self.plots["target"], f"<b>Target</b><br>photo crop, {size}×{size} px")
        self.reset_zoom(size)

    def set_preview(self, step: CompareStep) -> None:
        """The running method's column: its current image and step (no figures until it ends)."""
        if step.preview is not None and step.method in self.images:
            self.images[step.method].setImage(step.preview, levels=(0, 255), autoLevels=False)
        if step.method in self.plots:
            self.set_title(self.plots[step.method], f"<b>{step.method}</b><br>step {step.step} / {step.steps}…")

    def set_outcome(self, outcome: MethodOutcome, target: np.ndarray) -> None:
        plot = self.plots[outcome.method]
        if outcome.image is None:
            self.images[outcome.method].clear()
            self.diffs[outcome.method].clear()
            self.set_title(self.diff_plots[outcome.method], f"|{outcome.method} − target|<br>—")
            text = outcome.error or "not run (stopped before it)"
            color = ERROR_COLOR if outcome.status == "failed" else "#aaaaaa"
            self.set_title(plot, f"<b>{outcome.method}</b><br><span style='color:{color}'>{outcome.status}</span>")
            self._note(outcome.method, text, color, target.shape[0])
            return
        self.images[outcome.method].setImage(outcome.image, levels=(0, 255), autoLevels=False)
        diff = difference_map(outcome.image, target)
        self.diffs[outcome.method].setImage(diff, levels=(0, DIFF_MAX), autoLevels=False)
        self.set_title(self.diff_plots[outcome.method], f"|{outcome.method} − target|<br>mean {diff.mean():.3f}")
        flag = " ⚠" if outcome.warnings else ""
        stopped = ", stopped" if outcome.status == "stopped" else ""
        self.set_title(plot, f"<b>{outcome.method}</b>{flag}<br>{outcome.psnr:.2f} dB · {outcome.seconds:.1f} s"
                             f"{stopped}")

    def _note(self, method: str, text: str, color: str, size: int) -> None:
        note = pg.TextItem(text[:300], color=color, anchor=(0.5, 0.5))
        note.setTextWidth(170)
        note.setPos(size / 2, size / 2)
        self.plots[method].addItem(note)
        self.notes[method] = note

    def reset_zoom(self, size: int | None = None) -> None:
        """Show the whole image in every column (the views are linked, so setting the first sets all)."""
        if self.views:
            size = size or (self.images["target"].width() or 1)
            self.views[0].setRange(xRange=(0, size), yRange=(0, size), padding=0.02)
