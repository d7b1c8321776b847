"""Holding \\ shows the photo before the edit wherever the focus is in the window, except in a text field."""

import numpy as np
from PySide6.QtCore import QEvent, Qt

from tests.app.events import key


def test_backslash_shows_before_from_the_panel_too_but_not_in_a_text_field(window):
    canvas = window.canvas
    canvas.set_result(np.zeros((512, 512, 3), np.uint8))
    result = canvas._result_item
    button = window.inversion_panel.run_button  # after Ctrl+Return the panel has the focus, not the canvas
    button.setFocus()
    key(button, QEvent.Type.KeyPress, Qt.Key.Key_Backslash, "\\")
    assert not result.isVisible()
    key(button, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash, "\\", auto_repeat=True)  # auto-repeat: still held
    assert not result.isVisible()
    key(button, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash, "\\")
    assert result.isVisible()
    steps = window.inversion_panel.steps  # a text field keeps the key
    steps.setFocus()
    key(steps, QEvent.Type.KeyPress, Qt.Key.Key_Backslash, "\\")
    assert result.isVisible()
    key(steps, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash, "\\")


def test_the_shortcut_sheet_lists_each_action_once_and_the_gallery_keys(window):
    window.shortcuts_dialog()
    from PySide6.QtWidgets import QApplication, QTableWidget

    dialog = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Keyboard shortcuts")
    table = dialog.findChild(QTableWidget)
    names = [table.item(row, 0).text() for row in range(table.rowCount())]
    assert names.count("Align Face") == 1 and any("candidates" in n for n in names)
    dialog.close()
