"""Model Info: what the loaded generator is, where it came from and which file exactly (its SHA-256)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.models.controller import ModelInfo
from app.widgets.vertical_scroll import VerticalScrollArea

SPACE_NOTES = {"z": "Gaussian input", "w": "mapped (one w for all layers)", "w+": "one w per layer"}


def count_text(n: int) -> str:
    """1234567 → "1,234,567 (1.2 M)": exact for comparing, rounded for reading."""
    short = f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"
    return f"{n:,} ({short})"


def spaces_text(info: ModelInfo) -> str:
    rows = []
    for name, shape in info.spaces.items():
        dims = " × ".join(str(d) for d in shape)
        default = ", default" if name == info.default_space else ""
        rows.append(f"{name}: [{dims}] ({SPACE_NOTES.get(name, 'latent')}{default})")
    return "\n".join(rows)


def info_rows(info: ModelInfo) -> list[tuple[str, str]]:
    """The dialog's rows, also what Copy puts on the clipboard."""
    rows = [("Name", info.name + (" (embedded default)" if info.builtin else "")),
            ("Architecture", info.architecture), ("Resolution", f"{info.resolution} × {info.resolution} px"),
            ("Latent spaces", spaces_text(info)), ("Parameters", count_text(info.parameters)),
            ("File", info.path), ("SHA-256", info.sha256 or "(no file)"), ("Model id", info.model_id),
            ("Device", info.device)]
    if "config" in info.details:
        rows.append(("Settings", ", ".join(f"{k} {v}" for k, v in info.details["config"].items() if v is not None)))
    if "source" in info.details:
        rows.append(("Source", json.dumps(info.details["source"], indent=1, default=str)))
    return rows


class ModelInfoDialog(QDialog):
    """Read-only, selectable facts about one model, with a Copy button for bug reports."""

    def __init__(self, info: ModelInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model Info — {info.name}")
        self.info = info
        self.rows = info_rows(info)
        self.values: dict[str, QLabel] = {}
        form = QFormLayout()
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for label, text in self.rows:
            value = QLabel(text)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(label in ("File", "Settings", "Source"))
            if label in ("SHA-256", "Model id"):
                value.setFont(fixed)
            self.values[label] = value
            form.addRow(label, value)
        copy = QPushButton("Copy")
        copy.setToolTip("Copy these facts as text (e.g. for a bug report)")
        copy.clicked.connect(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(VerticalScrollArea(form), 1)  # a checkpoint's long "Source" record scrolls on a small screen
        layout.addWidget(buttons)

    def text(self) -> str:
        return "\n".join(f"{label}: {text}" for label, text in self.rows)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
