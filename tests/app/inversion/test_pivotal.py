"""Pivotal tuning in the editor: the tuned copy serves this photo's edits, one click resets, projects keep it."""

from __future__ import annotations

import numpy as np
import torch

from core.device import to_uint8_hwc
from core.generators.tuning import tuned_copy
from core.resources import resources_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _tune(qtbot, window):
    panel = window.inversion_panel
    panel.method.setCurrentText("pivotal")
    panel.pivot.setCurrentText("direct")
    panel.steps.setValue(10)
    panel.tune_steps.setValue(15)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
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
    assert not window.inversion_panel.reset_model.isHidden()
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
    assert not window.inversion_panel.reset_model.isHidden()
