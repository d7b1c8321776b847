"""Compare methods, offscreen, real engine and model: columns and rows fill as each method ends, views zoom
together, errors stay in their column, and a method's result can be adopted (undoably)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from core.device import from_uint8_hwc
from core.imageio import CropBox, crop_and_resize, crop_and_resize_mask
from core.inversion import InversionConfig
from core.metrics import psnr
from core.photo_jobs import DIFF_MAX
from tests.app.canvas_pixels import shown_after

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang
FAST = dict(steps=5, warmup_steps=2, preview_every=1)


def open_dialog(window, steps=5):
    window.inversion_panel.steps.setValue(steps)
    window.inversion_panel.lpips.setValue(0.0)  # keeps the runs fast, and LPIPS's backbone may be absent anyway
    window.compare_dialog()
    dialog = window._compare_dialog
    for method, check in dialog.checks.items():
        check.setChecked(method in ("direct", "landscape"))
    return dialog


def run(qtbot, dialog):
    with qtbot.waitSignal(dialog.compare.finished, timeout=WAIT_MS) as blocker:
        assert dialog.run()
    return blocker.args[0]


def test_a_comparison_fills_each_column_with_its_image_and_psnr(qtbot, window):
    dialog = open_dialog(window)
    comparison = run(qtbot, dialog)
    c = window.controller
    R = c.model().resolution
    target = crop_and_resize(c.opened.photo.pixels, c.crop, R)
    assert np.array_equal(comparison.target, target)
    assert [o.method for o in comparison.outcomes] == ["direct", "landscape"]
    for outcome in comparison.outcomes:
        assert outcome.status == "done" and outcome.steps_done == 5 and outcome.seconds > 0
        assert outcome.image.shape == (R, R, 3) and outcome.image.dtype == np.uint8
        expected = float(psnr(from_uint8_hwc(outcome.image), from_uint8_hwc(target))[0])
        assert np.isfinite(outcome.psnr) and outcome.psnr == pytest.approx(expected, abs=1e-4)
        assert np.array_equal(dialog.grid.images[outcome.method].image, outcome.image)
        assert f"{outcome.psnr:.2f} dB" in dialog.grid.plots[outcome.method].titleLabel.text
    assert dialog.table.rowCount() == 2 and dialog.table.item(0, 2).text() == f"{comparison.outcomes[0].psnr:.3f}"
    assert dialog.export_button.isEnabled() and dialog.run_button.text() == "Run"


def test_difference_maps_are_abs_error_on_one_fixed_scale(qtbot, window):
    dialog = open_dialog(window)
    comparison = run(qtbot, dialog)
    target = comparison.target.astype(np.float64)
    for outcome in comparison.outcomes:
        item = dialog.grid.diffs[outcome.method]
        expected = np.abs(outcome.image.astype(np.float64) - target).mean(axis=2) / 255.0
        np.testing.assert_allclose(item.image, expected, atol=1e-6)
        assert tuple(item.getLevels()) == (0, DIFF_MAX)


def test_all_views_zoom_and_pan_together(qtbot, window):
    dialog = open_dialog(window)
    run(qtbot, dialog)
    views = dialog.grid.views
    assert len(views) == 1 + 2 * 2  # the target, and an image and a difference map per method
    views[3].setRange(xRange=(10, 20), yRange=(30, 40), padding=0)  # zoom into one difference map
    qtbot.wait(50)
    first = np.array(views[0].viewRange())
    assert first.mean(axis=1) == pytest.approx([15, 35], abs=0.1)  # centred where asked (aspect may widen x)
    assert np.ptp(first[1]) == pytest.approx(10, abs=0.1)
    for view in views:
        np.testing.assert_allclose(view.viewRange(), first, atol=0.25)  # views may differ by a pixel
        assert view.state["yInverted"] and view.state["aspectLocked"]
    dialog.fit_button.click()
    for view in views:
        (x0, x1), (y0, y1) = view.viewRange()
        assert x0 <= 0 and y0 <= 0 and x1 >= 64 and y1 >= 64


def test_stop_ends_the_run_and_skips_the_methods_after(qtbot, window):
    dialog = open_dialog(window, steps=100_000)
    with qtbot.waitSignal(dialog.compare.steps_received, timeout=WAIT_MS):
        assert dialog.run()
    assert dialog.run_button.text() == "Stop"
    with qtbot.waitSignal(dialog.compare.finished, timeout=WAIT_MS) as blocker:
        dialog.run_button.click()
    comparison = blocker.args[0]
    assert comparison.cancelled
    first, second = comparison.outcomes
    assert first.status == "stopped" and first.steps_done < 100_000 and first.image is not None
    assert second.status == "skipped" and second.image is None
    assert dialog.run_button.text() == "Run"


def test_a_failing_method_shows_its_error_while_the_others_run(qtbot, window):
    """An unknown method is a real ``InvalidInputError`` from the engine's validation."""
    dialog = open_dialog(window)
    compare = dialog.compare
    config = InversionConfig(**FAST).with_changes(loss_lpips=0.0)
    with qtbot.waitSignal(compare.finished, timeout=WAIT_MS) as blocker:
        assert compare.compare(["direct", "no-such-method", "landscape"], config, "cpu", None)
    direct, bad, landscape = blocker.args[0].outcomes
    assert direct.status == landscape.status == "done"
    assert bad.status == "failed" and bad.image is None and "no-such-method" in bad.error
    assert "failed" in dialog.grid.plots["no-such-method"].titleLabel.text
    assert "Unknown method" in dialog.grid.notes["no-such-method"].textItem.toPlainText()
    assert dialog.table.item(1, 1).text() == "failed" and "Unknown method" in dialog.table.item(1, 7).text()
    assert dialog.grid.images["direct"].image is not None and dialog.grid.images["no-such-method"].image is None


