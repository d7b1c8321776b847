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
        assert f"Δ{space} along path PC 1" in view.axis_label("bottom")  # the default: the path's directions
        assert view.bar_label == "total loss"
    joint = (min(s.loss.min() for s in found.values()), max(s.loss.max() for s in found.values()))
    assert all(view.levels == pytest.approx(joint) for view in window.landscape_panel.view.maps.values())
    assert window.landscape_panel.export.isEnabled()
    assert window.landscape_panel.compute.text() == "Compute"


def test_export_writes_arrays_csv_and_the_plot(qtbot, window, tmp_path):
    compute(qtbot, window)
    written = window.landscape.export(tmp_path)
    names = {p.name for p in written}
    assert {"slice.npz", "slice.csv", "landscape_plot.png"} <= names
    with np.load(tmp_path / "x" / "slice.npz", allow_pickle=False) as data:
        assert data["loss"].shape == (5, 5)
    from PySide6.QtGui import QImage

    plot = QImage(str(tmp_path / "landscape_plot.png"))  # the dock is closed here: the hidden view's figure
    bare = QImage(str(tmp_path / "x" / "slice.png"))  # core's bare heat map of one space
    assert plot.width() > bare.width() and not plot.isNull()
    assert plot.width() >= 1000 and plot.height() >= 400  # both maps with axes, colour bars and the legend


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


# The panel on its own (no engine, no model): slices computed by core's own grid code on a known loss, so the
# shown levels, labels and exported figure can be checked against numbers worked out here.

def quadratic_slice(space: str, scale: float, offset: float, dirs: str = "trajectory", term: str = "total",
                    grid: int = 9):
    """A real ``LandscapeSlice``: ``scale · |z − c|² + offset`` around a random walk's end, on core's grid."""
    import torch

    from core.landscape import SliceConfig
    from core.landscape.slicing import slice_grid, trajectory_axes

    walk = np.cumsum(np.random.default_rng(3).normal(size=(15, 6)), 0)
    axes, explained, coords, center = trajectory_axes(walk)
    c, a = torch.tensor(center, dtype=torch.float32), torch.tensor(axes, dtype=torch.float32)
    job = slice_grid(lambda z: scale * ((z - c) ** 2).sum(-1) + offset, c, a,
                     SliceConfig(dirs=dirs, grid=grid, space=space, term=term))
    while True:
        try:
            next(job)
        except StopIteration as stop:
            sliced = stop.value
            break
    sliced.trajectory, sliced.explained_variance = coords, (explained if dirs == "trajectory" else None)
    return sliced


def show(panel, sliced) -> None:
    """What the presenter does with a finished slice."""
    view = panel.view.maps[sliced.space]
    view.describe(sliced.config, sliced.explained_variance)
    view.begin(sliced.xs, sliced.ys)
    view.set_loss(sliced.loss)
    view.set_trajectory(sliced.trajectory)


@pytest.fixture
def panel(qtbot):
    from app.landscape.panel import LandscapePanel

    panel = LandscapePanel()
    qtbot.addWidget(panel)
    panel.resize(1100, 380)
    return panel


def test_same_colour_scale_gives_both_maps_the_joint_range(panel):
    x, z = quadratic_slice("x", 1.0, 0.5), quadratic_slice("z", 30.0, 2.0)
    show(panel, x)
    show(panel, z)
    maps = panel.view.maps
    assert panel.same_scale.isChecked()  # on by default: X and Z side by side are there to be compared
    joint = (min(x.loss.min(), z.loss.min()), max(x.loss.max(), z.loss.max()))
    for view in maps.values():
        assert view.levels == pytest.approx(joint)
        assert view.bar.levels() == pytest.approx(joint)  # what the colour bar shows
        assert view.image.getLevels() == pytest.approx(joint)  # what the pixels are coloured by
    panel.log_scale.setChecked(True)
    for view in maps.values():
        assert view.levels == pytest.approx(np.log10(joint))
    panel.log_scale.setChecked(False)
    panel.same_scale.setChecked(False)
    assert maps["x"].levels == pytest.approx((x.loss.min(), x.loss.max()))
    assert maps["z"].levels == pytest.approx((z.loss.min(), z.loss.max()))
    assert maps["x"].levels != pytest.approx(maps["z"].levels)


