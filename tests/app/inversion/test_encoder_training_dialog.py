"""Run → Train Encoder…: a short run saves an encoder the methods then find, Stop keeps a checkpoint and writes no
encoder, Resume continues it, closing while training asks first, and refusals say why.

Real dialogs on the real engine and the embedded model. Runs that are stopped are held after their first
iteration (``held``) until the test has clicked, so where they stop never depends on timing; questions are
answered on the real message boxes the dialog announces (``asking``)."""

import json
import threading

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest

import app.inversion.encoder_training as encoder_training
import core.inversion.encoder as encoder_module
from app.document.controller import DocumentController
from app.engine import JobRequest
from app.inversion.encoder_training import EncoderPlaces
from app.inversion.encoder_training_dialog import EncoderTrainDialog, open_encoder_dialog
from app.landscape.training_questions import KEEP_TRAINING, STOP_AND_CLOSE
from app.main_window import MainWindow
from core.inversion.encoder import find_encoder
from core.inversion.encoder_training import EncoderTrainConfig
from core.resources import trained_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _dialog(qtbot, tmp_path, out=None):
    """The Train Encoder dialog of a new window, once it knows the model, set for a 3-iteration run of 2 faces."""
    controller = DocumentController()
    window = MainWindow(controller, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    names = [a.text().replace("&", "") for a in window.all_actions()]
    assert names[names.index("Train Landscape…") + 1] == "Train Encoder…"  # Run → Train Encoder…, beside θ's
    window.all_actions()[names.index("Train Encoder…")].trigger()
    dialog = window.findChild(EncoderTrainDialog)
    assert dialog.isVisible() and open_encoder_dialog(window) is dialog  # one instance per window
    qtbot.waitUntil(lambda: dialog.places is not None, timeout=WAIT_MS)
    dialog.iterations.setValue(3)
    dialog.batch.setValue(2)
    dialog.width_box.setValue(8)
    dialog.validate_every.setValue(2)
    if out is not None:
        dialog.output.setText(str(out))
    return controller, window, dialog


@pytest.fixture
def held(monkeypatch):
    """Runs started by the dialog pause after their first iteration until ``held.set()`` (the next run does not)."""
    release, real, calls = threading.Event(), encoder_training.run_encoder_training, []

    def run(*args, **kwargs):
        job = real(*args, **kwargs)
        calls.append(1)
        if len(calls) > 1:
            return (yield from job)
        yield next(job)
        assert release.wait(120)
        return (yield from job)

    monkeypatch.setattr(encoder_training, "run_encoder_training", run)
    yield release
    release.set()  # a failed test never leaves the engine thread waiting


def _answering(dialog, *answers):
    """The boxes ``dialog`` asks, in order, each answered with the button of that text once it is open."""
    asked = []

    def answer(box):
        text = answers[len(asked)]
        asked.append(box)
        QTimer.singleShot(0, next(b for b in box.buttons() if b.text() == text).click)

    dialog.asking.connect(answer)
    return asked


def test_a_run_saves_an_encoder_that_encoder_and_hybrid_then_use(qtbot, tmp_path, monkeypatch, G):
    none = tmp_path / "ships-none"  # as for the FFHQ model: no shipped encoder, so the trained one is read
    monkeypatch.setattr(encoder_training, "shipped_encoder_folder", lambda name: none / name)
    monkeypatch.setattr(encoder_module, "shipped_encoder_folder", lambda name: none / name)
    controller, window, dialog = _dialog(qtbot, tmp_path)
    out = trained_dir(G.base_model_id, "encoder")
    assert dialog.output.text() == str(out)  # the folder find_encoder reads for this model
    assert dialog.in_use.text().startswith("No encoder yet: encoder and hybrid fall back to the direct method")
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as done:
        dialog.start_button.click()
        assert dialog.training.running and not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    outcome = done.args[0]
    meta = json.loads((out / "encoder.json").read_text())
    assert not outcome.cancelled and outcome.meta == meta and meta["iterations"] == 3
    assert meta["selected_iteration"] in (2, 3) and meta["validation_psnr"] is not None
    status = dialog.status.text()
    assert f"held-out PSNR {meta['held_out_psnr']:.2f} dB" in status and f"Saved in {out}." in status
    assert status.endswith("Encoder and hybrid now use it.") and "Encoder saved in" in window.status.text()
    assert dialog.in_use.text() == f"Encoder and hybrid use the encoder trained here in {out}."
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert dialog.batch_curve.getData()[0] is not None and len(dialog.validation_curve.getData()[0]) == 2
    encoder, found = find_encoder(G)  # what the encoder and hybrid methods load on their next run
    assert found["held_out_psnr"] == meta["held_out_psnr"] and encoder.config.width == 8
    controller.shutdown()


def test_stop_keeps_the_checkpoint_and_resume_continues_it(qtbot, tmp_path, held):
    out = tmp_path / "encoder"
    controller, _window, dialog = _dialog(qtbot, tmp_path, out)
    assert dialog.in_use.text().startswith("Encoder and hybrid use the shipped encoder; it stays in use")

    def stop_once(_records):
        if not held.is_set():
            dialog.stop_button.click()
            held.set()

    dialog.training.steps_received.connect(stop_once)
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as first:
        dialog.start_button.click()
    stopped = first.args[0]
    assert stopped.cancelled and stopped.iterations == 1
    assert (out / "checkpoint" / "checkpoint.json").is_file() and not (out / "encoder.json").exists()
    assert "Training stopped after 1 iterations" in dialog.status.text()
    assert "Resume continues from it" in dialog.status.text() and dialog.resume_button.isEnabled()
    dialog.iterations.setValue(50)  # a resumed run keeps its own settings; the dialog shows them
    iterations = []
    dialog.training.steps_received.connect(lambda records: iterations.extend(r.iteration for r in records))
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as second:
        dialog.resume_button.click()
    assert dialog.iterations.value() == 3 and iterations == [2, 3]  # on from the checkpoint's iteration
    meta = json.loads((out / "encoder.json").read_text())
    assert not second.args[0].cancelled and meta["iterations"] == 3
    assert "Encoder and hybrid keep the shipped encoder; pass this one with --encoder" in dialog.status.text()
    controller.shutdown()


def test_closing_while_training_asks_and_keep_training_goes_on(qtbot, tmp_path, held):
    controller, _window, dialog = _dialog(qtbot, tmp_path, tmp_path / "encoder")
    asked = _answering(dialog, KEEP_TRAINING, STOP_AND_CLOSE)
    with qtbot.waitSignal(dialog.training.steps_received, timeout=WAIT_MS):
        dialog.start_button.click()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)  # the question opens and is answered before this returns
    assert [box.windowTitle() for box in asked] == ["Stop training?"]
    assert "encoder is still training" in asked[0].text()
    assert dialog.isVisible() and dialog.training.running
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as done:
        dialog.close()  # the window's close button: asked again, now "Stop and close"
        held.set()
    assert len(asked) == 2 and not dialog.isVisible()
    assert done.args[0].cancelled and not (tmp_path / "encoder" / "encoder.json").exists()
    controller.shutdown()