def test_with_a_mask_psnr_counts_only_the_known_pixels(qtbot, window):
    c = window.controller
    mask = np.zeros((c.opened.photo.height, c.opened.photo.width), np.uint8)
    mask[:, : c.crop.x + c.crop.size // 2] = 255  # the crop's left half is brushed out
    config = InversionConfig(**FAST).with_changes(loss_lpips=0.0)
    compare = open_dialog(window).compare
    with qtbot.waitSignal(compare.finished, timeout=WAIT_MS) as blocker:
        assert compare.compare(["direct"], config, "cpu", mask)
    comparison = blocker.args[0]
    (outcome,) = comparison.outcomes
    R = comparison.target.shape[0]
    keep = 1 - torch.from_numpy(crop_and_resize_mask(mask / 255.0, c.crop, R))[None, None]
    expected = float(psnr(from_uint8_hwc(outcome.image), from_uint8_hwc(comparison.target), keep)[0])
    assert comparison.masked and outcome.psnr == pytest.approx(expected, abs=1e-4)
    assert outcome.psnr != pytest.approx(float(psnr(from_uint8_hwc(outcome.image),
                                                    from_uint8_hwc(comparison.target))[0]), abs=1e-3)


def test_a_missing_theta_falls_back_with_a_warning_in_its_column(qtbot, window):
    dialog = open_dialog(window)
    config = InversionConfig(**FAST, landscape="/nonexistent").with_changes(loss_lpips=0.0)
    dialog.inputs = lambda: (config, "cpu", None)
    comparison = run(qtbot, dialog)
    landscape = comparison.outcomes[1]
    assert landscape.status == "done" and landscape.image is not None
    assert any("direct method instead" in w for w in landscape.warnings)
    assert "⚠" in dialog.grid.plots["landscape"].titleLabel.text
    assert "direct method instead" in dialog.table.item(1, 7).text()


def test_export_writes_the_grid_and_the_numbers(qtbot, window, tmp_path):
    dialog = open_dialog(window)
    comparison = run(qtbot, dialog)
    folder = tmp_path / "export"
    folder.mkdir()
    png, numbers = dialog.export(folder / "cmp.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(numbers.read_text())
    assert data["schema_version"] == 1 and data["crop"] == window.controller.crop.to_dict()
    assert [m["method"] for m in data["methods"]] == ["direct", "landscape"]
    assert data["methods"][0]["psnr_db"] == pytest.approx(comparison.outcomes[0].psnr, abs=1e-3)
    assert sorted(p.name for p in folder.iterdir()) == ["cmp.json", "cmp.png"]  # no temp files left


def test_the_menu_refuses_without_a_photo_and_keeps_one_dialog(qtbot, window):
    opened, window.controller.opened = window.controller.opened, None
    window.compare_dialog()
    assert getattr(window, "_compare_dialog", None) is None and "Open a photo" in window.status.text()
    window.controller.opened = opened
    window.inversion_panel.compare_button.click()
    first = window._compare_dialog
    window.compare_dialog()
    assert window._compare_dialog is first and first.isVisible()


def _row(dialog, row):
    return [dialog.table.item(row, column).text() if dialog.table.item(row, column) else ""
            for column in range(dialog.table.columnCount())]


def test_a_row_fills_when_its_method_ends_while_the_next_still_runs(qtbot, window):
    """The first method fails at once, the second runs 100 000 steps: its row must already say so."""
    dialog = open_dialog(window)
    compare = dialog.compare
    config = InversionConfig(steps=100_000, warmup_steps=2, preview_every=1).with_changes(loss_lpips=0.0)
    with qtbot.waitSignal(compare.outcome_received, timeout=WAIT_MS) as first:
        assert compare.compare(["no-such-method", "direct", "landscape"], config, "cpu", None)
    assert first.args[0].index == 0 and first.args[0].outcome.status == "failed"
    assert compare.running and dialog.comparison is None  # the comparison has not ended
    assert _row(dialog, 0)[:2] == ["no-such-method", "failed"] and "Unknown method" in _row(dialog, 0)[7]
    assert "failed" in dialog.grid.plots["no-such-method"].titleLabel.text
    qtbot.waitUntil(lambda: _row(dialog, 1)[1] == "running", timeout=WAIT_MS)
    assert _row(dialog, 2)[:2] == ["landscape", "pending"]
    dialog.table.selectRow(0)
    assert not dialog.adopt_button.isEnabled() and not dialog.adopt_row(0)  # a failed method has nothing
    with qtbot.waitSignal(compare.finished, timeout=WAIT_MS):
        dialog.stop()
    assert [_row(dialog, r)[1] for r in range(3)] == ["failed", "stopped", "skipped"]


def test_figures_appear_per_method_before_the_comparison_ends(qtbot, window):
    dialog = open_dialog(window)
    seen = {}  # what the dialog showed the moment each method's record arrived

    def look(done):
        seen[done.index] = (dialog.comparison, _row(dialog, done.index), _row(dialog, 1)[1],
                            np.array(dialog.grid.images[done.outcome.method].image))

    dialog.compare.outcome_received.connect(look)
    comparison = run(qtbot, dialog)
    assert sorted(seen) == [0, 1]
    for index, outcome in enumerate(comparison.outcomes):
        ended, row, _, image = seen[index]
        assert ended is None  # drawn from the method's own record, not from the final comparison
        assert row[:3] == [outcome.method, "done", f"{outcome.psnr:.3f}"] and row[6] == "5"
        assert np.array_equal(image, outcome.image)
    assert seen[0][2] in ("pending", "running")  # the second method had not ended when the first showed


def test_adopting_a_row_is_one_undo_step_like_run(qtbot, window):
    dialog = open_dialog(window)
    comparison = run(qtbot, dialog)
    c = window.controller
    direct, landscape = comparison.outcomes
    assert c.adopted is None and not dialog.adopt_button.isEnabled()
    count = c.undo_stack.count()
    rect = dialog.table.visualItemRect(dialog.table.item(0, 0))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a double click
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # adopts the row
    assert c.adopted.result is direct.result
    dialog.table.selectRow(1)
    assert dialog.adopt_button.isEnabled()
    dialog.adopt_button.click()
    adopted = c.adopted
    assert adopted.result is landscape.result and adopted.placement == comparison.placement
    assert np.array_equal(adopted.latent, landscape.result.best_latent)
    assert np.array_equal(adopted.image, landscape.image)
    expected = c.opened.composite_on_display(comparison.placement, landscape.image, None, c.feather,
                                             reference=landscape.image)  # "detail": the photo as it was
    assert np.array_equal(adopted.display, expected) and np.array_equal(shown_after(window.canvas), expected)
    assert c.undo_stack.count() == count + 2
    assert c.undo_stack.undoText() == "Adopt landscape inversion (Compare)" and "landscape" in window.status.text()
    c.undo_stack.undo()
    assert c.adopted.result is direct.result and np.array_equal(shown_after(window.canvas), c.adopted.display)
    c.undo_stack.undo()
    assert c.adopted is None and shown_after(window.canvas) is None
    c.undo_stack.redo()
    c.undo_stack.redo()
    assert c.adopted is adopted and np.array_equal(shown_after(window.canvas), expected)


def test_adopting_is_refused_once_the_square_moved(qtbot, window):
    dialog = open_dialog(window)
    run(qtbot, dialog)
    c = window.controller
    old = c.crop
    c.set_crop(old, CropBox(old.x - 4 if old.x >= 4 else old.x + 4, old.y, old.size))
    count = c.undo_stack.count()
    dialog.table.selectRow(0)
    assert not dialog.adopt_selected()
    assert c.adopted is None and c.undo_stack.count() == count
    assert "changed since this comparison ran" in dialog.progress.text()
    assert "changed since this comparison ran" in window.status.text()
    c.undo_stack.undo()  # the crop is back where the comparison ran: adopting works again
    assert dialog.adopt_selected() and c.adopted.placement == c.placement
