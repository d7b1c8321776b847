"""The Landscape panel in the editor, offscreen, real engine and model: a small slice in X and Z fills in."""

from __future__ import annotations

import numpy as np
import pytest

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def compute(qtbot, win, grid=5, steps=12):
    panel = win.landscape_panel
    panel.grid.setValue(grid)
    panel.steps.setValue(steps)
    rows = []
    win.landscape.landscape.row_ready.connect(lambda space, i, values: rows.append((space, i)))
    with qtbot.waitSignal(win.landscape.landscape.finished, timeout=WAIT_MS) as blocker:
        panel.compute.click()
    return blocker.args[0], rows


def test_a_small_slice_fills_both_maps_row_by_row(qtbot, window):
    found, rows = compute(qtbot, window)
    assert set(found) == {"x", "z"}  # the default model ships a ready θ
    assert [i for space, i in rows if space == "x"] == list(range(5))
    for space, view in window.landscape_panel.view.maps.items():
        assert view.loss.shape == (5, 5) and np.isfinite(view.loss).all()
        assert view.path.xData is not None and len(view.path.xData) >= 2  # the optimiser's path is drawn
        row, col, value = view.value_at(0.0, 0.0)
        assert (row, col) == (2, 2) and value == pytest.approx(found[space].loss[2, 2])
    assert window.landscape_panel.export.isEnabled()
    assert window.landscape_panel.compute.text() == "Compute"


def test_export_writes_arrays_csv_and_the_plot(qtbot, window, tmp_path):
    compute(qtbot, window)
    written = window.landscape.export(tmp_path)
    names = {p.name for p in written}
    assert {"slice.npz", "slice.csv", "landscape_plot.png"} <= names
    with np.load(tmp_path / "x" / "slice.npz", allow_pickle=False) as data:
        assert data["loss"].shape == (5, 5)


def test_clicking_a_point_renders_its_image(qtbot, window):
    compute(qtbot, window)
    with qtbot.waitSignal(window.landscape.landscape.image_ready, timeout=WAIT_MS) as blocker:
        window.landscape.landscape.image_at("z", 0.5, -0.5)
    assert blocker.args[0].shape == (64, 64, 3)
    window.landscape_panel.show_clicked(blocker.args[0])
    assert not window.landscape_panel.clicked_image.pixmap().isNull()


def test_without_opengl_the_3d_tab_says_so(window):
    panel = window.landscape_panel
    if panel.surface_item is None:
        assert "OpenGL" in panel.surface.text()
