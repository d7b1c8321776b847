"""Unsaved work is never dropped without asking: quitting, closing, opening another photo or project."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.resources import resources_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang
Button = QMessageBox.StandardButton
OTHER = resources_dir() / "samples" / "grace_hopper.jpg"


@pytest.fixture(autouse=True)
def _no_scripted_answer(window):
    """These tests answer the question themselves."""
    window.unsaved.asking.disconnect()


def _brush(window) -> None:
    mask = np.zeros((512, 512), bool)
    mask[300:340, 100:180] = True
    window.controller.replace_mask(mask, "Brush stroke")


def _answer(button: QMessageBox.StandardButton, asked: list[str]) -> None:
    """Press ``button`` in the question that is about to open (a real modal message box)."""
    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, press)
            return
        asked.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, press)


def test_a_change_marks_the_window_modified_and_a_save_clears_it(qtbot, window, tmp_path):
    assert not window.isWindowModified() and not window.unsaved.modified
    _brush(window)
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "saved.lsproj")
    assert not window.isWindowModified()


def test_cancel_keeps_the_document_and_discard_opens_the_other_photo(qtbot, window):
    _brush(window)
    asked: list[str] = []
    _answer(Button.Cancel, asked)
    window.open_path(OTHER)
    assert asked and window.controller.opened.photo.source.name == "astronaut.png"
    assert window.controller.mask.any()
    _answer(Button.Discard, asked)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(OTHER)
    assert len(asked) == 2 and window.controller.opened.photo.source.name == "grace_hopper.jpg"


def _saved_then_brushed(qtbot, window, project, answer: QMessageBox.StandardButton) -> list[str]:
    """Save ``project``, brush a stroke, and have the next question answered with ``answer``: what was asked."""
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(project)
    _brush(window)
    asked: list[str] = []
    _answer(answer, asked)
    return asked


def test_save_writes_the_project_then_opens_the_other_photo(qtbot, window, tmp_path):
    asked = _saved_then_brushed(qtbot, window, tmp_path / "work.lsproj", Button.Save)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(OTHER)
    assert asked and "work.lsproj" in asked[0]
    assert window.controller.opened.photo.source.name == "grace_hopper.jpg"
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "work.lsproj")  # unchanged since opening: no question
    assert len(asked) == 1 and window.controller.mask.any()  # the stroke was saved before the photo changed


def test_opening_a_project_asks_too(qtbot, window, tmp_path):
    asked = _saved_then_brushed(qtbot, window, tmp_path / "other.lsproj", Button.Cancel)
    window.open_path(tmp_path / "other.lsproj")
    assert asked and window.controller.mask.any()


def test_closing_with_changes_asks_and_cancel_keeps_the_window(qtbot, window):
    _brush(window)
    asked: list[str] = []
    _answer(Button.Cancel, asked)
    assert not window.close() and window.isVisible() and asked
    _answer(Button.Discard, asked)
    assert window.close() and len(asked) == 2


def test_the_alignment_after_opening_is_part_of_opening(qtbot, window):
    window.controller.engine_idle.connect(lambda: None)
    with qtbot.waitSignal(window.controller.alignment_changed, timeout=WAIT_MS):
        window.alignment.aligner.align(part_of_opening=True)
    assert window.controller.alignment is not None and not window.unsaved.modified
    window.controller.undo_stack.undo()  # back to the manual crop: a change of the opened document
    assert window.unsaved.modified
