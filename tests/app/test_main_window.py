"""The editor end to end, offscreen: real engine thread, real model, real mouse events."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.imageio import load_photo
from core.resources import resources_dir
from tests.app.canvas_pixels import shown_after
from tests.app.events import drag

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def run(qtbot, win, steps=20, starts=1):
    win.inversion_panel.steps.setValue(steps)
    win.inversion_panel.starts.setValue(starts)
    win.inversion_panel.lpips.setValue(0.0)
    batches = []
    win.inversion.steps_received.connect(batches.append)
    with qtbot.waitSignal(win.controller.result_applied, timeout=WAIT_MS):
        win.inversion_panel.run_button.click()
    return [r for batch in batches for r in batch]


def test_open_shows_the_photo_and_its_face_crop(window):
    assert window.canvas.photo_size() == (512, 512)
    assert window.canvas.crop().to_dict() == {"x": 162, "y": 42, "size": 126}
    assert "astronaut.png" in window.windowTitle()


def test_a_finished_run_says_how_like_the_photo_it_is(window, qtbot):
    window.inversion_panel.method.setCurrentText("direct")
    run(qtbot, window, steps=5)
    message = window.status.text()
    assert message.startswith("Done: 5 steps in ") and " dB · LPIPS 0." in message, message
    assert "identity 0." in message or "identity 1." in message, message


def test_a_brush_stroke_is_one_undoable_command(window):
    window.canvas.set_tool("brush")
    drag(window.canvas, [(60, 400), (120, 420), (180, 440)])
    stack = window.controller.undo_stack
    assert stack.count() == 1 and stack.text(0) == "Brush stroke"
    painted = window.canvas.mask().copy()
    assert painted[420, 120] > 0 and painted.sum() > 0
    stack.undo()
    assert window.canvas.mask().sum() == 0
    stack.redo()
    assert np.array_equal(window.canvas.mask(), painted)


def test_run_shows_live_previews_and_adopts_the_result(window, qtbot):
    records = run(qtbot, window, steps=20)
    assert [r.step for r in records] == list(range(21))
    previews = [r.preview for r in records if r.preview is not None]
    assert len(previews) >= 3 and not np.array_equal(previews[0], previews[-1])
    assert window.controller.adopted is not None and window.controller.adopted.result.steps_done == 20
    assert window.controller.undo_stack.text(window.controller.undo_stack.count() - 1) == "Adopt direct inversion"
    assert window.progress_panel.thumbnails.count() >= 3
    assert window.inversion_panel.run_button.text() == "Run"
    window.controller.undo_stack.undo()
    assert window.controller.adopted is None


def test_stop_mid_run_keeps_the_best_so_far(window, qtbot):
    window.inversion_panel.steps.setValue(100_000)
    window.inversion_panel.lpips.setValue(0.0)
    stopped = []

    def stop_once(records):
        if not stopped and records[-1].step >= 3:
            stopped.append(records[-1].step)
            window.inversion_panel.run_button.click()  # the button reads "Stop" while running

    window.inversion.steps_received.connect(stop_once)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    result = window.controller.adopted.result
    assert result.cancelled and result.steps_done < 100 and not window.controller.running


def test_the_gui_thread_handles_events_while_a_run_computes(window, qtbot):
    """The run computes on the engine thread: a timer fires mid-run and its click stops the run. How short the
    GUI's stalls are is a figure of ``python -m bench gui``, not of a test."""
    seen, scheduled = [], []

    def tick() -> None:
        seen.append(window.controller.running)
        window.inversion_panel.run_button.click()  # reads "Stop" while running

    def schedule(_records) -> None:
        if not scheduled:
            scheduled.append(True)
            QTimer.singleShot(0, tick)

    window.inversion_panel.steps.setValue(100_000)  # far longer than any machine needs for the timer to fire
    window.inversion_panel.lpips.setValue(0.0)
    window.inversion.steps_received.connect(schedule)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    assert seen == [True] and window.controller.adopted.result.cancelled