def test_shared_levels_follow_rows_as_they_stream_in(panel):
    x, z = quadratic_slice("x", 1.0, 0.5), quadratic_slice("z", 30.0, 2.0)
    show(panel, x)
    maps = panel.view.maps
    maps["z"].begin(z.xs, z.ys)
    assert maps["x"].levels == pytest.approx((x.loss.min(), x.loss.max()))  # nothing of Z known yet
    maps["z"].set_row(0, z.loss[0])  # the row farthest from the centre: Z's highest losses
    assert maps["x"].levels == pytest.approx((x.loss.min(), z.loss[0].max()))
    maps["z"].clear()
    assert maps["x"].levels == pytest.approx((x.loss.min(), x.loss.max()))  # a cleared map no longer counts


def test_axes_name_the_slice_directions_and_units(panel):
    maps = panel.view.maps
    show(panel, quadratic_slice("x", 1.0, 0.5))
    bottom, left = maps["x"].axis_label("bottom"), maps["x"].axis_label("left")
    assert "path PC 1" in bottom and "path PC 2" in left and "Δx" in bottom
    share = 100 * quadratic_slice("x", 1.0, 0.5).explained_variance[0]
    assert f"{share:.0f} %" in bottom and "reach" in bottom
    assert "axis 1" not in bottom
    show(panel, quadratic_slice("z", 1.0, 0.5, dirs="random"))
    bottom = maps["z"].axis_label("bottom")
    assert "Δz" in bottom and "random dir. 1" in bottom and "‖z₀‖" in bottom
    show(panel, quadratic_slice("x", 1.0, 0.5, dirs="edit:smile,age"))
    assert "'smile'" in maps["x"].axis_label("bottom") and "'age'" in maps["x"].axis_label("left")
    assert "std" in maps["x"].axis_label("left")
    assert "centre latent" in maps["x"].plot.getAxis("bottom").toolTip()


def test_colour_bar_says_which_loss_and_whether_log10(panel):
    show(panel, quadratic_slice("x", 1.0, 0.5, term="pixel"))
    view = panel.view.maps["x"]
    assert view.bar_label == "pixel loss"
    panel.log_scale.setChecked(True)
    assert view.bar_label == "pixel loss (log10)"
    assert panel.view.maps["z"].bar_label == "total loss (log10)"  # no Z slice yet: the default loss


def test_legend_names_every_marker_and_a_click_is_marked(panel, qtbot):
    assert panel.view.legend_texts() == ["descent path", "start", "result (centre)", "clicked point"]
    samples = [sample.item for sample, _label in panel.view.legend.items]
    view = panel.view.maps["x"]
    assert samples == [view.path, view.start, view.end, view.picked]  # each entry is drawn like its marker
    show(panel, quadratic_slice("x", 1.0, 0.5))
    with qtbot.waitSignal(view.point_clicked) as blocker:
        view.pick(0.5, -0.5)
    assert blocker.args == [0.5, -0.5]
    assert list(view.picked.data["x"]) == [0.5] and list(view.picked.data["y"]) == [-0.5]


def image_rect_in_view(view_widget, view) -> tuple[int, int, int, int]:
    """(left, top, width, height) in ``view_widget``'s pixels of where a map draws its loss image."""
    scene_rect = view.image.sceneBoundingRect()
    corner = view.plot.mapTo(view_widget, view.plot.mapFromScene(scene_rect.topLeft()))
    return corner.x(), corner.y(), round(scene_rect.width()), round(scene_rect.height())


@pytest.mark.parametrize("shown", [True, False])
def test_the_figure_has_axes_labels_colour_bar_and_legend_around_the_maps(panel, qtbot, shown):
    """The exported plot is the maps as shown: larger than the loss images, with tick labels left of and below
    them. Hidden (the dock never opened), the view is laid out at a readable size first."""
    from PySide6.QtGui import QImage

    if shown:
        panel.show()
        qtbot.waitExposed(panel)
    show(panel, quadratic_slice("x", 1.0, 0.5))
    show(panel, quadratic_slice("z", 30.0, 2.0))
    figure = panel.view.figure()
    rgb = figure.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    pixels = rows[:, :rgb.width() * 3].reshape(rgb.height(), rgb.width(), 3).astype(int)
    left, top, width, height = image_rect_in_view(panel.view, panel.view.maps["x"])
    z_left, _, z_width, _ = image_rect_in_view(panel.view, panel.view.maps["z"])
    assert width > 40 and height > 40  # the maps are drawn at a visible size
    assert figure.width() > z_left + z_width > left + width and figure.height() > top + height + 20
    bright = pixels.max(axis=2) > 90  # tick labels, axis lines, label text (the background is black)
    assert bright[top:top + height, :left].sum() > 50  # the left axis: ticks, numbers and its label
    assert bright[top + height + 2:, left:left + width].sum() > 50  # the bottom axis
    assert bright[top:top + height, left + width:z_left].sum() > 50  # X's colour bar with its axis and label
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # not blank: the colour ramp and the loss image
