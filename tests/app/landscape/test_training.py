"""Run → Train Landscape…: start, live curves, pause keeps a checkpoint, resume finishes, gate verdict shown."""

import json
from dataclasses import replace

from PySide6.QtCore import QSettings

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.theta.mapping import PRECONDITIONED

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _small_training_dialog(qtbot, tmp_path, minutes):
    """The Train Landscape dialog of a new window, set for a seconds-long run into tmp_path/theta."""
    controller = DocumentController()
    controller.gate_faces = 2  # the real gate uses 32 held-out faces; 2 keep the test short
    controller.gate_budgets = (2,)  # and compares at 10 and 100 steps; the verdict is what is tested, not θ
    window = MainWindow(controller, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.landscape_dialog()
    dialog = window._landscape_dialog
    dialog.minutes.setValue(minutes)
    dialog.inner_steps.setValue(2)
    dialog.batch.setValue(2)
    dialog.width_box.setValue(16)
    dialog.output.setText(str(tmp_path / "theta"))
    return controller, dialog


def _with_least_work(dialog, **changes):
    """Runs started from ``dialog`` use its own settings with ``changes`` (LandscapeTrainConfig fields the dialog
    does not show: fewer iterations, curvature draws, validation faces), so a test's work is tiny and its wait
    is on that work, not on a wall-clock budget."""
    own = dialog.config
    dialog.config = lambda: replace(own(), **changes)


def test_train_pause_resume_and_gate(qtbot, tmp_path):
    controller, dialog = _small_training_dialog(qtbot, tmp_path, 0.1)
    dialog.precondition.setChecked(False)  # its curvature costs seconds before the first iteration; not tested here
    _with_least_work(dialog, validation_faces=2)  # a scoring during the run builds baselines for these faces
    paused = []

    def pause_once(records):
        if not paused:
            paused.append(records[-1].iteration)
            dialog.pause_button.click()

    dialog.training.steps_received.connect(pause_once)
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as first:
        dialog.start_button.click()
    assert first.args[0].cancelled and "Paused" in dialog.status.text()
    assert (tmp_path / "theta" / "checkpoint" / "checkpoint.json").exists()
    assert dialog.curves  # the live curves were drawn
    dialog.minutes.setValue(0.02)
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as second:
        dialog.resume_button.click()
    outcome = second.args[0]
    assert not outcome.cancelled and outcome.iterations > paused[0]
    meta = json.loads((tmp_path / "theta" / "theta.json").read_text())
    assert meta["ready"] == outcome.ready and "vs baseline" in dialog.status.text()
    controller.shutdown()


def test_the_preconditioner_box_trains_a_preconditioned_theta(qtbot, tmp_path):
    controller, dialog = _small_training_dialog(qtbot, tmp_path, 0.01)
    assert dialog.precondition.isChecked()  # on by default: the shipped θ's recipe
    _with_least_work(dialog, max_iterations=1, precondition_draws=1, validate_every=0)  # the recipe, not training
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as done:
        dialog.start_button.click()
    assert not done.args[0].cancelled
    meta = json.loads((tmp_path / "theta" / "theta.json").read_text())
    assert {k: meta["mapping"][k] for k in PRECONDITIONED} == PRECONDITIONED
    controller.shutdown()
