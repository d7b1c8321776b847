"""File → Export Animation… in the real window: the sliders' edit swept into the photo, a walk from the photo's face
through seeds, the last run's progress; Stop leaves no file; what cannot be animated yet is said plainly."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.imageio import load_photo
from tests.core.animation.video import read_mp4

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def open_dialog(window):
    action = next(a for a in window.all_actions() if a.text().replace("&", "") == "Export Animation…")
    action.trigger()
    return window.animation.dialog


def invert(qtbot, window, steps=6):
    window.inversion_panel.steps.setValue(steps)
    window.inversion_panel.lpips.setValue(0.0)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()


def choose(dialog, kind, path, *, seconds=0.6, loop=False):
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    dialog.fps.setValue(10)
    dialog.seconds.setValue(seconds)
    dialog.loop.setChecked(loop)
    dialog.path.setText(str(path))


def export(qtbot, window, dialog, kind, path, *, seconds=0.6, loop=False):
    choose(dialog, kind, path, seconds=seconds, loop=loop)
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "animate"):
        dialog.export_button.click()


def test_an_edit_sweep_starts_on_the_photo_and_ends_on_the_edit(window, qtbot, tmp_path):
    dialog = open_dialog(window)
    choose(dialog, "edit", tmp_path / "none.mp4")
    dialog.export_button.click()  # refused at once: nothing runs
    assert "move at least one slider" in dialog.message.text() and not (tmp_path / "none.mp4").exists()
    assert dialog.export_button.isEnabled() and not window.controller.engine.running("animate")
    invert(qtbot, window)
    window.edits.commit({}, {"age": 3.0}, "Edit age")
    dialog = open_dialog(window)
    assert "age +3.0" in dialog.edits_label.text()
    export(qtbot, window, dialog, "edit", tmp_path / "age.mp4")
    assert dialog.message.text().startswith("6 frames (512×512) written to")
    frames = read_mp4(tmp_path / "age.mp4").frames
    photo = load_photo(window.controller.opened.photo.source).pixels
    assert len(frames) == 6 and frames[0].shape == photo.shape
    assert np.abs(frames[0].astype(int) - photo).mean() < 2.5  # no edit yet: the photo (detail composite)
    exported = tmp_path / "export.png"
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS):
        window.controller.export(exported)
    assert np.abs(frames[-1].astype(int) - load_photo(exported).pixels).mean() < 2.5  # the end: what Export writes


def test_a_walk_and_the_runs_progress_as_gifs(window, qtbot, tmp_path):
    invert(qtbot, window, steps=8)
    dialog = open_dialog(window)
    assert "8 steps" in dialog.inversion_note.text() and dialog.from_photo.isChecked()
    dialog.seeds.setValue(2)
    dialog.clip_size.setCurrentIndex(dialog.clip_size.findData(256))
    export(qtbot, window, dialog, "walk", tmp_path / "walk.gif", seconds=1.2, loop=True)
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.size == (256, 256) and gif.n_frames == 12
    export(qtbot, window, dialog, "inversion", tmp_path / "run.gif")
    with Image.open(tmp_path / "run.gif") as gif:
        assert gif.size == (256, 256) and 2 <= gif.n_frames <= 6  # a GIF merges repeated frames
    assert "written to" in window.status.text()


def test_stop_leaves_no_file(window, qtbot, tmp_path):
    dialog = open_dialog(window)
    dialog.from_photo.setChecked(False)  # seeds alone: no result needed
    dialog.kind.setCurrentIndex(dialog.kind.findData("walk"))
    dialog.fps.setValue(60)
    dialog.seconds.setValue(60)
    dialog.path.setText(str(tmp_path / "long.mp4"))
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "animate"):
        dialog.export_button.click()
        assert dialog.stop_button.isEnabled()
        dialog.stop_button.click()
    assert dialog.message.text().startswith("Stopped after") and list(tmp_path.glob("*.mp4")) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".long")] == []
    assert dialog.export_button.isEnabled() and not dialog.stop_button.isEnabled()


def test_a_walk_through_saved_latents_and_a_wrong_one(window, qtbot, tmp_path):
    from core.inversion.report import save_npy

    G = window.controller.model("cpu")
    files = [save_npy(tmp_path / f"face{s}.npy", G.sample_latent(1, s)[0].numpy()) for s in (4, 9)]
    invert(qtbot, window)
    dialog = open_dialog(window)
    dialog.set_latent_files(files)
    assert dialog.latents_label.text() == "face4.npy, face9.npy"
    dialog.seeds.setValue(0)
    export(qtbot, window, dialog, "walk", tmp_path / "through.mp4", seconds=1.0)
    assert dialog.message.text().startswith("10 frames (512×512)")  # the photo's face, then both files, in the photo
    assert len(read_mp4(tmp_path / "through.mp4").frames) == 10
    dialog.set_latent_files([save_npy(tmp_path / "wrong.npy", np.zeros(7, np.float32))])
    export(qtbot, window, dialog, "walk", tmp_path / "wrong.mp4")
    assert dialog.message.text().startswith("The animation was not written:") and not (tmp_path / "wrong.mp4").exists()
