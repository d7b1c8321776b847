"""The real main window starting on a damaged user data folder: a truncated or garbage direction ``library.json``
never stops start-up; the window opens with the shipped directions, a message names the damaged file and where it
was moved, and its bytes are kept there."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.directions import Direction, DirectionLibrary, shipped_library_dir

WAIT_MS = 60_000  # only ends a hang: the wait ends on the message box itself
DAMAGE = {
    "truncated": lambda data: data[: len(data) // 3],
    "garbage": lambda data: bytes(range(256)) * 8,
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_the_editor_starts_on_a_damaged_direction_library(name, qtbot, tmp_path, user_data):
    folder = user_data / "directions" / "default"
    vector = np.random.default_rng(1).standard_normal(100)
    DirectionLibrary([Direction("mine", vector / np.linalg.norm(vector), "z", "m", "pca")]).save(folder)
    index = folder / "library.json"
    damaged = DAMAGE[name](index.read_bytes())
    index.write_bytes(damaged)
    controller = DocumentController()
    window = MainWindow(controller, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    try:
        def message() -> QMessageBox | None:
            boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
            return boxes[0] if boxes else None

        qtbot.waitUntil(lambda: message() is not None, timeout=WAIT_MS)
        text = message().text()
        aside = [p for p in folder.parent.iterdir() if p.name.startswith("default.damaged-")]
        assert len(aside) == 1 and str(index) in text and str(aside[0]) in text, text
        assert (aside[0] / "library.json").read_bytes() == damaged
        assert window.isVisible()
        assert window.edits.library.names() == DirectionLibrary.load(shipped_library_dir("default")).names()
        assert not folder.exists()  # written only when the user changes the library
    finally:
        controller.shutdown()
