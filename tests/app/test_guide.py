"""A newcomer is told what to do: the status-bar hint follows the document, a first-run note shows once, the
editor starts on the method measured best for real photos, and the Split divider starts on the face."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from app.document.controller import DocumentController
from app.guide import HINTS
from app.inversion.panel import EDITOR_DEFAULTS
from app.main_window import MainWindow
from core.imageio import CropBox
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000


def _fresh_window(qtbot, settings):
    win = MainWindow(DocumentController(), settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_a_first_start_shows_the_note_once_and_says_what_to_do(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = _fresh_window(qtbot, settings)
    try:
        assert win.guide.note is not None and win.guide.note.isVisible() and "Run" in win.guide.note.text()
        assert win.hint.text() == HINTS["empty"]
        assert win.inversion_panel.config().method == EDITOR_DEFAULTS.method == "pivotal"
        with qtbot.waitSignal(win.controller.photo_opened, timeout=WAIT_MS):
            win.open_path(SAMPLE)
        assert win.hint.text() == HINTS["photo"] and "Run (Ctrl+Return)" in win.hint.text()
        qtbot.mouseClick(win.guide.note, Qt.MouseButton.LeftButton)
        assert not win.guide.note.isVisible()
    finally:
        win.controller.shutdown()
    again = _fresh_window(qtbot, settings)
    try:
        assert again.guide.note is None  # seen once: not again
    finally:
        again.controller.shutdown()


def test_the_hint_follows_the_run_and_the_result(qtbot, window):
    window.inversion_panel.steps.setValue(5)
    window.inversion_panel.lpips.setValue(0.0)
    texts = []
    window.controller.run_state_changed.connect(lambda running: texts.append(window.hint.text()))
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    qtbot.waitUntil(lambda: window.hint.text() == HINTS["result_detail"], timeout=WAIT_MS)
    assert HINTS["running"] in texts
    with qtbot.waitSignal(window.controller.composite_changed, timeout=WAIT_MS):
        window.composite_action.trigger()  # the model's face pasted: the hint no longer says the photo is kept
    assert window.hint.text() == HINTS["result"]
    window.controller.undo_stack.undo()
    window.controller.undo_stack.undo()
    assert window.hint.text() == HINTS["photo"]


def test_the_split_divider_starts_on_the_face(window):
    c, canvas = window.controller, window.canvas
    crop = c.crop
    assert abs(canvas.split() - (crop.x + crop.size / 2) / 512) <= 0.01
    canvas.set_crop(CropBox(20, 30, 100))
    canvas.crop_changed.emit(crop, CropBox(20, 30, 100))  # what the canvas says when a drag of the square ends
    assert abs(canvas.split() - 70 / 512) <= 0.01
    canvas.set_compare("split")
    assert window.toolbar.split_slider.value() == round(100 * 70 / 512)
