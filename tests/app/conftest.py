"""Shared GUI fixtures: the main window, offscreen, on the real engine and model, with the NASA sample open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
OPEN_WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


@pytest.fixture
def window(qtbot, tmp_path):
    controller = DocumentController()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("prefs/align_on_open", False)  # these tests work on the crop box; test_alignment aligns
    win = MainWindow(controller, settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(controller.photo_opened, timeout=OPEN_WAIT_MS):
        win.open_path(SAMPLE)
    yield win
    controller.shutdown()
