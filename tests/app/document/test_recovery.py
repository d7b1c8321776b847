"""Autosave and crash recovery, for real: an editor process is killed (SIGKILL) after an edit, and a fresh window
on the same user data folder offers its work back and recovers the same pixels, mask, crop and edits, unsaved.
Also: autosaves happen only with unsaved changes and before runs, a save or a clean exit removes the file,
Later keeps it, Discard deletes it, and a damaged recovery file is moved aside with a message."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.sessions import recovery
from tests.app.conftest import SAMPLE, discard

ROOT = Path(__file__).resolve().parents[3]
WAIT_MS = 600_000  # only ends a hang


def fresh_window(qtbot, tmp_path: Path) -> MainWindow:
    """A new editor, as at start-up: nothing opened yet."""
    settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    settings.setValue("prefs/align_on_open", False)
    win = MainWindow(DocumentController(), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.unsaved.asking.connect(discard)
    return win


def answer(win: MainWindow, choice: str, seen: list[str]) -> None:
    """Answer the recovery question with ``choice``, on the real dialog once it is open."""
    def click(box: QMessageBox) -> None:
        seen.append(f"{box.text()} {box.informativeText()}")
        button = next(b for b in box.buttons() if b.text() == choice)
        QTimer.singleShot(0, button.click)

    win.recovery.asking.connect(click)


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def leave_behind(window: MainWindow, qtbot) -> recovery.Recovery:
    """The open document autosaved, its files then made to look left by an editor that died."""
    c = window.controller
    stroke = np.zeros_like(c.mask)
    stroke[10:50, 10:90] = 255
    c.replace_mask(stroke, "Brush stroke")
    future = window.autosave.save()
    assert future is not None and future.result() > 0
    pid = dead_pid()
    project, info = recovery.own_paths()
    dead_project, dead_info = recovery.own_paths(pid)
    os.replace(project, dead_project)
    data = json.loads(info.read_text())
    dead_info.write_text(json.dumps(data | {"pid": pid}))
    info.unlink()
    c.undo_stack.setClean()
    found, problems = recovery.orphans()
    assert not problems and [r.pid for r in found] == [pid]
    return found[0]


def visible_box() -> QMessageBox | None:
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    return boxes[0] if boxes else None


def test_a_killed_editor_s_work_is_recovered_with_the_same_pixels(qtbot, tmp_path, user_data):
    out = tmp_path / "crashed"
    out.mkdir()
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "LANDSCAPE_STUDIO_DATA": str(user_data)}
    done = subprocess.run([sys.executable, "-m", "tests.app.document.crash_session", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=WAIT_MS / 1000)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    expected = np.load(out / "expected.npz")
    facts = json.loads((out / "expected.json").read_text())
    assert facts["timings"]["before_run_s"] > 0 and facts["timings"]["edited_s"] > 0  # the autosave before the run
    assert recovery.own_paths(facts["pid"])[0].is_file()  # the kill left the recovery file

    win = fresh_window(qtbot, tmp_path)
    seen: list[str] = []
    answer(win, "Recover", seen)
    with qtbot.waitSignal(win.recovery.recovered, timeout=WAIT_MS):
        assert win.recovery.offer(lambda: pytest.fail("the recovery file was not offered"))
    assert len(seen) == 1 and "astronaut.png" in seen[0]
    c = win.controller
    qtbot.waitUntil(lambda: not c.engine.busy, timeout=WAIT_MS)
    composite = c.composite_photo()
    assert composite is not None and c.adopted is not None
    assert np.array_equal(composite(), expected["composite"])  # the same pixels as before the kill
    assert np.array_equal(c.mask, expected["mask"])
    assert np.array_equal(c.adopted.image, expected["image"])
    assert np.array_equal(c.adopted.latent, expected["latent"])
    assert win.edits.edits == facts["edits"] and c.crop is not None and c.crop.to_dict() == facts["crop"]
    assert win.edits.last_preview is not None and win.edits.last_preview.edits == facts["edits"]
    assert win.unsaved.modified and win.isWindowModified()  # recovered work is not saved yet
    assert win.windowTitle() == facts["title"]
    assert win.projects.path is None
    # the file is this editor's now: kept while the work is unsaved, removed by a clean exit
    assert not recovery.own_paths(facts["pid"])[0].exists() and recovery.own_paths()[0].is_file()
    win.close()
    assert not recovery.own_paths()[0].exists() and not recovery.own_paths()[1].exists()
    assert recovery.orphans() == ([], [])


def test_autosave_only_with_unsaved_changes_and_removed_by_a_save(window, qtbot, tmp_path):
    assert window.autosave.timer.interval() == 3 * 60_000 and window.autosave.timer.isActive()
    assert window.autosave.save() is None  # nothing changed: nothing to recover
    project, _ = recovery.own_paths()
    c = window.controller
    c.replace_mask(np.full_like(c.mask, 255), "Brush stroke")
    future = window.autosave.save()
    assert future is not None and future.result() > 0 and project.is_file()
    assert window.autosave.save() is None  # the recovery file holds this already
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        assert window.projects.save(tmp_path / "saved.lsproj")
    qtbot.waitUntil(lambda: not project.exists(), timeout=WAIT_MS)  # saved: nothing left to recover
    c.undo_stack.undo()
    assert window.autosave.save() is not None  # unsaved again (back before the save)


def test_a_photo_changed_on_disk_since_it_was_opened_is_recovered_as_it_was_open(window, qtbot, tmp_path):
    photo = tmp_path / "portrait.png"
    shutil.copyfile(SAMPLE, photo)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(photo)
    qtbot.waitUntil(lambda: not window.controller.engine.busy, timeout=WAIT_MS)
    shown = window.controller.opened
    assert shown is not None
    Image.new("RGB", (64, 64), "red").save(photo)  # replaced meanwhile: the autosave embeds the pixels instead
    left = leave_behind(window, qtbot)
    answer(window, "Recover", [])
    with qtbot.waitSignal(window.recovery.recovered, timeout=WAIT_MS):
        assert window.recovery.offer(lambda: pytest.fail("nothing offered"))
    assert left.title == "portrait.png" and window.controller.opened is not None
    assert np.array_equal(window.controller.opened.photo.pixels, shown.photo.pixels)
    assert window.unsaved.modified


def test_the_interval_comes_from_the_preferences(window):
    window.prefs.set(95, 0.08, autosave_minutes=0.5)
    window._apply_preferences()
    assert window.autosave.timer.interval() == 30_000
    window.settings.setValue("prefs/autosave_minutes", "soon")
    assert window.prefs.autosave_minutes == 3.0


def test_later_keeps_the_file_and_discard_deletes_it(window, qtbot, tmp_path):
    left = leave_behind(window, qtbot)
    seen: list[str] = []
    answer(window, "Later", seen)
    opened: list[bool] = []
    assert not window.recovery.offer(lambda: opened.append(True))
    assert seen and opened == [True] and left.project.is_file() and left.info.is_file()
    window.recovery.asking.disconnect()
    answer(window, "Discard", seen)
    assert not window.recovery.offer(lambda: opened.append(True))
    assert opened == [True, True] and not left.project.exists() and not left.info.exists()


def test_a_damaged_recovery_file_is_moved_aside_with_a_message(window, qtbot, tmp_path):
    left = leave_behind(window, qtbot)
    left.project.write_bytes(left.project.read_bytes()[:300])  # the disk lost the end of it
    before = (window.controller.opened, window.controller.mask.copy())
    answer(window, "Recover", [])
    went_on: list[bool] = []
    assert window.recovery.offer(lambda: went_on.append(True))
    qtbot.waitUntil(lambda: visible_box() is not None, timeout=WAIT_MS)
    box = visible_box()
    assert box is not None and "could not be recovered" in box.text() and "damaged" in box.text()
    box.close()
    qtbot.waitUntil(lambda: went_on == [True], timeout=WAIT_MS)  # the editor goes on (the start photo opens)
    assert not left.project.exists() and not left.info.exists()
    assert len(list((recovery.folder() / recovery.DAMAGED).iterdir())) == 2
    assert window.controller.opened is before[0] and np.array_equal(window.controller.mask, before[1])
    assert recovery.orphans() == ([], [])


def test_an_unreadable_description_is_moved_aside_and_the_editor_starts(window, qtbot):
    folder = recovery.folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "session-12345.json").write_bytes(b'{"pid": 12345, "saved": ')
    (folder / "session-12345.lsproj").write_bytes(b"PK")
    went_on: list[bool] = []
    assert not window.recovery.offer(lambda: went_on.append(True))
    assert went_on == [True]
    box = visible_box()
    assert box is not None and "moved to" in box.text()
    box.close()
    assert sorted(p.suffix for p in (folder / recovery.DAMAGED).iterdir()) == [".json", ".lsproj"]
    assert recovery.orphans() == ([], [])


def test_changes_after_the_autosave_thread_stopped_are_ignored(window, qtbot):
    """While Python exits, the thread pool stops before Qt's last signals: an edit or a save then must not raise."""
    c = window.controller
    c.replace_mask(np.full_like(c.mask, 255), "Brush stroke")
    window.autosave._worker.shutdown(wait=True)  # what the interpreter's exit does to the pool
    assert window.autosave.save() is None
    c.undo_stack.setClean()  # the clean signal removes the recovery file: nothing to run it on now
    assert window.autosave.save() is None
