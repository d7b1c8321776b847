"""Real input events for GUI tests: mouse drags, wheel and keys sent to a graphics view's viewport."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsView

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton


def view_pos(view: QGraphicsView, scene: tuple[float, float]) -> QPointF:
    return QPointF(view.mapFromScene(QPointF(*scene)))


def send_mouse(view, kind, scene, button=LEFT, buttons=LEFT, modifiers=Qt.KeyboardModifier.NoModifier):
    pos = view_pos(view, scene)
    event = QMouseEvent(kind, pos, view.viewport().mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(view.viewport(), event)


def drag(view, points, button=LEFT):
    """Press at the first scene point, move through the rest with the button held, release at the last."""
    send_mouse(view, QEvent.Type.MouseButtonPress, points[0], button, button)
    for point in points[1:]:
        send_mouse(view, QEvent.Type.MouseMove, point, NONE, button)
    send_mouse(view, QEvent.Type.MouseButtonRelease, points[-1], button, NONE)


def wheel(view, scene, notches=1, modifiers=Qt.KeyboardModifier.NoModifier):
    pos = view_pos(view, scene)
    event = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 120 * notches), NONE, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def key(view, kind, which, text="", auto_repeat=False):
    QApplication.sendEvent(view, QKeyEvent(kind, which, Qt.KeyboardModifier.NoModifier, text, auto_repeat))
