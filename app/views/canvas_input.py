"""Mouse, wheel and key handling of the photo canvas: the crop drag, brush strokes, drag points, split drag,
panning, zooming about the cursor, brush resizing and the held keys (Space pans, \\ shows the photo before the
edit). The drag tool: a click places a handle, the next its target (or press on the handle and pull to its
target); a point can be grabbed and moved; right click, Backspace or Delete remove the last point.

Kept apart from :mod:`app.views.canvas` so the view's public API (photo, crop, mask, compare, zoom) reads on its own.
:class:`CanvasInputMixin` is mixed into ``CanvasView`` ahead of ``QGraphicsView`` so that its event handlers override
Qt's; the state it reads and writes (``_drag``, ``_last``, ``_space_held``, the scene items, …) is created by
``CanvasView.__init__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent, QMouseEvent, QNativeGestureEvent, QWheelEvent

from app.views.canvas_items import GRAB_PX

if TYPE_CHECKING:
    from PySide6.QtCore import Signal
    from PySide6.QtWidgets import QGraphicsView

    from app.views.canvas_items import BrushCursorItem, CropItem, MaskLayerItem, SplitItem
    from app.views.drag_points import DragPointsItem
    from core.imageio import CropBox

    _ViewBase = QGraphicsView  # what the mixin is mixed into, as the type checker should see it
else:
    _ViewBase = object

BRUSH_STEP = 1.25  # per [ ] key press or wheel notch
ZOOM_STEP = 1.2  # per wheel notch (120 eighths of a degree)
CURSORS = {"pan": Qt.CursorShape.ClosedHandCursor, "move": Qt.CursorShape.SizeAllCursor,
           "point": Qt.CursorShape.ClosedHandCursor, "new-target": Qt.CursorShape.CrossCursor,
           "grab": Qt.CursorShape.OpenHandCursor,
           "split": Qt.CursorShape.SplitHCursor, 0: Qt.CursorShape.SizeFDiagCursor, 2: Qt.CursorShape.SizeFDiagCursor,
           1: Qt.CursorShape.SizeBDiagCursor, 3: Qt.CursorShape.SizeBDiagCursor}


class CanvasInputMixin(_ViewBase):
    """What the user does with the mouse and keyboard on ``CanvasView``; reports it through the view's signals."""

    # The state, signals and methods of ``CanvasView`` used here, declared for the type checker only (no runtime
    # effect: bare annotations create no attributes).
    _size: tuple[int, int]
    _crop: CropBox
    _tool: str
    _split: float
    _brush_size: float
    _feather: float
    _space_held: bool
    _before_held: bool
    _drag: str | int | None
    _drag_button: Qt.MouseButton
    _drag_start: tuple[QPointF, CropBox]
    _last: QPointF
    _mask_layer: MaskLayerItem
    _crop_item: CropItem
    _split_item: SplitItem
    _cursor_item: BrushCursorItem
    _points_item: DragPointsItem
    crop_changing: Signal
    crop_changed: Signal
    stroke_finished: Signal
    mask_changed: Signal
    split_changed: Signal
    drag_points_changed: Signal
    drag_point_refused: Signal

    if TYPE_CHECKING:
        def set_crop(self, box: CropBox) -> None: ...
        def set_split(self, fraction: float) -> None: ...
        def set_brush_size(self, px: float) -> None: ...
        def zoom(self) -> float: ...
        def _apply_zoom(self, scale: float, anchor: QPointF | None) -> None: ...
        def _sync_compare(self) -> None: ...

    # ------------------------------------------------------------------------------------------------ cursor
    def _update_cursor(self, hover: str | int | None) -> None:
        shape = {"brush": Qt.CursorShape.BlankCursor, "eraser": Qt.CursorShape.BlankCursor,
                 "drag": Qt.CursorShape.CrossCursor}.get(self._tool, Qt.CursorShape.ArrowCursor)
        if self._space_held:
            shape = Qt.CursorShape.OpenHandCursor
        if self._drag is not None or hover is not None:
            shape = CURSORS.get(self._drag if self._drag is not None else hover, shape)
        self.viewport().setCursor(shape)

    # ------------------------------------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos, button = event.position(), event.button()
        scene_pos = self._to_scene(pos)
        event.accept()
        if self._size[0] < 1 or self._drag is not None:
            return
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._drag, self._last = "pan", pos
        elif button == Qt.MouseButton.RightButton and self._tool == "drag":
            self._remove_last_point()
            return
        elif button != Qt.MouseButton.LeftButton:
            return
        elif self._near_split(pos):
            self._drag = "split"
        elif self._tool == "crop":
            self._drag = self._crop_item.grab_at(scene_pos) if self._crop_item.isVisible() else None
            self._crop_item.set_state(handles_visible=True, interacting=self._drag is not None)
        elif self._tool == "drag":
            self._drag = self._press_point(scene_pos)
        else:
            self._drag, self._last = "stroke", scene_pos
            point = (scene_pos.x(), scene_pos.y())
            self._mask_layer.begin_stroke(point, self._brush_size, self._feather, self._tool == "eraser")
        self._drag_button, self._drag_start = button, (scene_pos, self._crop)
        self._update_cursor(None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        scene_pos = self._to_scene(pos)
        self._cursor_item.setPos(scene_pos)
        event.accept()
        if self._drag == "pan":
            delta, self._last = pos - self._last, pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
        elif self._drag == "stroke":
            self._mask_layer.stroke_to((self._last.x(), self._last.y()), (scene_pos.x(), scene_pos.y()))
            self._last = scene_pos
        elif self._drag == "split":
            self.set_split(scene_pos.x() / self._size[0])
            self.split_changed.emit(self._split)
        elif self._drag in ("point", "new-target"):
            self._move_point(scene_pos)
        elif self._drag is not None:
            start, box = self._drag_start
            new = self._crop_item.dragged(self._drag, box, scene_pos - start, scene_pos)
            if new != self._crop:
                self.set_crop(new)
                self.crop_changing.emit(new)
        elif self._size[0] > 0:
            hover: str | int | None = "split" if self._near_split(pos) else None
            if hover is None and self._tool == "crop" and self._crop_item.isVisible():
                hover = self._crop_item.grab_at(scene_pos)
            elif hover is None and self._tool == "drag" and self._points_item.grab_at(scene_pos, self._reach()):
                hover = "grab"
            self._update_cursor(hover)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and event.button() == self._drag_button:
            self._end_drag()
            self._update_cursor(None)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.mousePressEvent(event)  # a quick second click is another press (a dab), not a special gesture

    def _to_scene(self, pos: QPointF) -> QPointF:
        """View position → scene (photo pixel) position, keeping the sub-pixel part."""
        return self.viewportTransform().inverted()[0].map(pos)

    def _near_split(self, pos: QPointF) -> bool:
        if not self._split_item.isVisible():
            return False
        line_x = self.mapFromScene(QPointF(self._split * self._size[0], 0)).x()
        return abs(pos.x() - line_x) <= GRAB_PX * 0.6

    def _end_drag(self) -> None:
        """Finish whatever the mouse was doing and report it once (stroke → stroke_finished, crop → crop_changed)."""
        drag, self._drag = self._drag, None
        if drag in ("point", "new-target"):
            self._points_item.grabbed = None
            self.drag_points_changed.emit()
        elif drag == "stroke":
            edit = self._mask_layer.end_stroke()
            if edit is not None:
                self.stroke_finished.emit(edit)
                self.mask_changed.emit()
        elif drag == "move" or isinstance(drag, int):
            self._crop_item.set_state(handles_visible=self._tool == "crop", interacting=False)
            old = self._drag_start[1]
            if old != self._crop:
                self.crop_changed.emit(old, self._crop)

    # ------------------------------------------------------------------------------------------------ drag points
    def _reach(self) -> float:
        """How near (photo pixels) a click must be to grab a point: GRAB_PX on screen at any zoom."""
        return GRAB_PX / max(self.zoom(), 1e-6)

    def _press_point(self, scene_pos: QPointF) -> str | None:
        """A left press of the drag tool: grab the point under it, else place one (a handle can be pulled out to
        its target at once). Returns the drag it starts."""
        item = self._points_item
        if item.locked:
            self.drag_point_refused.emit("The drag is running: Stop it to change the points.")
            return None
        item.grabbed = item.grab_at(scene_pos, self._reach())
        if item.grabbed is not None:
            return "point"
        had_open_target = bool(item.pairs) and item.pairs[-1][1] is None
        refused = item.place(scene_pos)
        if refused is not None:
            self.drag_point_refused.emit(refused)
            return None
        if had_open_target:  # this click placed a target: it can still be dragged where it should be
            item.grabbed = (len(item.pairs) - 1, 1)
            return "point"
        return "new-target"  # a new handle: pulling away from it draws its target

    def _move_point(self, scene_pos: QPointF) -> None:
        item = self._points_item
        if self._drag == "new-target":
            start = self._drag_start[0]
            if (scene_pos - start).manhattanLength() < self._reach() or not item.inside(scene_pos):
                return
            item.place(scene_pos)  # the pulled-out target
            item.grabbed, self._drag = (len(item.pairs) - 1, 1), "point"
            self._update_cursor(None)
        item.move_grabbed(scene_pos)

    def _remove_last_point(self) -> None:
        if self._points_item.locked:
            self.drag_point_refused.emit("The drag is running: Stop it to change the points.")
        elif self._points_item.remove_last():
            self.drag_points_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()  # Alt turns the wheel horizontal on some systems
        if delta and event.modifiers() & Qt.KeyboardModifier.AltModifier:
            self.set_brush_size(self._brush_size * BRUSH_STEP ** (delta / 120))
        elif delta and self._size[0] > 0:
            self._apply_zoom(self.zoom() * ZOOM_STEP ** (delta / 120), event.position())
        event.accept()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.NativeGesture:
            gesture = cast(QNativeGestureEvent, event)  # PySide6 delivers it as its QEvent subclass
            if gesture.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self._apply_zoom(self.zoom() * (1.0 + gesture.value()), gesture.position())  # trackpad pinch
                return True
        if event.type() == QEvent.Type.Leave:
            self._cursor_item.hide()
        elif event.type() == QEvent.Type.Enter:
            self._cursor_item.setVisible(self._tool in ("brush", "eraser"))
        return super().viewportEvent(event)

    # ------------------------------------------------------------------------------------------------ keys
    _KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Backslash, Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            key_event = cast(QKeyEvent, event)  # PySide6 delivers it as its QEvent subclass
            if key_event.key() in self._KEYS and not key_event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier:
                event.accept()  # these keys belong to the canvas while it has focus, even if a menu action uses them
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._key(event, pressed=True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._key(event, pressed=False):
            super().keyReleaseEvent(event)

    def _key(self, event: QKeyEvent, pressed: bool) -> bool:
        """[ ] resize the brush (auto-repeat welcome); Space and \\ act while held (auto-repeat ignored); with the
        drag tool Backspace and Delete remove the last point."""
        key = event.key()
        if key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete) and self._tool == "drag":
            if pressed:
                self._remove_last_point()
            return True
        if key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            if pressed:
                self.set_brush_size(self._brush_size * BRUSH_STEP ** (1 if key == Qt.Key.Key_BracketRight else -1))
            return True
        if key not in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
            return False
        if not event.isAutoRepeat():
            self._set_held(key, pressed)
        return True

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._set_held(Qt.Key.Key_Space, False)  # a release we never see must not leave a key stuck down
        self._set_held(Qt.Key.Key_Backslash, False)
        super().focusOutEvent(event)

    def _set_held(self, key: int, held: bool) -> None:
        if key == Qt.Key.Key_Space:
            self._space_held = held
            self._update_cursor(None)
        elif held != self._before_held:
            self._before_held = held
            self._sync_compare()
