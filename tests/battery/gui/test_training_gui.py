"""The real Train Landscape dialog: it writes into the user data folder by default, and Resume on a damaged
checkpoint shows one message (naming the folder and how to go on), leaves the checkpoint as it was and keeps the
window and the θ in use."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.generators import load_generator
from core.jobs import run_job
from core.landscape.learning import LandscapeTrainConfig, MappingConfig, save_checkpoint, train_landscape
from tests.battery.conftest import digest

WAIT_MS = 120_000  # only ends a hang: the wait ends on the message box itself
SMALL = LandscapeTrainConfig(mapping=MappingConfig(width=16), inner_steps=2, batch=2, max_iterations=1)


def _window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(DocumentController(), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    window.landscape_dialog()
    return window


def test_a_new_run_writes_into_the_user_data_folder(qtbot, tmp_path, user_data):
    dialog = _window(qtbot, tmp_path)._landscape_dialog
    assert dialog.output.text() == str(user_data / "landscape" / "theta")


def test_resume_on_a_damaged_checkpoint_is_one_message(qtbot, tmp_path):
    out = tmp_path / "theta"
    save_checkpoint(run_job(train_landscape(load_generator("default", "cpu"), SMALL)), SMALL, out / "checkpoint")
    data = (out / "checkpoint" / "checkpoint.safetensors").read_bytes()
    (out / "checkpoint" / "checkpoint.safetensors").write_bytes(data[: len(data) // 2])
    before = digest([out])
    window = _window(qtbot, tmp_path)
    dialog = window._landscape_dialog
    qtbot.waitUntil(lambda: dialog.training.model is not None, timeout=WAIT_MS)  # the θ in use is known once described
    in_use = dialog.training.in_use
    dialog.output.setText(str(out))
    dialog.resume_button.click()

    def message() -> QMessageBox | None:
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        return boxes[0] if boxes else None

    qtbot.waitUntil(lambda: message() is not None, timeout=WAIT_MS)
    text = message().text()
    assert str(out / "checkpoint") in text and "afresh" in text and "Traceback" not in text
    message().accept()
    qtbot.waitUntil(lambda: "Training failed" in dialog.status.text(), timeout=WAIT_MS)
    assert window.isVisible() and dialog.training.in_use == in_use
    assert digest([out]) == before and sorted(p.name for p in out.iterdir()) == ["checkpoint"]
    shutil.rmtree(out)
