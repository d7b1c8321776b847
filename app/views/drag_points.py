"""The drag tool's points on the canvas: handle (red) and target (blue) pairs joined by an arrow.

Points are kept in photo pixels (the scene's units), so they stay on the face however the view zooms; the dots,
rings and arrow heads keep one size on screen, as the crop handles do. The item owns the editing rules too
(place a handle, then its target; grab and move a point; remove the last one) so the canvas's mouse code stays a
dispatcher. Only points inside the model's square are accepted: the drag can move nothing outside it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from app.views.canvas_items import ScreenSizedItem, draw_pill
from core.drag.points import MAX_POINTS

Point = tuple[float, float]  # (x, y) photo pixels
DragPair = tuple[Point, Point | None]  # (handle, target or None while the target is still to be placed)

HANDLE_RGB = QColor(235, 64, 52)
TARGET_RGB = QColor(52, 120, 235)
DOT_PX = 6.0  # radius of a point's dot, screen pixels
ARROW_PX = 10.0  # length of the arrow head, screen pixels
OUTSIDE = "Place drag points inside the model's square (the outlined box): the drag moves only what the model sees."
TOO_MANY = f"A drag takes at most {MAX_POINTS} point pairs: remove one (Backspace) or Clear Points first."


class DragPointsItem(ScreenSizedItem):
    """The pairs, drawn and edited. ``grabbed`` is (pair index, 0 handle | 1 target) while a point is dragged."""

    margin_px = DOT_PX + 4.0

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[DragPair] = []
        self.grabbed: tuple[int, int] | None = None
        self.locked = False  # while a drag runs: the handles follow the engine, the user does not move them
        self.square = QPolygonF()  # the model's square in photo pixels: points are accepted only inside it
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    # -- editing -----------------------------------------------------------------------------------------------
    def set_pairs(self, pairs: list[DragPair]) -> None:
        self.prepareGeometryChange()
        self.pairs = [((float(h[0]), float(h[1])), None if t is None else (float(t[0]), float(t[1])))
                      for h, t in pairs]
        self.grabbed = None
        self.update()

    def inside(self, pos: QPointF) -> bool:
        return self.square.containsPoint(pos, Qt.FillRule.OddEvenFill)

    def grab_at(self, pos: QPointF, reach: float) -> tuple[int, int] | None:
        """The point nearest ``pos`` within ``reach`` photo pixels, as (pair, 0 handle | 1 target), or None."""
        best, found = reach, None
        for index, pair in enumerate(self.pairs):
            for end, point in enumerate(pair):
                if point is not None:
                    distance = math.hypot(point[0] - pos.x(), point[1] - pos.y())
                    if distance <= best:
                        best, found = distance, (index, end)
        return found

    def place(self, pos: QPointF) -> str | None:
        """A click with the drag tool: the target of the last pair if it has none, else a new handle. Returns why
        nothing was placed, or None."""
        if not self.inside(pos):
            return OUTSIDE
        point = (pos.x(), pos.y())
        self.prepareGeometryChange()
        if self.pairs and self.pairs[-1][1] is None:
            self.pairs[-1] = (self.pairs[-1][0], point)
        elif len(self.pairs) >= MAX_POINTS:
            return TOO_MANY
        else:
            self.pairs.append((point, None))
        self.update()
        return None

    def move_grabbed(self, pos: QPointF) -> bool:
        """Move the grabbed point to ``pos`` (kept where it was when ``pos`` lies outside the square)."""
        if self.grabbed is None or not self.inside(pos):
            return False
        index, end = self.grabbed
        handle, target = self.pairs[index]
        point = (pos.x(), pos.y())
        self.prepareGeometryChange()
        self.pairs[index] = (point, target) if end == 0 else (handle, point)
        self.update()
        return True

    def remove_last(self) -> bool:
        """Remove the last placed point (a target first, then its handle); False when there is none."""
        if not self.pairs:
            return False
        self.prepareGeometryChange()
        handle, target = self.pairs[-1]
        if target is not None:
            self.pairs[-1] = (handle, None)
        else:
            self.pairs.pop()
        self.grabbed = None
        self.update()
        return True

    # -- drawing -----------------------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        points = [p for pair in self.pairs for p in pair if p is not None]
        if not points:
            return QRectF()
        xs, ys, m = [p[0] for p in points], [p[1] for p in points], self.margin()
        return QRectF(min(xs) - m, min(ys) - m, max(xs) - min(xs) + 2 * m, max(ys) - min(ys) + 2 * m)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        world = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for number, (handle, target) in enumerate(self.pairs, 1):
            h = world.map(QPointF(*handle))
            t = None if target is None else world.map(QPointF(*target))
            if t is not None and math.hypot(t.x() - h.x(), t.y() - h.y()) < DOT_PX:
                _ring(painter, t)  # arrived: the handle sits in its target's ring
            elif t is not None:
                _arrow(painter, h, t)
                _dot(painter, t, TARGET_RGB)
            _dot(painter, h, HANDLE_RGB)
            if len(self.pairs) > 1:
                draw_pill(painter, str(number), _label_at(h, t))
        painter.restore()


def _label_at(handle: QPointF, target: QPointF | None) -> QPointF:
    """Where a pair's number goes: behind its handle, away from the arrow, so it never covers the target."""
    dx, dy = (0.0, 0.0) if target is None else (target.x() - handle.x(), target.y() - handle.y())
    length = math.hypot(dx, dy)
    ux, uy = (dx / length, dy / length) if length > 1 else (-0.7, 0.7)  # no arrow yet: below left
    reach = DOT_PX + 18.0
    return QPointF(handle.x() - ux * reach, handle.y() - uy * reach)


def _dot(painter: QPainter, center: QPointF, color: QColor) -> None:
    """A coloured dot in a white ring with a dark outline: it reads on skin, hair and background alike."""
    painter.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
    painter.setBrush(Qt.GlobalColor.white)
    painter.drawEllipse(center, DOT_PX + 2.0, DOT_PX + 2.0)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(center, DOT_PX, DOT_PX)


def _ring(painter: QPainter, center: QPointF) -> None:
    """The target drawn as a ring around a handle that reached it."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for color, width in ((QColor(0, 0, 0, 160), 5.0), (TARGET_RGB, 3.0)):
        painter.setPen(QPen(color, width))
        painter.drawEllipse(center, DOT_PX + 5.0, DOT_PX + 5.0)


def _arrow(painter: QPainter, start: QPointF, end: QPointF) -> None:
    """A white arrow with a dark outline from ``start`` to the edge of the dot at ``end`` (device pixels)."""
    dx, dy = end.x() - start.x(), end.y() - start.y()
    length = math.hypot(dx, dy)
    if length < 2 * DOT_PX + 2:
        return  # the dots touch: an arrow would only clutter them
    ux, uy = dx / length, dy / length
    tip = QPointF(end.x() - ux * (DOT_PX + 2), end.y() - uy * (DOT_PX + 2))
    base = QPointF(tip.x() - ux * ARROW_PX, tip.y() - uy * ARROW_PX)
    wing = ARROW_PX * 0.5
    head = QPolygonF([tip, QPointF(base.x() - uy * wing, base.y() + ux * wing),
                      QPointF(base.x() + uy * wing, base.y() - ux * wing)])
    begin = QPointF(start.x() + ux * DOT_PX, start.y() + uy * DOT_PX)
    for color, width in ((QColor(0, 0, 0, 150), 4.0), (QColor(255, 255, 255), 2.0)):
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.setBrush(color)
        painter.drawLine(begin, base)
        painter.drawPolygon(head)