def _export(qtbot, window, out):
    with qtbot.waitSignal(window.controller.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        window.controller.export(out)
    return load_photo(out).pixels


def test_an_unedited_result_exports_the_photo_unchanged_and_replace_is_one_undoable_choice(window, qtbot, tmp_path):
    c, original = window.controller, load_photo(SAMPLE).pixels
    run(qtbot, window, steps=5)
    assert c.composite == "detail" and window.composite_action.isChecked()
    assert _export(qtbot, window, tmp_path / "detail.png").tobytes() == original.tobytes()
    with qtbot.waitSignal(c.composite_changed, timeout=WAIT_MS):
        window.composite_action.trigger()  # Edit → Keep Photo Detail off: the model's face is pasted
    assert c.composite == "replace" and not window.composite_action.isChecked()
    assert c.undo_stack.undoText() == "Replace with the model's face"
    exported = _export(qtbot, window, tmp_path / "replaced.png")
    assert exported.shape == original.shape
    assert np.array_equal(exported[300:], original[300:])  # below the crop: untouched
    assert not np.array_equal(exported[60:150, 180:270], original[60:150, 180:270])  # the face: replaced
    assert np.array_equal(shown_after(window.canvas), c.adopted.display)
    c.undo_stack.undo()
    assert c.composite == "detail" and window.composite_action.isChecked()
    assert np.array_equal(shown_after(window.canvas), original)  # the canvas shows the photo as it was


def test_jpeg_export_keeps_exif(qtbot, tmp_path, window):
    photo = tmp_path / "mine.jpg"
    exif = Image.Exif()
    exif[0x013B] = "An Artist"
    Image.open(SAMPLE).convert("RGB").save(photo, exif=exif)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(photo)
    out = tmp_path / "mine_edited.jpg"
    with qtbot.waitSignal(window.controller.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        window.controller.export(out, quality=90)
    assert Image.open(out).getexif()[0x013B] == "An Artist"


def test_a_crop_drag_is_undoable(window):
    window.canvas.set_tool("crop")
    before = window.canvas.crop()
    centre = (before.x + before.size / 2, before.y + before.size / 2)
    drag(window.canvas, [centre, (centre[0] + 30, centre[1] + 20), (centre[0] + 60, centre[1] + 40)])
    moved = window.canvas.crop()
    assert moved != before and window.controller.crop == moved
    window.controller.undo_stack.undo()
    assert window.canvas.crop() == before and window.controller.crop == before


def test_a_bad_file_is_a_message_not_a_crash(window, qtbot, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as blocker:
        window.open_path(bad)
    assert "not an image" in blocker.args[0].lower() or "recognise" in blocker.args[0].lower()
    assert window.canvas.photo_size() == (512, 512)  # the open photo is kept


def test_dropping_a_photo_opens_it(window, qtbot, tmp_path):
    other = tmp_path / "other.png"
    Image.new("RGB", (300, 200), "gray").save(other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.dropEvent(event)
    assert window.canvas.photo_size() == (300, 200)


def test_closing_during_a_run_asks_first(window, qtbot, monkeypatch):
    window.inversion_panel.steps.setValue(100_000)
    with qtbot.waitSignal(window.inversion.steps_received, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    monkeypatch.setattr(window, "confirm_quit_during_run", lambda: False)
    window.close()
    assert window.isVisible() and window.controller.running
    monkeypatch.setattr(window, "confirm_quit_during_run", lambda: True)
    window.close()
    assert not window.isVisible()


def test_settings_and_recent_files_persist(window, tmp_path):
    window.inversion_panel.steps.setValue(123)
    window.close()
    settings = window.settings
    again = MainWindow(DocumentController(), settings)
    assert again.inversion_panel.steps.value() == 123
    assert str(SAMPLE) in settings.value("recent", [], list)
    assert again.recent_menu.actions()[0].text() == "astronaut.png"
    again.controller.shutdown()


def test_shortcut_sheet_lists_standard_keys(window):
    from app.dialogs import ShortcutsDialog

    sheet = ShortcutsDialog(window.all_actions(), [])
    names = {sheet.table.item(i, 0).text() for i in range(sheet.table.rowCount())}
    assert {"Open…", "Export…", "Undo", "Run Inversion"} <= names


def test_no_display_points_to_the_cli(monkeypatch, capsys):
    import app.__main__ as entry

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert entry.main([]) == 2
    assert "landscape-studio invert PHOTO --out DIR" in capsys.readouterr().err
    assert entry.main(["info", "--json"]) == 0


def test_opening_another_photo_clears_the_last_runs_progress(qtbot, window):
    run(qtbot, window, steps=3)
    panel = window.progress_panel
    assert not panel.target.pixmap().isNull() and panel.speed.text().startswith("done · 3 steps in ")
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(resources_dir() / "samples" / "grace_hopper.jpg")
    assert panel.target.pixmap().isNull() and panel.current.pixmap().isNull() and panel.speed.text() == "–"
    assert panel.thumbnails.count() == 0
