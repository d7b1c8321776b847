"""File → Save Recipe…: the document's settings and edits as a batch recipe that `landscape-studio batch` runs."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from core.batch import load_recipe
from core.batch.local import run_batch
from core.inversion import InversionConfig
from core.resources import sample_photos

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def test_the_documents_look_runs_over_other_photos(window, qtbot, tmp_path, monkeypatch):
    window.inversion_panel.set_config(InversionConfig(steps=3, warmup_steps=0).with_changes(loss_lpips=0.0))
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    qtbot.waitUntil(lambda: window.controller.edits != (), timeout=WAIT_MS)
    window.controller.set_composite("replace")
    qtbot.waitUntil(lambda: window.controller.composite == "replace", timeout=WAIT_MS)
    path = tmp_path / "look.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path.with_suffix("")), ""))
    action = next(a for a in window.all_actions() if a.text().replace("&", "") == "Save Recipe…")
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "save-recipe"):
        action.trigger()
    data = json.loads(path.read_text())
    assert data["edits"] == {"smile": 2.0} and data["composite"] == "replace" and data["align"] is False
    assert data["inversion"]["steps"] == 3 and data["model"] == "dcgan-digiface"
    assert "Recipe saved" in window.status.text()
    recipe = load_recipe(path)
    report = run_batch([str(p) for p in sample_photos()], recipe, tmp_path / "out")
    assert [r["status"] for r in report.rows] == ["done", "done"]
    plain = run_batch([str(sample_photos()[0])], replace(recipe, edits={}), tmp_path / "plain")
    a = np.asarray(Image.open(tmp_path / "plain" / plain.rows[0]["output"]), dtype=int)
    b = np.asarray(Image.open(tmp_path / "out" / report.rows[0]["output"]), dtype=int)
    assert np.abs(a - b).max() > 20  # the smile edit is in the batch's export
