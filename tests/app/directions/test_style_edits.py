"""Directions → Style in the real window: truncation becomes a slider of its own, live, undoable and saved with
the project; style mixing on a model without per-layer codes says why it cannot."""

from __future__ import annotations

import numpy as np

from core.directions import seed_mix
from tests.app.directions.test_directions import WAIT_MS, invert


def test_truncation_is_a_slider_that_undo_and_projects_keep(window, qtbot, tmp_path):
    invert(qtbot, window)
    before = window.controller.adopted.latent.copy()
    menu = window.directions_panel.style_button.menu()
    truncation = next(a for a in menu.actions() if a.text() == "Truncation")
    with qtbot.waitSignal(window.edits.edits_applied, timeout=WAIT_MS):
        truncation.trigger()
    slider = window.directions_panel.sliders["truncation"]
    assert slider.value() == 0.3 and (slider.slider.minimum(), slider.slider.maximum()) != (0, 0)
    assert window.edits.edits == {"truncation": 0.3}
    with qtbot.waitSignal(window.edits.preview_ready, timeout=WAIT_MS):
        pass
    edit = window.controller.edits[0]
    assert edit.method == "truncation" and np.allclose(edit.vector, 0.0)  # the DCGAN's average code: z = 0
    window.controller.undo_stack.undo()
    assert window.edits.edits == {} and np.array_equal(window.controller.adopted.latent, before)
    window.controller.undo_stack.redo()
    assert window.edits.edits == {"truncation": 0.3}
    project = tmp_path / "styled.lsproj"
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(project, False)
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.projects.open(project)
    assert window.edits.edits == {"truncation": 0.3}
    assert window.edits.direction("truncation").value_range == (0.0, 1.0)


def test_mixing_needs_per_layer_codes(window, qtbot):
    invert(qtbot, window)
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as raised:
        window.directions.style.make(lambda G: seed_mix(G, 3, "coarse"))
    assert "StyleGAN-family" in raised.args[0]
    assert "mix seed 3 (coarse)" not in window.directions_panel.sliders


def test_discover_from_the_attribute_classifiers(window, qtbot):
    window.directions.open_discover()
    dialog = window.directions.discover_dialog
    dialog.method.setCurrentIndex(dialog.method.findData("attributes"))
    with qtbot.waitSignal(window.directions.maker.components_ready, timeout=WAIT_MS) as ready:
        dialog.compute.click()
    found, _strips, notes = ready.args[0]
    assert [d.name for d in found] == ["age (classifier)", "gender (classifier)", "smile (landmarks)"]
    assert "+2 on 32 held-out faces: age +" in notes[0] and "dlib's classifiers" in notes[1]
    assert "mouth width +" in notes[2] and "face mesh" in notes[2]
    for tick, _field in dialog.rows:
        tick.setChecked(True)
    dialog.add.click()
    assert {"age (classifier)", "gender (classifier)", "smile (landmarks)"} <= set(window.directions_panel.sliders)
    assert window.edits.library.get("age (classifier)").method == "classifier"
    dialog.close()


def test_a_stylegan_mixes_in_another_photos_styles(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from core.resources import resources_dir
    from tests.app.models.test_models import load, run_inversion
    from tests.app.models.tiny_stylegan2 import write_tiny_stylegan2

    load(qtbot, window, write_tiny_stylegan2(tmp_path / "tiny.pt"))
    run_inversion(qtbot, window, "w", steps=2)
    other = resources_dir() / "samples" / "grace_hopper.jpg"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))  # the OS pickers
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("middle", True))
    with qtbot.waitSignal(window.edits.edits_applied, timeout=WAIT_MS):
        assert window.directions.style.request("photo")
    name = "mix grace_hopper.jpg (middle)"
    assert window.edits.edits == {name: 1.0} and name in window.directions_panel.sliders
    edit = window.controller.edits[0]
    assert edit.method == "style-mix" and edit.layers is not None and edit.layers[0] > 0
    window.controller.undo_stack.undo()
    assert window.edits.edits == {}
