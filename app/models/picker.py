"""File → Choose Model…: the models this product offers side by side — results' size, the size it works at,
one inversion step's time *on this machine*, licence and whether it is installed — so a user picks knowingly.

The dialog only draws: the catalog (which hashes the FFHQ files), timing and installing run on the engine thread
through the presenter, which calls :meth:`ModelPickerDialog.set_entries` with the fresh catalog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.generators.catalog import ModelEntry

COLUMNS = ("Model", "Results", "Works at", "Step here", "Use", "Status")
WHEEL_FILTER = "random-face wheel (random_face-2021.7.21.1-py3-none-any.whl);;Wheels (*.whl);;All files (*)"


def row_texts(entry: ModelEntry, current: str) -> list[str]:
    """One table row; also what the tests read."""
    speed = "not measured" if entry.step_ms is None else f"{entry.step_ms:.0f} ms"
    title = entry.title + ("  (in use)" if entry.key == current else "")
    return [title, f"{entry.resolution} px", f"{entry.working_resolution} px", speed,
            "commercial" if entry.commercial_use else "non-commercial", entry.status]


class ModelPickerDialog(QDialog):
    """A table of :class:`ModelEntry` rows, the selected one's licence in full, and Use / Install / Measure."""

    use_requested = Signal(str)  # a ready model's key
    install_requested = Signal(str)  # the wheel file the user chose
    measure_requested = Signal()

    def __init__(self, entries: list[ModelEntry], current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose Model")
        self.resize(820, 360)
        self.entries: list[ModelEntry] = []
        self.current = current
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.itemDoubleClicked.connect(lambda _item: self._use())
        self.licence = QLabel()
        self.licence.setWordWrap(True)
        self.licence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Use This Model")
        self.use_button.clicked.connect(self._use)
        self.install_button = QPushButton("Install FFHQ from Wheel…")
        self.install_button.setToolTip("Install the photoreal model from a downloaded random-face wheel (checked "
                                       "against its pinned SHA-256) into your data folder")
        self.install_button.clicked.connect(self._install)
        self.measure_button = QPushButton("Measure Speed")
        self.measure_button.setToolTip("Time one inversion step of each installed model on this computer")
        self.measure_button.clicked.connect(self._measure)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.use_button, self.install_button, self.measure_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.busy = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.licence)
        layout.addWidget(self.busy)
        layout.addWidget(buttons)
        self.set_entries(entries, current)

    def set_entries(self, entries: list[ModelEntry], current: str) -> None:
        """Show a fresh catalog (after a load, an install or a measurement); the selection follows the model."""
        selected = self.selected_entry()
        self.entries, self.current = entries, current
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            for column, text in enumerate(row_texts(entry, current)):
                item = QTableWidgetItem(text)
                item.setToolTip(entry.status if column == len(COLUMNS) - 1 else text)
                if not entry.ready:
                    item.setForeground(self.palette().placeholderText())
                self.table.setItem(row, column, item)
        keys = [e.key for e in entries]
        keep = selected.key if selected is not None and selected.key in keys else current
        self.table.selectRow(keys.index(keep) if keep in keys else 0)
        self.set_busy("")
        self._selected()

    def set_busy(self, text: str) -> None:
        """A line saying what the engine is doing for this dialog; the buttons wait for it."""
        self.busy.setText(text)
        for button in (self.install_button, self.measure_button):
            button.setEnabled(not text)
        self._selected()

    def selected_entry(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.entries[rows[0].row()] if rows and rows[0].row() < len(self.entries) else None

    def _selected(self) -> None:
        entry = self.selected_entry()
        self.licence.setText("" if entry is None else f"<b>Licence.</b> {entry.licence}")
        self.use_button.setEnabled(entry is not None and entry.ready and entry.key != self.current
                                   and not self.busy.text())

    def _use(self) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.ready and entry.key != self.current:
            self.use_requested.emit(entry.key)

    def _install(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Install the FFHQ model from its wheel", "", WHEEL_FILTER)
        if path:
            self.install_requested.emit(path)

    def _measure(self) -> None:
        self.measure_requested.emit()
