"""The Inversion panel says what is true: which θ the landscape method uses, and whether LPIPS can apply here."""

from __future__ import annotations

from core.objectives.perceptual import backbone_path, unavailable_reason


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
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    panel.lpips_net.setCurrentText("alex")
    panel._lpips_changed()
    assert unavailable_reason("alex") is not None
    assert "off" in panel.lpips.suffix() and not panel.lpips.isEnabled()
    assert "backbone" in panel.lpips.toolTip()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "with-backbone"))
    path = backbone_path("alex")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # the panel asks only whether the file is there; the loss itself checks its contents
    panel._lpips_changed()
    assert panel.lpips.suffix() == "" and panel.lpips.isEnabled()
    panel.set_running(True)
    assert not panel.lpips.isEnabled()
