""""Compare methods…": run several inversion methods on the same crop and judge them side by side.

Row 1 shows the target and each method's reconstruction, row 2 the per-pixel error |result − target| on one
fixed colour scale, so a brighter column is a worse method wherever you look. Every view shares one zoom and pan:
zooming into an eye in one column zooms all of them. The exact figures sit in a table below, each row filled the
moment its method ends (nobody waits for the slowest method to read the fastest). "Use this result" (or a double
click on a row) adopts that method's result into the document as one undo step, and Export writes the grid as PNG
and the figures as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
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

from app.inversion.compare_controller import ADOPTABLE, CompareController
from app.inversion.compare_grid import CompareGridView
from core.errors import CoreError
from core.inversion import METHODS, InversionConfig
from core.photo_jobs import CompareStarted, CompareStep, Comparison, MethodDone, MethodOutcome, write_export

COLUMNS = ["Method", "Status", "PSNR (dB)", "LPIPS", "Identity", "Seconds", "Steps", "Notes"]
STATUS, STEPS = 1, 6  # the columns that change while a method runs
RunInputs = Callable[[], tuple[InversionConfig, str, "np.ndarray | None"]]  # settings, device, mask of a run


def shared_warnings(outcomes: list[MethodOutcome]) -> tuple[str, ...]:
    """Warnings every method gave (e.g. the LPIPS fallback): said once above the table, not in every row."""
    if len(outcomes) < 2:
        return ()
    common = set(outcomes[0].warnings).intersection(*(o.warnings for o in outcomes[1:]))
    return tuple(w for w in outcomes[0].warnings if w in common)


def outcome_cells(o: MethodOutcome, shared: tuple[str, ...] = ()) -> list[str]:
    """One table row: the method's status and figures (warnings every method gave are said once, elsewhere)."""
    notes = o.error or "; ".join(w for w in o.warnings if w not in shared)
    return [o.method, o.status, "" if o.psnr is None else f"{o.psnr:.3f}",
            "n/a" if o.lpips is None else f"{o.lpips:.4f}", "n/a" if o.identity is None else f"{o.identity:.3f}",
            f"{o.seconds:.2f}", str(o.steps_done), notes]


