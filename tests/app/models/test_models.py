"""Bring your own StyleGAN2: loading a model file through the File menu, drag & drop and recent models; the
model's info, its latent spaces in the Inversion panel, an inversion in w; a broken file keeps the old model."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.directions import Direction
from tests.app.models.tiny_stylegan2 import write_tiny_stylegan2

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_stylegan2(tmp_path_factory.mktemp("models") / "tiny.pt")


def action(win, text):
    found = [a for a in win.all_actions() if a.text().replace("&", "") == text]
    assert found, f"no action {text!r}"
    return found[0]


def load(qtbot, win, path):
    with qtbot.waitSignal(win.models.models.model_loaded, timeout=WAIT_MS) as blocker:
        assert win.models.load(path)
    return blocker.args[0]


def spaces(win):
    combo = win.inversion_panel.space
    return [combo.itemData(i) for i in range(combo.count())]


def run_inversion(qtbot, win, space, steps=3):
    panel = win.inversion_panel
    panel.space.setCurrentIndex(panel.space.findData(space))
    panel.steps.setValue(steps)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(win.controller.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
    return win.controller.adopted


def test_load_model_menu_switches_to_a_stylegan2(window, qtbot, tiny, monkeypatch):
    default_directions = window.edits.library.names()
    run_inversion(qtbot, window, None, steps=2)  # a result of the old model, and history that could bring it back
    assert window.controller.adopted is not None and window.controller.undo_stack.count() > 0
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tiny), ""))  # the OS file picker
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS):
        action(window, "Load Model…").trigger()
    c = window.controller
    assert c.model_name == str(tiny) and c.model("auto").resolution == 32
    assert "tiny" in window.models.label.text()
    assert c.adopted is None and c.undo_stack.count() == 0 and "cleared" in window.status.text()
    assert window.canvas.photo_size() == (512, 512)  # the photo stays
    assert spaces(window) == ["z", "w", "w+"] and window.inversion_panel.space.currentData() == "w"
    assert window.inversion_panel.config().space is None  # the default: w
    assert window.edits.library_dir.name.startswith("tiny@") and window.edits.library.names() == []
    assert window.directions_panel.isEnabled() and default_directions  # the default model's library was not empty


def test_model_info_dialog_shows_the_checkpoint(window, qtbot, tiny):
    info = load(qtbot, window, tiny)
    window.models.info_dialog()
    values = {k: v.text() for k, v in window.models.dialog.values.items()}
    assert values["Architecture"] == "StyleGAN2" and values["Resolution"] == "32 × 32 px"
    assert "w: [64]" in values["Latent spaces"] and "w+: [8 × 64]" in values["Latent spaces"]
    net = window.controller.model("auto").net
    assert values["Parameters"].startswith(f"{sum(p.numel() for p in net.parameters()):,}")
    assert values["SHA-256"] == hashlib.sha256(tiny.read_bytes()).hexdigest()
    assert values["File"] == str(tiny.resolve()) and values["Model id"] == info.model_id
    assert "tiny" in window.models.dialog.text()


def test_inversion_in_w_and_w_plus_on_the_photo_crop(window, qtbot, tiny):
    load(qtbot, window, tiny)
    adopted = run_inversion(qtbot, window, "w")
    assert adopted.latent.shape == (64,) and adopted.result.space == "w" and adopted.image.shape == (32, 32, 3)
    assert adopted.result.model_id == window.models.models.info.model_id
    adopted = run_inversion(qtbot, window, "w+")
    assert adopted.latent.shape == (8, 64) and adopted.space == "w+"
    vector = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    window.edits.add_direction(Direction("brighter", vector, "w", adopted.result.model_id, "imported", scale=0.5))
    with qtbot.waitSignal(window.edits.preview_ready, timeout=WAIT_MS) as blocker:
        window.edits.preview({"brighter": 3.0})  # a w direction moves every layer of the w+ result
    edited = blocker.args[0].image
    assert edited.shape == (32, 32, 3) and np.abs(edited.astype(int) - adopted.image).max() > 0
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.controller.undo_stack.undo()  # back to the w result: history works across spaces
    assert window.controller.adopted.latent.shape == (64,)


def test_a_broken_model_is_a_message_and_the_old_model_stays(window, qtbot, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"this is not a checkpoint")
    qtbot.waitUntil(lambda: window.models.models.info is not None, timeout=WAIT_MS)  # the default, described
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as blocker:
        window.models.load(broken)
    message = blocker.args[0]
    assert "broken.pt" in message and "stays in use" in message
    assert window.controller.model_name == "default" and spaces(window) == ["z"]
    assert "dcgan-digiface" in window.models.label.text()
    assert str(broken) not in window.models.recent()


def test_recent_models_persist_and_reload(window, qtbot, tiny):
    load(qtbot, window, tiny)
    assert window.models.recent() == [str(tiny.resolve())]
    window.close()
    again = MainWindow(DocumentController(), window.settings)
    qtbot.addWidget(again)
    entries = again.models.recent_menu.actions()
    assert [a.text() for a in entries] == ["tiny.pt"] and again.models.recent_menu.isEnabled()
    with qtbot.waitSignal(again.models.models.model_loaded, timeout=WAIT_MS):
        entries[0].trigger()
    assert again.controller.model_name == str(tiny.resolve())
    again.controller.shutdown()


def test_dropping_a_model_file_loads_it(window, qtbot, tiny):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tiny))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS):
        window.dropEvent(event)
    assert window.controller.model("auto").resolution == 32
    assert window.canvas.photo_size() == (512, 512)  # a model drop does not replace the photo


def test_default_model_comes_back(window, qtbot, tiny):
    qtbot.waitUntil(lambda: window.models.models.info is not None, timeout=WAIT_MS)
    default_info, default_directions = window.models.models.info, window.edits.library.names()
    load(qtbot, window, tiny)
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS) as blocker:
        action(window, "Default Model").trigger()
    info = blocker.args[0]
    assert info.builtin and info.model_id == default_info.model_id and info.sha256 == default_info.sha256
    assert window.controller.model_name == "default" and spaces(window) == ["z"]
    assert "dcgan-digiface" in window.models.label.text()
    assert window.edits.library.names() == default_directions
    assert window.models.recent() == [str(tiny.resolve())]  # the default is its own menu entry, not a recent one
    adopted = run_inversion(qtbot, window, "z", steps=2)
    assert adopted.latent.shape == (100,) and np.isfinite(adopted.latent).all()


def test_train_landscape_dialog_fits_theta_to_the_loaded_model(window, qtbot, tiny, tmp_path):
    import json

    load(qtbot, window, tiny)
    window.controller.gate_faces = 2
    window.controller.gate_budgets = (2,)
    window.landscape_dialog()
    dialog = window._landscape_dialog
    qtbot.waitUntil(lambda: dialog.training.model is not None, timeout=WAIT_MS)
    assert not dialog.learn_start.isChecked()  # its start search would take hours on a large model's CPU
    assert not dialog.encoder_start.isChecked() and not dialog.encoder_start.isEnabled()  # it has no encoder
    dialog.minutes.setValue(0.02)
    dialog.inner_steps.setValue(2)
    dialog.batch.setValue(2)
    dialog.width_box.setValue(16)
    dialog.output.setText(str(tmp_path / "theta"))
    own = dialog.config  # its own settings, with the least work (the fit to the model is checked, not training)
    dialog.config = lambda: replace(own(), max_iterations=1, precondition_draws=1, validate_every=0,
                                   start_candidates=1, start_faces=2, start_refine=0)
    answered = []

    def keep_the_theta_in_use(box: QMessageBox) -> None:  # "Use this θ?" (or the gate's verdict): No / OK
        button = box.button(QMessageBox.StandardButton.No) or box.button(QMessageBox.StandardButton.Ok)
        QTimer.singleShot(0, lambda: (answered.append(box.text()), button.click()))

    dialog.asking.connect(keep_the_theta_in_use)
    with qtbot.waitSignal(dialog.training.finished, timeout=WAIT_MS) as done:
        dialog.start_button.click()
    assert done.args[0] is not None and not done.args[0].cancelled
    meta = json.loads((tmp_path / "theta" / "theta.json").read_text())
    G = window.controller.model("cpu")
    assert meta["mapping"]["z_dim"] == G.space().shape[0] and meta["mapping"]["standardized"]
    assert meta["generator_id"] == G.model_id
    qtbot.waitUntil(lambda: bool(answered), timeout=WAIT_MS)  # the outcome was put to the user, not applied
    assert window.controller.landscape_dir is None


def test_a_layer_range_edit_on_a_w_result_moves_only_those_layers(window, qtbot, tiny):
    import torch

    from core.device import to_uint8_hwc

    load(qtbot, window, tiny)
    adopted = run_inversion(qtbot, window, "w")
    vector = np.random.default_rng(1).standard_normal(64).astype(np.float32)
    window.edits.add_direction(Direction("coarse", vector, "w+", adopted.result.model_id, "sefa", scale=1.0,
                                         layers=(0, 2)))
    with qtbot.waitSignal(window.edits.preview_ready, timeout=WAIT_MS) as blocker:
        window.edits.preview({"coarse": 2.0})
    G = window.controller.model("cpu")
    direction = window.edits.library.get("coarse")
    layered = np.repeat(adopted.latent[None], 8, axis=0)  # w → w+: every layer the same code
    layered[0:2] += 2.0 * direction.scale * direction.vector
    with torch.no_grad():
        expected = to_uint8_hwc(G.synthesize(torch.from_numpy(layered[None]), "w+"))[0]
    assert np.array_equal(blocker.args[0].image, expected)
    assert not np.array_equal(expected, adopted.image)


def test_discover_offers_a_layer_range_for_a_per_layer_model(window, qtbot, tiny):
    window.directions.open_discover()
    dialog = window.directions.discover_dialog
    assert dialog.only_layers.isHidden()  # the DCGAN has no layers
    load(qtbot, window, tiny)
    assert not dialog.only_layers.isHidden() and dialog.last_layer.maximum() == 7
    dialog.count.setValue(2)
    dialog.only_layers.setChecked(True)
    dialog.first_layer.setValue(0)
    dialog.last_layer.setValue(1)
    with qtbot.waitSignal(window.directions.maker.components_ready, timeout=WAIT_MS):
        dialog.compute.click()
    found = window.directions.maker.components
    assert len(found) == 2 and all(d.layers == (0, 2) and d.space == "w+" for d in found)


def test_model_noise_menu_switches_every_copy(window, qtbot, tiny):
    import torch

    assert not window.models.noise_menu.isEnabled()  # the DCGAN has no noise
    load(qtbot, window, tiny)
    assert window.models.noise_menu.isEnabled() and window.models.noise_actions["const"].isChecked()
    with qtbot.waitSignal(window.models.models.noise_changed, timeout=WAIT_MS):
        window.models.noise_actions["random"].trigger()
    G = window.controller.model("cpu")
    assert G.noise_mode == "random" and window.models.noise_actions["random"].isChecked()
    w = G.mean_latent("w")
    with torch.no_grad():
        assert not torch.equal(G.synthesize(w, "w"), G.synthesize(w, "w"))
    with qtbot.waitSignal(window.models.models.noise_changed, timeout=WAIT_MS):
        window.models.noise_actions["none"].trigger()
    with torch.no_grad():
        assert G.noise_mode == "none" and torch.equal(G.synthesize(w, "w"), G.synthesize(w, "w"))


def test_inpainting_and_landscape_plots_run_on_a_stylegan2(window, qtbot, tiny):
    from tests.app.inpainting.test_inpainting import brush_mouth
    from tests.app.inpainting.test_inpainting import run as inpaint
    from tests.app.landscape.test_landscape_panel import compute

    load(qtbot, window, tiny)
    brush_mouth(window)
    result = inpaint(qtbot, window, candidates=2, steps=3)
    assert len(result.candidates) == 2 and result.candidates[0].shape == (32, 32, 3)
    assert result.latents.shape[1:] == (64,)  # found in w, the model's default space
    warnings = []
    window.controller.warning_raised.connect(warnings.append)
    found, _rows = compute(qtbot, window, grid=3, steps=3)
    assert set(found) == {"x"} and np.isfinite(found["x"].loss).all()
    assert any("No Z landscape" in w for w in warnings)  # no θ trained for this model: said, not hidden
