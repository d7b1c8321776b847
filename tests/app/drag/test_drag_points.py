"""The Drag tool on the real canvas: points placed, moved and removed by mouse and keys, kept inside the model's
square, and mapped to the fractions of the square the engine takes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt

from app.drag.controller import square_points
from tests.app.events import drag, key, send_mouse

RIGHT, NONE = Qt.MouseButton.RightButton, Qt.MouseButton.NoButton


def click(view, scene, button=Qt.MouseButton.LeftButton):
    send_mouse(view, QEvent.Type.MouseButtonPress, scene, button, button)
    send_mouse(view, QEvent.Type.MouseButtonRelease, scene, button, NONE)


def drag_tool(window):
    """Edit → Drag Points, as the user chooses it."""
    found = [a for a in window.all_actions() if a.text().replace("&", "") == "Drag Points"]
    assert len(found) == 1
    found[0].trigger()
    assert window.canvas.tool() == "drag"
    return window.canvas


def near(a, b):
    """Within a screen pixel: events carry the scene point rounded to the screen's pixels."""
    return np.allclose(a, b, atol=1.5)


def inside(window, fx, fy):
    """The photo pixel at fractions (fx, fy) of the crop box."""
    box = window.canvas.crop()
    return box.x + fx * box.size, box.y + fy * box.size


def test_the_drag_tool_has_a_key_a_menu_entry_and_a_panel(window):
    tool = next(a for a in window.toolbar.tool_actions if a.text() == "Drag")
    assert tool.shortcut().toString() == "D" and len(window.toolbar.tool_actions) == 4
    keys = [a.shortcut().toString() for a in window.all_actions() if not a.shortcut().isEmpty()]
    assert keys.count("D") == 1  # no other action claims the key
    drag_tool(window)
    assert window.docks["drag"].isVisible() and tool.isChecked()
    assert window.drag.panel.steps.value() == 120 and not window.drag.panel.masked.isEnabled()  # nothing brushed


def test_click_places_a_handle_then_its_target_inside_the_square(window, qtbot):
    canvas = drag_tool(window)
    handle, target = inside(window, 0.5, 0.5), inside(window, 0.5, 0.25)
    click(canvas, handle)
    (h, t), = canvas.drag_points()
    assert near(h, handle) and t is None
    assert "needs its target" in window.drag.panel.points.text()
    click(canvas, target)
    (h, t), = canvas.drag_points()
    assert near(h, handle) and near(t, target)
    assert window.drag.panel.points.text() == "1 pair ready."
    point, = square_points(window.controller.placement, canvas.drag_points())
    assert np.allclose(point.handle, (0.5, 0.5), atol=0.01) and np.allclose(point.target, (0.5, 0.25), atol=0.01)
    box = canvas.crop()
    with qtbot.waitSignal(window.controller.status_changed) as said:
        click(canvas, (box.x + box.size + 5, box.y + 5) if box.x + box.size + 5 < 512 else (box.x - 5, box.y + 5))
    assert "inside the model's square" in said.args[0] and len(canvas.drag_points()) == 1


def test_points_move_and_go_with_right_click_and_backspace(window):
    canvas = drag_tool(window)
    handle, target = inside(window, 0.4, 0.6), inside(window, 0.6, 0.6)
    drag(canvas, [handle, inside(window, 0.5, 0.6), target])  # press on the face, pull out the target
    (h, t), = canvas.drag_points()
    assert near(h, handle) and near(t, target)
    moved = inside(window, 0.6, 0.3)
    drag(canvas, [target, inside(window, 0.6, 0.45), moved])  # grab the target and move it
    (h, t), = canvas.drag_points()
    assert near(h, handle) and near(t, moved)
    box = canvas.crop()
    drag(canvas, [handle, (box.x - 50, box.y - 50)])  # a point is never dragged out of the square
    assert near(canvas.drag_points()[0][0], handle)
    click(canvas, inside(window, 0.3, 0.3))
    assert len(canvas.drag_points()) == 2
    click(canvas, inside(window, 0.9, 0.9), Qt.MouseButton.RightButton)  # right click: the last point goes
    assert len(canvas.drag_points()) == 1
    click(canvas, inside(window, 0.2, 0.2), Qt.MouseButton.RightButton)  # then the last target
    assert canvas.drag_points() == [(canvas.drag_points()[0][0], None)]
    canvas.setFocus()
    key(canvas, QEvent.Type.KeyPress, Qt.Key.Key_Backspace)
    assert canvas.drag_points() == [] and window.drag.panel.points.text() == "No points yet."


def test_clear_points_and_other_tools_leave_the_points_alone(window):
    canvas = drag_tool(window)
    click(canvas, inside(window, 0.5, 0.5))
    click(canvas, inside(window, 0.5, 0.4))
    canvas.set_tool("brush")
    click(canvas, inside(window, 0.5, 0.5))  # a brush dab, not a point
    assert len(canvas.drag_points()) == 1 and window.controller.mask.any()
    assert window.drag.panel.masked.isEnabled()  # something is brushed now
    window.drag.panel.clear_button.click()
    assert canvas.drag_points() == [] and not window.drag.panel.clear_button.isEnabled()