class CompareMethodsDialog(QDialog):
    """Non-modal: choose methods, Run/Stop, see the grid and the figures as each method ends, adopt one, Export."""

    def __init__(self, compare: CompareController, inputs: RunInputs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare inversion methods")
        self.setModal(False)
        self.compare, self.inputs = compare, inputs
        self.target: np.ndarray | None = None
        self.comparison: Comparison | None = None
        self.outcomes: list[MethodOutcome | None] = []  # row → its method's outcome (None: not ended yet)
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
        self.adopt_button = QPushButton("Use this result")
        self.adopt_button.setToolTip("Adopt the selected method's result into the photo, as Run would (undoable); "
                                     "double-clicking a row does the same")
        self.adopt_button.setEnabled(False)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the grid as PNG and the figures as JSON beside it")
        self.export_button.setEnabled(False)
        self.progress = QLabel("Choose methods and press Run: each runs with the Inversion panel's settings.")
        self.progress.setWordWrap(True)
        self.grid = CompareGridView()
        self.table = QTableWidget(0, len(COLUMNS))
        self._layout()
        self._connect()
        self.grid.begin(self.methods())  # the empty columns show what Run will fill
        self.resize(1100, 720)

    def _connect(self) -> None:
        self.fit_button.clicked.connect(lambda: self.grid.reset_zoom())
        self.export_button.clicked.connect(self.export_dialog)
        self.adopt_button.clicked.connect(self.adopt_selected)
        self.table.itemSelectionChanged.connect(self._update_adopt)
        self.table.cellDoubleClicked.connect(lambda row, _column: self.adopt_row(row))
        self.compare.steps_received.connect(self._records)
        self.compare.outcome_received.connect(self._outcome)
        self.compare.finished.connect(self._finished)
        self.compare.doc.photo_opened.connect(lambda _opened: self.clear())

    def _layout(self) -> None:
        methods = QHBoxLayout()
        methods.addWidget(QLabel("Methods:"))
        for check in self.checks.values():
            methods.addWidget(check)
        methods.addStretch(1)
        for button in (self.fit_button, self.adopt_button, self.export_button, self.run_button):
            methods.addWidget(button)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
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
        self._begin_table(methods)
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
            if isinstance(record, CompareStarted):  # the job began: its columns and rows replace the last run's
                self.target = record.target
                self.grid.begin(list(record.methods))
                self.grid.set_target(record.target)
                self._begin_table(list(record.methods))
        steps = [r for r in records if isinstance(r, CompareStep)]
        for step in {s.method: s for s in steps}.values():  # the newest record of each method in this batch
            self.grid.set_preview(step)
            if step.index < len(self.outcomes) and self.outcomes[step.index] is None:
                self._set_cell(step.index, STATUS, "running")
                self._set_cell(step.index, STEPS, f"{step.step} / {step.steps}")
        if steps:
            s = steps[-1]
            self.progress.setText(f"{s.method} ({s.index + 1} of {s.count}): step {s.step} / {s.steps}")

    def _outcome(self, done: MethodDone) -> None:
        """One method ended: its column and row now, whatever the others are doing."""
        o = done.outcome
        if self.target is None or done.index >= len(self.outcomes):
            return
        self.outcomes[done.index] = o
        self.grid.set_outcome(o, self.target)
        for column, text in enumerate(outcome_cells(o)):
            self._set_cell(done.index, column, text)
        self._fit_table()
        self._update_adopt()
        if o.status in ADOPTABLE and done.index + 1 < done.count:
            self.progress.setText(f"{o.method} ended ({done.index + 1} of {done.count}): select its row and "
                                  f"press Use this result to adopt it, or wait for the others.")

    def _finished(self, comparison: Comparison | None) -> None:
        self._set_running(False)
        if comparison is None:
            self.progress.setText("The comparison failed; see the message.")
            return
        self.comparison = comparison
        if self.target is None:
            self.target = comparison.target
            self.grid.set_target(comparison.target)
        if len(self.outcomes) != len(comparison.outcomes):
            self._begin_table([o.method for o in comparison.outcomes])
        for index, outcome in enumerate(comparison.outcomes):
            if self.outcomes[index] is None:  # its record never came (it always does; drawn once either way)
                self._outcome(MethodDone(index, len(comparison.outcomes), outcome))
        shared = shared_warnings(comparison.outcomes)
        for row, outcome in enumerate(comparison.outcomes):
            self._set_cell(row, len(COLUMNS) - 1, outcome_cells(outcome, shared)[-1])
        self._fit_table()
        self.grid.reset_zoom()
        self.export_button.setEnabled(True)
        self.progress.setText(("Stopped. " if comparison.cancelled else "Done. ")
                              + "Wheel zooms and drag pans every column together; Fit shows the whole crop. "
                              + "Select a row and press Use this result to adopt it."
                              + "".join(f"\nAll methods: {w}" for w in shared))

    # -- the table ---------------------------------------------------------------------------------------------
    def _begin_table(self, methods: list[str]) -> None:
        """A row per method, "pending" until it runs: the table says at once what is still to come."""
        self.outcomes = [None] * len(methods)
        self.table.clearSelection()
        self.table.setRowCount(0)
        self.table.setRowCount(len(methods))
        for row, method in enumerate(methods):
            self._set_cell(row, 0, method)
            self._set_cell(row, STATUS, "pending")
        self._fit_table()
        self._update_adopt()

    def _set_cell(self, row: int, column: int, text: str) -> None:
        """Change a cell's text in place (a replaced item would drop the user's selection)."""
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, column, item)
        item.setText(text)
        item.setToolTip(text)

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
            self._begin_table([])
            self.export_button.setEnabled(False)

    # -- adopting ----------------------------------------------------------------------------------------------
    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _adoptable(self, row: int | None) -> MethodOutcome | None:
        if row is None or not 0 <= row < len(self.outcomes):
            return None
        outcome = self.outcomes[row]
        return outcome if outcome is not None and outcome.result is not None and outcome.status in ADOPTABLE else None

    def _update_adopt(self) -> None:
        self.adopt_button.setEnabled(self._adoptable(self.selected_row()) is not None)

    def adopt_selected(self) -> bool:
        row = self.selected_row()
        return row is not None and self.adopt_row(row)

    def adopt_row(self, row: int) -> bool:
        """Adopt row ``row``'s result into the document (one undo step); False, said why, when it cannot be."""
        outcome = self._adoptable(row)
        if outcome is None:
            self.progress.setText("Only a method that ended with a result (done or stopped) can be adopted.")
            return False
        adopted, text = self.compare.adopt(outcome)
        self.progress.setText(text)
        return adopted

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
