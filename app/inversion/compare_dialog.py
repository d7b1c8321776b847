""""Compare methods…": run several inversion methods on the same crop and judge them side by side.

Row 1 shows the target and each method's reconstruction, row 2 the per-pixel error |result − target| on one
fixed colour scale, so a brighter column is a worse method wherever you look. Every view shares one zoom and pan:
zooming into an eye in one column zooms all of them. The exact figures sit in a table below, and Export writes the
grid as PNG and the figures as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.inversion.compare_controller import CompareController
from core.errors import CoreError
from core.inversion import METHODS, InversionConfig
from core.photo_jobs import (
    DIFF_MAX,
    CompareStarted,
    CompareStep,
    Comparison,
    MethodOutcome,
    difference_map,
    write_export,
)

DIFF_COLORMAP = "inferno"  # black = no error, bright = large error
ERROR_COLOR = "#ff8a8a"
TITLE_COLOR = "#e8e8e8"
COLUMNS = ["Method", "Status", "PSNR (dB)", "LPIPS", "Seconds", "Steps", "Notes"]
RunInputs = Callable[[], tuple[InversionConfig, str, "np.ndarray | None"]]  # settings, device, mask of a run


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


def shared_warnings(outcomes: list[MethodOutcome]) -> tuple[str, ...]:
    """Warnings every method gave (e.g. the LPIPS fallback): said once above the table, not in every row."""
    if len(outcomes) < 2:
        return ()
    common = set(outcomes[0].warnings).intersection(*(o.warnings for o in outcomes[1:]))
    return tuple(w for w in outcomes[0].warnings if w in common)


class CompareMethodsDialog(QDialog):
    """Non-modal: choose methods, Run/Stop, see the grid and the figures, Export."""

    def __init__(self, compare: CompareController, inputs: RunInputs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare inversion methods")
        self.setModal(False)
        self.compare, self.inputs = compare, inputs
        self.target: np.ndarray | None = None
        self.comparison: Comparison | None = None
        self.checks = {m: QCheckBox(m) for m in METHODS}
        for check in self.checks.values():
            check.setChecked(True)
            check.toggled.connect(self._choice_changed)
        self.settings_note = QLabel()
        self.settings_note.setStyleSheet("color: palette(mid);")
        self.run_button = QPushButton("Run")
        self.run_button.setMinimumWidth(90)
        self.run_button.clicked.connect(self._clicked)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole crop in every column (wheel zooms, drag pans, all together)")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the grid as PNG and the figures as JSON beside it")
        self.export_button.setEnabled(False)
        self.progress = QLabel("Choose methods and press Run: each runs with the Inversion panel's settings.")
        self.progress.setWordWrap(True)
        self.grid = CompareGridView()
        self.fit_button.clicked.connect(lambda: self.grid.reset_zoom())
        self.export_button.clicked.connect(self.export_dialog)
        self.table = QTableWidget(0, len(COLUMNS))
        self._layout()
        compare.steps_received.connect(self._records)
        compare.finished.connect(self._finished)
        compare.doc.photo_opened.connect(lambda _opened: self.clear())
        self.grid.begin(self.methods())  # the empty columns show what Run will fill
        self.resize(1100, 720)

    def _layout(self) -> None:
        methods = QHBoxLayout()
        methods.addWidget(QLabel("Methods:"))
        for check in self.checks.values():
            methods.addWidget(check)
        methods.addStretch(1)
        methods.addWidget(self.fit_button)
        methods.addWidget(self.export_button)
        methods.addWidget(self.run_button)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self._fit_table()
        outer = QVBoxLayout(self)
        outer.addLayout(methods)
        outer.addWidget(self.settings_note)
        outer.addWidget(self.progress)
        outer.addWidget(self.grid, 1)
        outer.addWidget(self.table)

    # -- running -----------------------------------------------------------------------------------------------
    def methods(self) -> list[str]:
        return [m for m, check in self.checks.items() if check.isChecked()]

    def run(self) -> bool:
        config, device, mask = self.inputs()
        methods = self.methods()
        self._show_settings(config, device, mask)
        if not self.compare.compare(methods, config, device, mask):
            self.progress.setText("Not started: open a photo, choose a method, and wait for any running job.")
            return False
        self.comparison, self.target = None, None
        self.table.setRowCount(0)
        self._fit_table()
        self.export_button.setEnabled(False)
        self._set_running(True)
        self.progress.setText(f"Starting {len(methods)} methods…")
        return True

    def _show_settings(self, config: InversionConfig, device: str, mask: np.ndarray | None) -> None:
        masked = ", masked pixels ignored" if mask is not None and mask.any() else ""
        self.settings_note.setText(f"Inversion panel settings: {config.steps} steps, {config.starts} start(s), "
                                   f"seed {config.seed}, lr {config.lr:g}, device {device}{masked}")

    def showEvent(self, event: QShowEvent) -> None:
        self._show_settings(*self.inputs())  # what Run would use now
        super().showEvent(event)

    def stop(self) -> None:
        self.compare.stop()
        self.progress.setText("Stopping after this step…")

    def _choice_changed(self) -> None:
        if self.comparison is None and not self.compare.running:  # an empty grid previews the columns
            self.grid.begin(self.methods())

    def _clicked(self) -> None:
        if self.compare.running:
            self.stop()
        else:
            self.run()

    def _set_running(self, running: bool) -> None:
        self.run_button.setText("Stop" if running else "Run")
        for check in self.checks.values():
            check.setEnabled(not running)

    def _records(self, records: list) -> None:
        for record in records:
            if isinstance(record, CompareStarted):  # the job began: its columns replace the last run's
                self.target = record.target
                self.grid.begin(list(record.methods))
                self.grid.set_target(record.target)
        steps = [r for r in records if isinstance(r, CompareStep)]
        for step in {s.method: s for s in steps}.values():  # the newest record of each method in this batch
            self.grid.set_preview(step)
        if steps:
            s = steps[-1]
            self.progress.setText(f"{s.method} ({s.index + 1} of {s.count}): step {s.step} / {s.steps}")

    def _finished(self, comparison: Comparison | None) -> None:
        self._set_running(False)
        if comparison is None:
            self.progress.setText("The comparison failed; see the message.")
            return
        self.comparison = comparison
        if self.target is None:
            self.grid.set_target(comparison.target)
        for outcome in comparison.outcomes:
            self.grid.set_outcome(outcome, comparison.target)
        shared = shared_warnings(comparison.outcomes)
        self._fill_table(comparison.outcomes, shared)
        self.grid.reset_zoom()
        self.export_button.setEnabled(True)
        self.progress.setText(("Stopped. " if comparison.cancelled else "Done. ")
                              + "Wheel zooms and drag pans every column together; Fit shows the whole crop."
                              + "".join(f"\nAll methods: {w}" for w in shared))

    def _fill_table(self, outcomes: list[MethodOutcome], shared: tuple[str, ...] = ()) -> None:
        self.table.setRowCount(len(outcomes))
        for row, o in enumerate(outcomes):
            notes = o.error or "; ".join(w for w in o.warnings if w not in shared)
            cells = [o.method, o.status, "" if o.psnr is None else f"{o.psnr:.3f}",
                     "n/a" if o.lpips is None else f"{o.lpips:.4f}", f"{o.seconds:.2f}", str(o.steps_done), notes]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self._fit_table()

    def _fit_table(self) -> None:
        """As tall as its rows: the images get the rest of the height."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + rows
                                  + 2 * self.table.frameWidth())

    def clear(self) -> None:
        """A new photo: the old comparison no longer describes it."""
        if not self.compare.running:
            self.comparison, self.target = None, None
            self.grid.begin(self.methods())
            self.table.setRowCount(0)
            self._fit_table()
            self.export_button.setEnabled(False)

    # -- export ------------------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if self.comparison is None:
            return
        stem = Path(self.comparison.photo).stem or "comparison"
        path, _ = QFileDialog.getSaveFileName(self, "Export comparison", f"{stem}_methods.png", "PNG (*.png)")
        if path:
            try:
                written = self.export(Path(path))
            except CoreError as exc:
                self.progress.setText(str(exc))
                return
            self.progress.setText(f"Exported {written[0].name} and {written[1].name}.")

    def export(self, path: Path) -> list[Path]:
        """The grid as PNG at ``path`` and the figures as JSON beside it (same name, .json)."""
        if self.comparison is None:
            raise RuntimeError("There is no comparison to export yet: run one first.")
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.grid.grab().save(buffer, "PNG")
        buffer.close()
        return write_export(bytes(data.data()), self.comparison, path)

    def reject(self) -> None:
        """Closing (Esc or the window's close button) stops a run: hidden, it would hold the engine with no Stop
        button in sight."""
        self.compare.stop()
        super().reject()
