"""CanvasView with real mouse, wheel and key events (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QFocusEvent

from app.views.canvas import CanvasView, MaskEdit
from app.views.canvas_math import write_edit
from core.errors import InvalidInputError
from core.imageio import CropBox, load_photo
from tests.app.events import LEFT, NONE, drag, key, send_mouse, view_pos, wheel

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "astronaut.png"


@pytest.fixture
def view(qtbot):
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    qtbot.waitExposed(canvas)
    photo = np.full((300, 400, 3), 128, np.uint8)
    photo[:, :, 0] = np.linspace(0, 255, 400, dtype=np.uint8)[None, :]
    canvas.set_photo(photo, (400, 300))
    return canvas


def test_brush_stroke_marks_path_only_and_undoes(view, qtbot):
    view.set_tool("brush")
    view.set_brush_size(20)
    view.set_brush_feather(0.0)
    old = view.mask()
    with qtbot.waitSignal(view.stroke_finished) as blocker:
        drag(view, [(100, 150), (200, 150), (300, 150)])
    mask = view.mask()
    assert mask.shape == (300, 400) and mask.dtype == np.uint8
    assert (mask[150, 100:301] == 255).all()  # along the path
    assert (mask[150, 95:306] > 0).all()
    assert mask[:135].max() == 0 and mask[166:].max() == 0 and mask[:, :85].max() == 0 and mask[:, 316:].max() == 0
    edit = blocker.args[0]
    assert isinstance(edit, MaskEdit)
    assert edit.before.shape == edit.after.shape and edit.before.shape[0] <= 22  # only the touched box is kept
    owned = view.mask()  # what the owner of the array does on undo and redo: write the edit, then redraw
    write_edit(owned, edit, undo=True)
    np.testing.assert_array_equal(owned, old)
    write_edit(owned, edit)
    np.testing.assert_array_equal(owned, mask)


def test_exactly_one_stroke_finished_per_stroke(view, qtbot):
    view.set_tool("brush")
    edits = []
    view.stroke_finished.connect(edits.append)
    path = [(50, 50), (60, 70), (80, 90), (120, 100), (160, 110)]
    drag(view, path)
    assert len(edits) == 1
    drag(view, path)  # the same pixels again: nothing changes, nothing to undo
    assert len(edits) == 1


def test_fast_stroke_has_no_gaps(view):
    view.set_tool("brush")
    view.set_brush_size(4)
    drag(view, [(20, 40), (380, 260)])  # one jump across the photo
    mask = view.mask()
    for x in range(30, 370, 7):
        y = 40 + (x - 20) * 220 / 360
        assert mask[int(y), x] > 0, (x, y)


def test_real_qtest_press_paints_a_dab(view, qtbot):
    view.set_tool("brush")
    view.set_brush_size(10)
    pos = view.mapFromScene(QPointF(200, 100))
    qtbot.mousePress(view.viewport(), LEFT, pos=pos)
    qtbot.mouseRelease(view.viewport(), LEFT, pos=pos)
    assert view.mask()[100, 200] == 255 and view.mask().sum() < 255 * 150


def test_feathered_brush_falls_off_and_hard_brush_is_crisp(view):
    view.set_tool("brush")
    view.set_brush_size(40)
    view.set_brush_feather(1.0)
    drag(view, [(100, 100)])
    soft = view.mask()[100, 100:125]
    assert soft[0] == 255 and 0 < soft[12] < 255 and soft[22] == 0
    assert (np.diff(soft.astype(int)) <= 0).all()
    view.set_brush_feather(0.0)
    drag(view, [(300, 100)])
    hard = view.mask()[100, 300:325]
    assert (hard[:19] == 255).all() and (hard[21:] == 0).all()


def test_eraser_lowers_the_mask_along_the_path(view, qtbot):
    owned = np.full((300, 400), 255, np.uint8)
    view.attach_mask(owned)  # the document's array: the eraser paints into it
    view.set_tool("eraser")
    view.set_brush_size(16)
    view.set_brush_feather(0.0)
    with qtbot.waitSignal(view.stroke_finished) as blocker:
        drag(view, [(200, 50), (200, 250)])
    assert (owned[50:251, 200] == 0).all()
    assert (owned[:, :185] == 255).all() and (owned[:, 216:] == 255).all() and (owned[:35] == 255).all()
    np.testing.assert_array_equal(view.mask(), owned)
    write_edit(owned, blocker.args[0], undo=True)
    assert (view.mask() == 255).all()


def test_attach_mask_draws_the_owners_array_and_refuses_a_wrong_one(view, qtbot):
    with pytest.raises(ValueError, match="photo's size"):
        view.attach_mask(np.zeros((30, 40), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        view.attach_mask(np.zeros((300, 400), np.float32))
    owned = np.zeros((300, 400), np.uint8)
    with qtbot.waitSignal(view.mask_changed):
        view.attach_mask(owned)
    owned[10:20, 10:20] = 255
    with qtbot.waitSignal(view.mask_changed):
        view.refresh_mask((10, 10, 10, 10))
    assert view.mask()[15, 15] == 255 and view.mask().sum() == 255 * 100


def test_downscaled_display_copy_keeps_photo_coordinates(view):
    view.set_photo(np.zeros((750, 1000, 3), np.uint8), (4000, 3000))
    assert view.photo_size() == (4000, 3000)
    assert view.mask().shape == (3000, 4000)
    assert view.crop() == CropBox(500, 0, 3000)
    view.set_tool("brush")
    view.set_brush_size(60)
    drag(view, [(2000, 1500)])
    mask = view.mask()
    ys, xs = np.nonzero(mask == 255)
    assert abs(xs.mean() - 2000) < 8 and abs(ys.mean() - 1500) < 8  # within a screen pixel at this zoom
    assert mask[:1400].max() == 0 and mask[1600:].max() == 0


def test_brush_size_keys_wheel_and_clamp(view, qtbot):
    view.set_tool("brush")
    view.set_brush_size(40)
    with qtbot.waitSignal(view.brush_size_changed):
        key(view, QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, "]")
    assert view.brush_size() == pytest.approx(50)
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_BracketLeft, "[")
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_BracketLeft, "[")
    assert view.brush_size() == pytest.approx(32)
    zoom = view.zoom()
    wheel(view, (200, 150), 1, Qt.KeyboardModifier.AltModifier)
    assert view.brush_size() == pytest.approx(40) and view.zoom() == zoom  # Alt+wheel sizes the brush, no zoom
    view.set_brush_size(0.1)
    assert view.brush_size() == 1.0
    view.set_brush_size(1e6)
    assert view.brush_size() == 2000.0


# ---------------------------------------------------------------------------------------------------- crop
def test_crop_drag_moves_box_and_reports_once(view, qtbot):
    view.set_crop(CropBox(100, 50, 150))
    changing, changed = [], []
    view.crop_changing.connect(changing.append)
    view.crop_changed.connect(lambda old, new: changed.append((old, new)))
    drag(view, [(170, 120), (190, 130), (210, 140)])
    assert view.crop() == CropBox(140, 70, 150)
    assert changed == [(CropBox(100, 50, 150), CropBox(140, 70, 150))]
    assert changing[-1] == CropBox(140, 70, 150) and len(changing) >= 2
    drag(view, [(10, 10), (60, 60)])  # outside the box: nothing happens
    assert len(changed) == 1 and view.crop() == CropBox(140, 70, 150)


def test_crop_stays_inside_the_photo_when_dragged_off(view):
    view.set_crop(CropBox(100, 50, 150))
    drag(view, [(170, 120), (700, -400)])
    assert view.crop() == CropBox(250, 0, 150)


def test_crop_corner_resize_keeps_square_inside_and_minimum(view, qtbot):
    view.set_crop(CropBox(100, 50, 150))
    drag(view, [(250, 200), (300, 220)])  # bottom-right corner: the longer axis wins
    assert view.crop() == CropBox(100, 50, 200)
    drag(view, [(300, 250), (900, 900)])  # far outside: limited by the photo's bottom edge
    box = view.crop()
    assert box == CropBox(100, 50, 250)
    box.validate(400, 300)
    drag(view, [(100, 50), (400, 400)])  # top-left corner past the opposite one: minimum size
    assert view.crop() == CropBox(334, 284, 16)
    with pytest.raises(InvalidInputError):
        view.set_crop(CropBox(300, 0, 200))


def test_crop_is_not_dragged_with_the_brush(view):
    view.set_crop(CropBox(100, 50, 150))
    view.set_tool("brush")
    drag(view, [(170, 120), (210, 140)])
    assert view.crop() == CropBox(100, 50, 150)
    with pytest.raises(ValueError):
        view.set_tool("lasso")


# ---------------------------------------------------------------------------------------------------- zoom / pan
def test_wheel_zooms_about_the_cursor(view, qtbot):
    start = view.zoom()
    with qtbot.waitSignal(view.zoom_changed) as blocker:
        wheel(view, (300, 80), 2)
    assert blocker.args[0] == pytest.approx(view.zoom()) and view.zoom() == pytest.approx(start * 1.44)
    assert (QPointF(view.mapFromScene(QPointF(300, 80))) - view_pos(view, (300, 80))).manhattanLength() <= 2
    point = view.mapToScene(view.mapFromScene(QPointF(300, 80)))
    assert abs(point.x() - 300) < 2 and abs(point.y() - 80) < 2
    wheel(view, (300, 80), -4)
    assert view.zoom() < start


def test_fit_and_zoom_100(view, qtbot):
    with qtbot.waitSignal(view.zoom_changed) as blocker:
        view.zoom_100()
    assert blocker.args == [1.0] and view.zoom() == 1.0
    view.zoom_by(2.0)
    assert view.zoom() == 2.0
    view.fit()
    shown = view.mapFromScene(QPointF(0, 0)), view.mapFromScene(QPointF(400, 300))
    assert shown[0].x() >= 0 and shown[0].y() >= 0
    assert shown[1].x() <= view.viewport().width() and shown[1].y() <= view.viewport().height()
    assert view.zoom() == pytest.approx(min((800 - 48) / 400, (600 - 48) / 300), rel=0.02)


def test_space_drag_and_middle_drag_pan(view):
    view.zoom_by(4.0)
    before = view.mapToScene(view.viewport().rect().center())
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_Space, " ")
    view.set_tool("brush")
    drag(view, [(200, 150), (190, 140)])
    key(view, QEvent.Type.KeyRelease, Qt.Key.Key_Space, " ")
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() == pytest.approx(before.x() + 10, abs=1) and after.y() == pytest.approx(before.y() + 10, abs=1)
    assert view.mask().max() == 0  # panning does not paint
    drag(view, [(200, 150), (210, 150)], button=Qt.MouseButton.MiddleButton)
    assert view.mapToScene(view.viewport().rect().center()).x() == pytest.approx(after.x() - 10, abs=1)
    assert view.mask().max() == 0


# ---------------------------------------------------------------------------------------------------- compare
def test_compare_modes_and_held_backslash(view):
    result = view._result_item
    view.set_result(np.zeros((300, 400, 3), np.uint8))
    assert result.isVisible()
    view.set_compare("before")
    assert not result.isVisible()
    view.set_compare("split")
    view.set_split(0.25)
    assert result.isVisible() and view._result_clip.rect().left() == pytest.approx(100)
    view.grab()
    view.set_compare("after")
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_Backslash, "\\")
    assert not result.isVisible()
    key(view, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash, "\\", auto_repeat=True)  # auto-repeat: still held
    assert not result.isVisible()
    key(view, QEvent.Type.KeyRelease, Qt.Key.Key_Backslash, "\\")
    assert result.isVisible()
    view.set_result(np.zeros((30, 40, 3), np.uint8))  # a smaller result still covers the photo
    assert view._result_item.sceneBoundingRect().width() == pytest.approx(400)
    view.set_result(None)
    assert not result.isVisible()
    with pytest.raises(ValueError):
        view.set_compare("sideways")


def test_split_line_can_be_dragged(view, qtbot):
    view.set_result(np.zeros((300, 400, 3), np.uint8))
    view.set_compare("split")
    with qtbot.waitSignal(view.split_changed) as blocker:
        drag(view, [(200, 150), (300, 150)])
    assert blocker.args[0] == pytest.approx(0.75, abs=0.01) and view.split() == pytest.approx(0.75, abs=0.01)
    assert view.crop() == CropBox(50, 0, 300)  # grabbing the line did not move the crop


def test_screenshot_of_a_working_canvas(view, tmp_path):
    photo = load_photo(SAMPLE)
    view.set_photo(photo.pixels, (photo.width, photo.height))
    view.set_crop(CropBox(110, 20, 300))
    view.set_tool("brush")
    view.set_brush_size(36)
    drag(view, [(200, 420), (260, 450), (330, 440), (380, 460)])
    send_mouse(view, QEvent.Type.MouseMove, (420, 150), NONE, NONE)
    image = view.grab()
    assert not image.isNull() and image.save(str(tmp_path / "canvas.png"))
    assert view.mask()[440, 330] == 255


def test_canvas_keys_win_over_window_shortcuts(view, qtbot):
    from PySide6.QtGui import QAction, QKeySequence

    fired = []
    action = QAction("grow", view)
    action.setShortcut(QKeySequence("]"))
    action.triggered.connect(lambda: fired.append(True))
    view.addAction(action)
    view.setFocus()
    size = view.brush_size()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    assert view.brush_size() == pytest.approx(size * 1.25) and not fired
    view.clearFocus()  # focus loss releases a held key
    key(view, QEvent.Type.KeyPress, Qt.Key.Key_Backslash, "\\")
    view.focusOutEvent(QFocusEvent(QEvent.Type.FocusOut))
    assert not view._before_held


def test_mask_visibility_cursors_and_new_photo_mid_stroke(view):
    view.set_mask_visible(False)
    assert not view._mask_layer.isVisible()
    view.set_mask_visible(True)
    view.set_crop(CropBox(100, 50, 150))
    send_mouse(view, QEvent.Type.MouseMove, (175, 125), NONE, NONE)
    assert view.viewport().cursor().shape() == Qt.CursorShape.SizeAllCursor
    send_mouse(view, QEvent.Type.MouseMove, (250, 200), NONE, NONE)
    assert view.viewport().cursor().shape() == Qt.CursorShape.SizeFDiagCursor
    view.set_tool("eraser")
    assert view.viewport().cursor().shape() == Qt.CursorShape.BlankCursor  # the brush outline replaces it
    edits = []
    view.stroke_finished.connect(edits.append)
    view.set_tool("brush")
    send_mouse(view, QEvent.Type.MouseButtonPress, (100, 100))
    view.set_photo(np.zeros((100, 200, 3), np.uint8), (200, 100))
    send_mouse(view, QEvent.Type.MouseMove, (150, 50), NONE, LEFT)
    send_mouse(view, QEvent.Type.MouseButtonRelease, (150, 50), LEFT, NONE)
    assert edits == [] and view.mask().max() == 0  # the stroke on the old photo was dropped
