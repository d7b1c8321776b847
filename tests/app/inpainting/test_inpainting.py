"""Diverse inpainting in the editor, offscreen, real engine and model: gallery, preview, apply, export."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.imageio import load_photo
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def brush_mouth(win) -> np.ndarray:
    crop = win.controller.crop
    mask = np.zeros((512, 512), np.uint8)
    mask[crop.y + 80:crop.y + 115, crop.x + 35:crop.x + 95] = 255
    win.controller.replace_mask(mask, "Brush")
    return mask


def run(qtbot, win, candidates=4, steps=20):
    panel = win.inpainting_panel
    panel.candidates.setValue(candidates)
    panel.steps.setValue(steps)
    with qtbot.waitSignal(win.inpainting.inpaint.finished, timeout=WAIT_MS):
        panel.run_button.click()
    return win.inpainting.inpaint.result


def test_without_a_brushed_region_it_says_what_to_do(qtbot, window):
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as blocker:
        window.inpainting_panel.run_button.click()
    assert "Brush" in blocker.args[0]


def test_candidates_fill_the_gallery_and_the_arrow_keys_browse_them(qtbot, window):
    brush_mouth(window)
    result = run(qtbot, window)
    gallery = window.inpainting_panel.gallery
    assert gallery.count() == 4 and len(result.candidates) == 4
    assert gallery.item(0).text().startswith("#1")
    gallery.setFocus()
    gallery.setCurrentRow(0)
    first = window.canvas._patch_item.pixmap().toImage()
    QTest.keyClick(gallery, Qt.Key.Key_Right)
    assert gallery.currentRow() == 1 and window.canvas.has_result_patch()
    assert window.canvas._patch_item.pixmap().toImage() != first  # another candidate is shown


def test_apply_is_undoable_and_the_export_changes_only_brushed_pixels(qtbot, window, tmp_path):
    mask = brush_mouth(window)
    run(qtbot, window)
    stack = window.controller.undo_stack
    window.inpainting_panel.gallery.setCurrentRow(1)
    window.inpainting_panel.apply_button.click()
    assert len(window.controller.fills) == 1 and window.controller.adopted is None  # a layer over the photo
    assert stack.text(stack.count() - 1).startswith("Apply inpainting")
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(tmp_path / "filled.png")
    photo, filled = load_photo(SAMPLE).pixels, load_photo(tmp_path / "filled.png").pixels
    assert np.array_equal(photo[mask == 0], filled[mask == 0])
    assert not np.array_equal(photo[mask > 0], filled[mask > 0])
    stack.undo()
    assert window.controller.fills == () and window.canvas._result_item.pixmap().isNull()


def test_more_like_this_and_more_different_run_again(qtbot, window):
    brush_mouth(window)
    first = run(qtbot, window, candidates=3, steps=10)
    with qtbot.waitSignal(window.inpainting.inpaint.finished, timeout=WAIT_MS):
        window.inpainting.inpaint.more_like(0)
    near = window.inpainting.inpaint.result
    assert len(near.candidates) == 3
    with qtbot.waitSignal(window.inpainting.inpaint.finished, timeout=WAIT_MS):
        window.inpainting.inpaint.more_different()
    assert window.inpainting.inpaint.config.seed == first.inversion.config.seed + 3


def test_restore_mode_runs_super_resolution(qtbot, window):
    panel = window.inversion_panel
    panel.restore.setCurrentIndex(panel.restore.findData("downsample4"))
    assert panel.config().operator == "downsample4"
    panel.steps.setValue(10)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
    assert window.controller.adopted.result.config.operator == "downsample4"


def test_a_project_with_an_applied_candidate_reopens_with_the_same_export(qtbot, window, tmp_path):
    brush_mouth(window)
    run(qtbot, window, candidates=2, steps=10)
    window.inpainting_panel.gallery.setCurrentRow(1)
    window.inpainting_panel.apply_button.click()
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(tmp_path / "before.png")
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "fill.lsproj")
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "fill.lsproj")
    assert len(window.controller.fills) == 1
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(tmp_path / "after.png")
    assert np.array_equal(load_photo(tmp_path / "before.png").pixels, load_photo(tmp_path / "after.png").pixels)


def test_the_colinearity_prior_says_when_the_model_cannot_use_it(qtbot, window):
    brush_mouth(window)
    window.inpainting_panel.colinearity.setValue(0.1)
    assert window.inpainting_panel.config().colinearity == 0.1
    warnings = []
    window.controller.warning_raised.connect(warnings.append)
    run(qtbot, window, candidates=2, steps=10)
    assert any("colinearity" in w for w in warnings)


def _export(qtbot, window, path):
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(path)
    return load_photo(path).pixels


def test_fills_stack_over_the_edited_result_and_undo_one_at_a_time(qtbot, window, tmp_path):
    """An artist's order: invert, edit, fill the mouth twice; each fill is one step over what was shown."""
    c, stack = window.controller, window.controller.undo_stack
    window.inversion_panel.steps.setValue(10)
    window.inversion_panel.lpips.setValue(0.0)
    with qtbot.waitSignal(c.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    edited = _export(qtbot, window, tmp_path / "edited.png")
    mask = brush_mouth(window)
    run(qtbot, window, candidates=2, steps=10)
    window.inpainting_panel.gallery.setCurrentRow(0)
    window.inpainting_panel.apply_button.click()
    once = _export(qtbot, window, tmp_path / "once.png")
    assert np.array_equal(once[mask == 0], edited[mask == 0])  # the edited result stays around the fill
    assert not np.array_equal(once[mask > 0], edited[mask > 0])
    assert c.adopted is not None and [e.name for e in c.edits] == ["smile"]  # the result and its edit stay
    run(qtbot, window, candidates=2, steps=10)
    window.inpainting_panel.gallery.setCurrentRow(1)
    window.inpainting_panel.apply_button.click()
    assert len(c.fills) == 2 and stack.undoText() == "Apply inpainting candidate #2"
    twice = _export(qtbot, window, tmp_path / "twice.png")
    assert np.array_equal(twice[mask == 0], edited[mask == 0])
    stack.undo()
    assert len(c.fills) == 1 and np.array_equal(_export(qtbot, window, tmp_path / "undone.png"), once)
    stack.undo()
    assert stack.undoText() == "Brush" and c.fills == () and [e.name for e in c.edits] == ["smile"]
