"""File → Batch…: photos or folders in, a recipe (the document's current settings or a recipe file), an output
folder; a live list of each photo before and after with its status, Stop, and Open Output Folder.

The dialog only draws and asks: the presenter runs the batch on the engine thread and feeds it
:class:`~core.batch.local.BatchProgress` records.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.widgets.qimage import numpy_to_qimage
from core.batch.local import THUMB, BatchProgress, BatchReport

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.heic *.heif);;All files (*)"
CURRENT, FROM_FILE = "The editor's current settings", "A recipe file…"


class BatchDialog(QDialog):
    start_requested = Signal(list, object, str)  # inputs, recipe file (None: current settings), output folder
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.resize(760, 620)
        self.inputs = QListWidget()
        self.inputs.setMaximumHeight(110)
        add_photos, add_folder, remove = QPushButton("Add Photos…"), QPushButton("Add Folder…"), QPushButton("Remove")
        add_photos.clicked.connect(self._add_photos)
        add_folder.clicked.connect(self._add_folder)
        remove.clicked.connect(lambda: [self.inputs.takeItem(self.inputs.row(i)) for i in self.inputs.selectedItems()])
        self.recipe = QComboBox()
        self.recipe.addItems([CURRENT, FROM_FILE])
        self.recipe.activated.connect(self._recipe_chosen)
        self.recipe_file: str | None = None
        self.out = QLineEdit()
        self.out.setPlaceholderText("a new or empty folder (or this recipe's earlier batch, to resume it)")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_out)
        buttons_row = QHBoxLayout()
        for button in (add_photos, add_folder, remove):
            buttons_row.addWidget(button)
        buttons_row.addStretch(1)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out, 1)
        out_row.addWidget(choose)
        form = QFormLayout()
        form.addRow("Photos", self.inputs)
        form.addRow("", buttons_row)
        form.addRow("Recipe", self.recipe)
        form.addRow("Output folder", out_row)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Before", "After", "Photo", "Status"])
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 6)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column in (0, 1):
            self.table.setColumnWidth(column, THUMB + 12)
        self.progress = QLabel("Add photos or a folder, choose an output folder, then Start.")
        self.progress.setWordWrap(True)
        self.start_button, self.stop_button = QPushButton("Start"), QPushButton("Stop")
        self.open_button = QPushButton("Open Output Folder")
        self.start_button.clicked.connect(self._start)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.open_button.clicked.connect(self.open_output)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.start_button, self.stop_button, self.open_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(buttons)
        self.set_running(False)
        self._began = 0.0

    # -- what the user chooses ----------------------------------------------------------------------------------
    def add_inputs(self, paths: list[str]) -> None:
        for path in paths:
            if not self.inputs.findItems(path, Qt.MatchFlag.MatchExactly):
                self.inputs.addItem(path)

    def entries(self) -> list[str]:
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def _add_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Photos for the batch", "", PHOTO_FILTER)
        self.add_inputs(paths)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of photos")
        if folder:
            self.add_inputs([folder])

    def _recipe_chosen(self, index: int) -> None:
        if self.recipe.itemText(index) == CURRENT:
            self.recipe_file = None
            return
        path, _ = QFileDialog.getOpenFileName(self, "Recipe", "", "Recipe (*.json);;All files (*)")
        if path:
            self.set_recipe_file(path)
        elif self.recipe_file is None:
            self.recipe.setCurrentIndex(0)

    def set_recipe_file(self, path: str | None) -> None:
        self.recipe_file = path
        if path is None:
            self.recipe.setCurrentIndex(0)
            return
        self.recipe.setItemText(1, Path(path).name)
        self.recipe.setCurrentIndex(1)

    def _choose_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder")
        if folder:
            self.out.setText(folder)

    def _start(self) -> None:
        if not self.entries() or not self.out.text().strip():
            self.progress.setText("Add at least one photo or folder, and choose an output folder.")
            return
        self.start_requested.emit(self.entries(), self.recipe_file, self.out.text().strip())

    def open_output(self) -> None:
        if self.out.text().strip():
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.out.text().strip()))

    # -- what the engine reports ----------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self.table.setRowCount(0)
            self._began = time.monotonic()
            self.progress.setText("Loading the model…")

    def add_progress(self, records: list[BatchProgress]) -> None:
        for p in records:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, image in ((0, p.before), (1, p.after)):
                item = QTableWidgetItem()
                if image is not None:
                    item.setIcon(QIcon(QPixmap.fromImage(numpy_to_qimage(image))))
                self.table.setItem(row, column, item)
            self.table.setItem(row, 2, QTableWidgetItem(Path(p.row["photo"]).name))
            status = "done" if p.row["status"] == "done" else f"failed: {p.row.get('error', '')}"
            warnings = p.row.get("warnings") or []
            status += f" ({p.row['seconds']:.0f} s)" + (f" — {'; '.join(warnings)}" if warnings else "")
            status_item = QTableWidgetItem(status)
            status_item.setToolTip(status)
            self.table.setItem(row, 3, status_item)
            self.table.scrollToItem(status_item)
            elapsed = time.monotonic() - self._began
            left = elapsed / p.finished * (p.to_do - p.finished)
            self.progress.setText(f"{p.finished} of {p.to_do} photos · about {left:.0f} s left")

    def show_report(self, report: BatchReport) -> None:
        self.set_running(False)
        done = sum(r["status"] == "done" for r in report.rows)
        failed = len(report.rows) - done
        duplicates = len(report.inputs.duplicates) if report.inputs else 0
        self.progress.setText(f"{done} done, {report.skipped} already done, {failed} failed"
                              + (f", {duplicates} duplicates left out" if duplicates else "")
                              + (" — stopped." if report.stopped else ".")
                              + " Results, manifest.jsonl and summary.csv are in the output folder.")

    def show_failure(self, message: str) -> None:
        self.set_running(False)
        self.progress.setText(message)
