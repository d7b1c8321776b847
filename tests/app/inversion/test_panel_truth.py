"""The Inversion panel says what is true: which θ the landscape method uses, and whether LPIPS can apply here."""

from __future__ import annotations

import shutil

from core.objectives import perceptual
from core.objectives.perceptual import unavailable_reason, weights_path


def test_the_landscape_help_names_the_theta_in_use(window, tmp_path):
    panel = window.inversion_panel
    panel.method.setCurrentText("landscape")
    assert "shipped with the model" in panel.method_help.text() and "No ready" not in panel.method_help.text()
    window.controller.use_theta(str(tmp_path / "theta-2"))
    assert "yours, from 'theta-2'" in panel.method_help.text()
    panel.method.setCurrentText("direct")
    assert "θ" not in panel.method_help.text()


def test_an_lpips_weight_that_cannot_apply_shows_as_off(window, tmp_path, monkeypatch):
    panel = window.inversion_panel
    shipped = weights_path("alex")
    monkeypatch.setattr(perceptual, "weights_path", lambda net="vgg": tmp_path / f"{net}.safetensors")
    panel.lpips_net.setCurrentText("alex")
    panel._lpips_changed()
    assert unavailable_reason("alex") is not None
    assert "off" in panel.lpips.suffix() and not panel.lpips.isEnabled()
    assert "alex.safetensors' is missing" in panel.lpips.toolTip() and "fetch_lpips.py" in panel.lpips.toolTip()
    (tmp_path / "alex.safetensors").write_bytes(b"")  # there, but damaged: the panel checks the contents too
    panel._lpips_changed()
    assert "off" in panel.lpips.suffix() and "is damaged" in panel.lpips.toolTip()
    shutil.copyfile(shipped, tmp_path / "alex.safetensors")
    panel._lpips_changed()
    assert panel.lpips.suffix() == "" and panel.lpips.isEnabled()
    panel.set_running(True)
    assert not panel.lpips.isEnabled()


def test_the_identity_weight_round_trips_and_shows_as_off_without_its_model(window, tmp_path, monkeypatch):
    from core.objectives import identity

    panel = window.inversion_panel
    panel.set_config(panel.config().with_changes(loss_identity=0.25))
    assert panel.identity.value() == 0.25 and panel.config().loss.identity == 0.25
    assert panel.identity.isEnabled() and "same person" in panel.identity.toolTip()
    shipped = identity.weights_path
    monkeypatch.setattr(identity, "weights_path", lambda: tmp_path / "identity.safetensors")
    panel._lpips_changed()
    assert "off" in panel.identity.suffix() and not panel.identity.isEnabled()
    assert "identity.safetensors" in panel.identity.toolTip()
    monkeypatch.setattr(identity, "weights_path", shipped)
    panel.set_running(True)
    assert not panel.identity.isEnabled()
    panel.set_running(False)
    assert panel.identity.isEnabled() and panel.identity.suffix() == ""
