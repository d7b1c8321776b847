"""Shared GUI fixtures: the main window, offscreen, on the real engine and model, with the NASA sample open."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QMessageBox

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.inversion import InversionConfig
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
OPEN_WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def discard(box: QMessageBox) -> None:
    """Answer "Save the changes first?" with Discard, on the real dialog, once it is open."""
    QTimer.singleShot(0, box.button(QMessageBox.StandardButton.Discard).click)


@pytest.fixture
def window(qtbot, tmp_path):
    controller = DocumentController()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("prefs/align_on_open", False)  # these tests work on the crop box; test_alignment aligns
    win = MainWindow(controller, settings)
    qtbot.addWidget(win)
    win.inversion_panel.set_config(InversionConfig())  # these tests run the direct method unless they choose one
    # (the editor itself starts on pivotal: test_guide checks that)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(controller.photo_opened, timeout=OPEN_WAIT_MS):
        win.open_path(SAMPLE)
    win.unsaved.asking.connect(discard)  # the user of these tests drops unsaved work when asked (test_unsaved
    # answers the question itself)
    yield win
    controller.shutdown()



@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """When a test ends, closing its window (pytest-qt does, in this hook) must not stop at "Save the changes
    first?": that question and its answers are tested on their own, so whatever a test changed counts as saved.
    Only this test's own window is touched, and only while Qt still has it."""
    import shiboken6

    window = getattr(item, "funcargs", {}).get("window")
    if isinstance(window, MainWindow) and shiboken6.isValid(window) and shiboken6.isValid(window.controller):
        window.controller.undo_stack.setClean()
    return (yield)


@pytest.fixture(autouse=True)
def collect_qt_garbage():
    """Collect cycles after each test, once its windows are closed and its engine threads have ended: a collection
    that fires mid-test while an engine thread runs may free Qt wrappers of earlier windows under it (a segfault
    seen once in CI during a training test)."""
    yield
    gc.collect()