def test_refusals_say_why_and_start_nothing(qtbot, tmp_path):
    controller, _window, dialog = _dialog(qtbot, tmp_path, tmp_path / "encoder")
    dialog.resume_button.click()
    assert dialog.status.text().startswith("No checkpoint to resume in") and not dialog.training.running
    (tmp_path / "a-file").write_text("")
    dialog.output.setText(str(tmp_path / "a-file" / "encoder"))
    dialog.start_button.click()
    assert dialog.status.text().startswith(f"Cannot write to {tmp_path / 'a-file' / 'encoder'}")
    assert not dialog.training.running and dialog.start_button.isEnabled()
    dialog.output.setText(str(tmp_path / "encoder"))
    release = threading.Event()
    controller.register_job("hold", lambda _value: None)

    def hold():
        release.wait(120)
        return None
        yield

    assert controller.submit(JobRequest("hold", hold))  # another long job runs
    try:
        dialog.start_button.click()
        assert "Cannot start while another long job runs (“hold”)" in dialog.status.text()
        assert not dialog.training.running and dialog.start_button.isEnabled()
    finally:
        with qtbot.waitSignal(controller.engine_idle, timeout=WAIT_MS):
            release.set()
    controller.shutdown()


def test_the_line_says_what_encoder_and_hybrid_use(tmp_path):
    places = EncoderPlaces(tmp_path / "shipped", tmp_path / "trained")
    assert places.in_use() == "No encoder yet: encoder and hybrid fall back to the direct method."
    assert places.verdict(tmp_path / "trained") == "Encoder and hybrid now use it."
    assert places.verdict(tmp_path / "elsewhere").startswith(f"Encoder and hybrid read {tmp_path / 'trained'}")
    (tmp_path / "trained").mkdir()
    (tmp_path / "trained" / "encoder.json").write_text("{}")
    assert places.in_use() == f"Encoder and hybrid use the encoder trained here in {tmp_path / 'trained'}."
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "encoder.json").write_text("{}")
    assert places.in_use().startswith("Encoder and hybrid use the shipped encoder; it stays in use")
    assert "--encoder" in places.verdict(tmp_path / "trained")


def test_an_invalid_setting_is_refused_with_the_reason(qtbot, tmp_path):
    controller, _window, dialog = _dialog(qtbot, tmp_path, tmp_path / "encoder")
    dialog.config = lambda: EncoderTrainConfig(batch=0)  # out of range (the boxes themselves do not allow it)
    dialog.start_button.click()
    assert "'batch' is out of range" in dialog.status.text() and not dialog.training.running
    controller.shutdown()
