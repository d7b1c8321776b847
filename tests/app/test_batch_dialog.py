"""File → Batch… in the real window: photos and a recipe in, a live list before/after, Stop between photos, and
the current settings as the recipe."""

from __future__ import annotations

import shutil

from core.batch import Recipe, save_recipe
from core.batch.folder import MANIFEST
from core.batch.recipe import FORMAT, VERSION
from core.inversion import InversionConfig
from core.resources import sample_photos

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang
FAST = {"method": "direct", "steps": 3, "warmup_steps": 0, "loss": {"lpips": 0.0}}


def open_dialog(window):
    action = next(a for a in window.all_actions() if a.text().replace("&", "") == "Batch…")
    action.trigger()
    return window.recipes.dialog


def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sample_photos():
        shutil.copyfile(path, folder / path.name)
    return folder


def test_a_recipe_file_over_a_folder_fills_the_list(window, qtbot, tmp_path):
    recipe = save_recipe(Recipe.from_dict({"format": FORMAT, "version": VERSION, "align": False,
                                           "inversion": FAST}), tmp_path / "fast.json")
    dialog = open_dialog(window)
    dialog.add_inputs([str(photos(tmp_path))])
    dialog.set_recipe_file(str(recipe))
    dialog.out.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "batch"):
        dialog.start_button.click()
    assert dialog.table.rowCount() == 2
    assert all(not dialog.table.item(r, c).icon().isNull() for r in range(2) for c in (0, 1))
    assert dialog.table.item(0, 3).text().startswith("done")
    assert dialog.progress.text().startswith("2 done, 0 already done, 0 failed")
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "batch"):
        dialog.start_button.click()  # again: everything is already done
    assert dialog.progress.text().startswith("0 done, 2 already done")


def test_the_current_settings_run_and_stop_keeps_the_folder_consistent(window, qtbot, tmp_path):
    window.inversion_panel.set_config(InversionConfig(steps=3, warmup_steps=0).with_changes(loss_lpips=0.0))
    dialog = open_dialog(window)  # the recipe: the editor's current settings
    dialog.add_inputs([str(p) for p in sample_photos()])
    out = tmp_path / "out"
    dialog.out.setText(str(out))
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "batch"):
        dialog.start_button.click()
        dialog.stop_button.click()  # before the first photo: stopping is asked between photos
    assert dialog.table.rowCount() == 0 and "stopped" in dialog.progress.text()
    assert not (out / MANIFEST).exists() or (out / MANIFEST).read_text() == ""
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "batch"):
        dialog.start_button.click()  # the same batch, resumed: it runs to the end
    assert dialog.table.rowCount() == 2 and dialog.progress.text().startswith("2 done")
    assert len((out / MANIFEST).read_text().splitlines()) == 2
