"""Pivotal tuning in the editor: the tuned copy serves this photo's edits, one click resets, projects keep it."""

from __future__ import annotations

import numpy as np
import torch

from core.device import to_uint8_hwc
from core.generators.tuning import tuned_copy
from core.resources import resources_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _tune(qtbot, window):
    _tune_with(qtbot, window, tune_steps=15)
    return window.controller.adopted


def _render(G, latent):
    with torch.no_grad():
        return to_uint8_hwc(G.synthesize(torch.from_numpy(np.ascontiguousarray(latent[None]))))[0]


def test_the_method_rows_follow_the_chosen_method(window):
    panel = window.inversion_panel
    panel.method.setCurrentText("pivotal")
    assert not panel.pivot.isHidden() and panel.refine.isHidden()
    assert "fine-tunes a copy of the generator" in panel.method_help.text()
    panel.method.setCurrentText("hybrid")
    assert panel.pivot.isHidden() and not panel.refine.isHidden()
    config = panel.config()
    assert config.method == "hybrid" and config.refine == panel.refine.currentText()


def test_edits_use_the_tuned_copy_and_reset_is_one_undoable_click(qtbot, window):
    adopted = _tune(qtbot, window)
    G = window.controller.model("cpu")
    assert adopted.tuning is not None and adopted.tuning.base_model_id == G.model_id
    assert not window.inversion_panel.reset_model.isHidden() and window.reset_model_action.isEnabled()
    tuned = tuned_copy(G, adopted.tuning)
    assert np.array_equal(adopted.image, _render(tuned, adopted.latent))
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    qtbot.waitUntil(lambda: window.edits.last_preview is not None
                    and window.edits.last_preview.edits == {"smile": 2.0}, timeout=WAIT_MS)
    edited = window.edits.moved_latent(adopted.latent, {"smile": 2.0})
    assert np.array_equal(window.edits.last_preview.image, _render(tuned, edited))

    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.reset_model.click()
    reset = window.controller.adopted
    assert reset.tuning is None and window.inversion_panel.reset_model.isHidden()
    assert not window.reset_model_action.isEnabled()  # Run → Reset to Original Model, as the README says
    assert np.array_equal(reset.image, _render(G, adopted.latent))
    assert np.array_equal(reset.latent, adopted.latent)
    stack = window.controller.undo_stack
    assert stack.text(stack.count() - 1) == "Reset to original model"
    stack.undo()
    assert window.controller.adopted.tuning is adopted.tuning


def test_a_project_keeps_the_tuned_generator(qtbot, window, tmp_path):
    adopted = _tune(qtbot, window)
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "tuned.lsproj")
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(resources_dir() / "samples" / "grace_hopper.jpg")
    assert window.inversion_panel.reset_model.isHidden()
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "tuned.lsproj")
    reopened = window.controller.adopted
    assert reopened.tuning is not None and reopened.tuning.digest == adopted.tuning.digest
    assert np.array_equal(reopened.image, adopted.image)
    assert not window.inversion_panel.reset_model.isHidden() and window.reset_model_action.isEnabled()


def test_the_loss_plot_spans_both_phases_and_the_eta_goes_when_tuning_ends_early(qtbot, window):
    """10 pivot steps + up to 400 tuning steps, stopped at a loss target the tuning reaches at once."""
    panel, progress = window.inversion_panel, window.progress_panel
    panel.tune_target.setValue(1.0)  # any reconstruction is below it: tuning ends after its first update
    with qtbot.waitSignal(window.controller.run_state_changed, timeout=WAIT_MS,
                          check_params_cb=lambda running: not running):
        _tune_with(qtbot, window, tune_steps=400)
    x_range = progress.plot.getPlotItem().viewRange()[0]
    assert x_range[1] < 12 + 1  # re-fitted to what the run planned once its tuning stopped early...
    assert [label for _, label in progress.plot.phases()] == ["pivot →", "weight tuning →"]
    assert progress.plot.phases()[1][0] == 10.0  # ...with the tuning phase marked where it began
    text = progress.speed.text()
    assert text.startswith("done") and "ETA" not in text and "ended early" in text, text


def test_a_pivotal_run_s_axis_is_the_whole_run_from_the_start(window):
    progress = window.progress_panel
    window.inversion_panel.method.setCurrentText("pivotal")
    window.inversion_panel.steps.setValue(300)
    window.inversion_panel.tune_steps.setValue(300)
    config = window.inversion_panel.config()
    window._prepare_run(config.steps, config.tune_steps)
    low, high = progress.plot.getPlotItem().viewRange()[0]
    assert low <= 0 and 600 <= high < 640
    assert progress.plot.phases() == [(0.0, "pivot →"), (300.0, "weight tuning →")]


def _tune_with(qtbot, window, tune_steps):
    panel = window.inversion_panel
    panel.method.setCurrentText("pivotal")
    panel.pivot.setCurrentText("direct")
    panel.steps.setValue(10)
    panel.tune_steps.setValue(tune_steps)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        panel.run_button.click()


def test_a_run_that_starts_on_the_coarse_image_marks_where_the_exact_one_takes_over(window):
    progress = window.progress_panel
    window._prepare_run(90, 30, 60)
    assert progress.plot.phases() == [(0.0, "pivot, coarse →"), (60.0, "exact →"), (90.0, "weight tuning →")]
    window._prepare_run(50, 0, 20)
    assert progress.plot.phases() == [(0.0, "coarse image →"), (20.0, "exact image →")]
