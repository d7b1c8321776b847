"""Small dialogs: preferences (kept in QSettings) and the keyboard shortcut sheet."""

from __future__ import annotations

import math
from typing import cast

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.placement import COMPOSITE_MODES, DEFAULT_COMPOSITE, check_composite_mode

COMPOSITE_LABELS = {"detail": "Keep the photo's detail", "replace": "Replace with the model's face"}
COMPOSITE_HINT = ("Keep the photo's detail: only what an edit, fill or restoration changes is added to the photo, at "
                  "its resolution; Replace: the model's own (softer) face is pasted over it.")


AUTOSAVE_MINUTES = 3.0  # the default: a crash costs at most a few minutes of work, and a save is short


class Preferences:
    """Typed access to the stored preferences, with defaults."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    @property
    def jpeg_quality(self) -> int:
        # QSettings gives back what was stored, or its text when read from a settings file
        return int(cast("int | str", self.settings.value("prefs/jpeg_quality", 95)))

    @property
    def feather(self) -> float:
        return float(cast("float | str", self.settings.value("prefs/feather", 0.08)))

    @property
    def align_on_open(self) -> bool:
        """Align the largest face to the model's framing as soon as a photo opens (the crop box stays available)."""
        return str(self.settings.value("prefs/align_on_open", True)).lower() not in ("false", "0")

    @property
    def composite(self) -> str:
        """How results enter a newly opened photo: "detail" (the model's change added) or "replace"."""
        mode = str(self.settings.value("prefs/composite", DEFAULT_COMPOSITE))
        return mode if mode in COMPOSITE_MODES else DEFAULT_COMPOSITE

    @property
    def autosave_minutes(self) -> float:
        """Minutes between autosaves of unsaved work (0: only before long jobs); a bad stored value: the default."""
        try:
            minutes = float(cast("float | str", self.settings.value("prefs/autosave_minutes", AUTOSAVE_MINUTES)))
        except (TypeError, ValueError):
            return AUTOSAVE_MINUTES
        return min(max(minutes, 0.0), 120.0) if math.isfinite(minutes) else AUTOSAVE_MINUTES

    def set(self, jpeg_quality: int, feather: float, align_on_open: bool | None = None,
            composite: str | None = None, autosave_minutes: float | None = None) -> None:
        self.settings.setValue("prefs/jpeg_quality", jpeg_quality)
        self.settings.setValue("prefs/feather", feather)
        if align_on_open is not None:
            self.settings.setValue("prefs/align_on_open", align_on_open)
        if composite is not None:
            self.settings.setValue("prefs/composite", check_composite_mode(composite))
        if autosave_minutes is not None:
            self.settings.setValue("prefs/autosave_minutes", autosave_minutes)


class PreferencesDialog(QDialog):
    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.prefs = prefs
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(prefs.jpeg_quality)
        self.feather = QDoubleSpinBox()
        self.feather.setRange(0.0, 0.5)
        self.feather.setSingleStep(0.01)
        self.feather.setValue(prefs.feather)
        self.feather.setToolTip("Width of the soft seam around the pasted reconstruction, as a fraction of the crop")
        self.align_on_open = QCheckBox("Align the face when a photo opens")
        self.align_on_open.setChecked(prefs.align_on_open)
        self.align_on_open.setToolTip("Snap the model's square to the largest face (Run → Align Face); off: the "
                                      "crop box")
        self.composite = QComboBox()
        for mode, label in COMPOSITE_LABELS.items():
            self.composite.addItem(label, mode)
        self.composite.setCurrentIndex(max(self.composite.findData(prefs.composite), 0))
        self.composite.setToolTip(COMPOSITE_HINT)
        self.autosave = QDoubleSpinBox()
        self.autosave.setRange(0.0, 120.0)
        self.autosave.setDecimals(1)
        self.autosave.setSuffix(" min")
        self.autosave.setValue(prefs.autosave_minutes)
        self.autosave.setToolTip("How often unsaved work is autosaved for recovery after a crash (it is also saved "
                                 "before every run); 0: only before runs")
        form = QFormLayout()
        form.addRow("JPEG export quality", self.quality)
        form.addRow("Paste-back feather", self.feather)
        form.addRow("", self.align_on_open)
        form.addRow("Results in new photos", self.composite)
        form.addRow("Autosave every", self.autosave)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def accept(self) -> None:
        self.prefs.set(self.quality.value(), self.feather.value(), self.align_on_open.isChecked(),
                       self.composite.currentData(), self.autosave.value())
        super().accept()


CANVAS_KEYS = [("Pan", "Space + drag"), ("Brush size", "[  ]  or  Alt + wheel"), ("Show before (hold)", "\\"),
               ("Zoom", "Wheel"), ("Browse inpainting candidates (gallery)", "←  →"),
               ("Drag tool: remove the last point", "Backspace  or  right click")]  # keys the canvas handles itself


class ShortcutsDialog(QDialog):
    """Every action that has a shortcut, read from the actions themselves so the sheet never goes stale."""

    def __init__(self, actions: list[QAction], extra: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        named = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                 for a in actions if not a.shortcut().isEmpty()]
        rows = list(dict.fromkeys(named + extra))  # an action in a menu and on the toolbar is listed once
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.table = table
        self.resize(460, 520)
