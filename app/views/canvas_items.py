"""The canvas's scene items drawn over the photo: mask overlay, crop box, split line, brush cursor.

Everything here works in photo pixel coordinates: pixel (col, row) covers [col, col + 1) × [row, row + 1), so its
centre is at (col + 0.5, row + 0.5). Decorations that must keep a constant size on screen (handles, knobs, labels)
are drawn in device coordinates after mapping their anchor points through the painter's world transform. The
arithmetic behind them (brush dabs, undo patches, crop geometry) lives in app.views.canvas_math.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QTransform,
    qRgba,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.views.canvas_math import (
    MIN_CROP,
    MaskEdit,
    MaskStroke,
    Rect,
    crop_corners,
    crop_grab,
    moved_crop,
    resized_crop,
)
from app.widgets.qimage import numpy_to_qimage
from core.imageio import CropBox

MASK_RGB = (235, 60, 50)  # overlay colour of brushed pixels
MASK_OPACITY = 0.5  # overlay alpha of a fully brushed pixel
HANDLE_PX = 9  # side of a crop corner handle, screen pixels
GRAB_PX = 10  # how close (screen pixels) the mouse must be to grab a crop corner or the split line


# ---------------------------------------------------------------------------------------------------- scene items
def _cosmetic(color: QColor | Qt.GlobalColor, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(color), width, style)
    pen.setCosmetic(True)
    return pen


class PhotoPixmapItem(QGraphicsPixmapItem):
    """A uint8 [h, w, 3] image of any resolution (display copy or full size) stretched over the photo's pixels;
    drawn smoothly when shrunk, with crisp pixels once one of its pixels covers 2+ screen pixels."""

    def show_pixels(self, pixels: np.ndarray | None, width: int, height: int) -> None:
        pixmap = QPixmap() if pixels is None else QPixmap.fromImage(numpy_to_qimage(pixels))
        self.setPixmap(pixmap)
        if not pixmap.isNull():
            self.setTransform(QTransform.fromScale(width / pixmap.width(), height / pixmap.height()))

    def set_view_scale(self, scale: float) -> None:
        smooth = scale * self.transform().m11() < 2.0
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation if smooth
                                   else Qt.TransformationMode.FastTransformation)


class ScreenSizedItem(QGraphicsItem):
    """An item with decorations of constant screen size; the view tells it the zoom so its bounds can cover them."""

    margin_px = 24.0

    def __init__(self) -> None:
        super().__init__()
        self.view_scale = 1.0

    def set_view_scale(self, scale: float) -> None:
        self.prepareGeometryChange()
        self.view_scale = scale

    def margin(self) -> float:
        return self.margin_px / max(self.view_scale, 1e-6)


class MaskLayerItem(QGraphicsItem):
    """The mask (uint8 [H, W] at full photo size, 255 = brushed) and its translucent red overlay.

    The overlay is an 8-bit indexed QImage over the mask's own memory (no copy) whose colour table maps 0..255 to
    transparent..red, so an edit only needs ``update(dirty rect)`` and a repaint reads just the exposed pixels.
    Every write therefore goes into ``self.mask`` in place; the array is only replaced by ``reset`` (a new photo)
    and ``attach`` (the document's own array).
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self._colors = [qRgba(*MASK_RGB, round(i * MASK_OPACITY)) for i in range(256)]
        self.smooth = True
        self.stroke: MaskStroke | None = None
        self.reset(0, 0)

    def reset(self, width: int, height: int) -> None:
        """An empty mask for a ``width`` × ``height`` photo."""
        self.prepareGeometryChange()
        self.mask = np.zeros((height, width), np.uint8)  # the image below points into this buffer
        self.stroke = None
        self._image = QImage(self.mask.data, width, height, width, QImage.Format.Format_Indexed8)
        self._image.setColorTable(self._colors)
        self.update()

    def attach(self, mask: np.ndarray) -> None:
        """Draw straight from ``mask`` (uint8 [H, W], C-contiguous, this photo's size): its owner writes into it."""
        if mask.dtype != np.uint8 or mask.shape != self.mask.shape or not mask.flags.c_contiguous:
            raise ValueError(f"The mask must be a C-contiguous uint8 array of the photo's size {self.mask.shape}, "
                             f"got {mask.dtype} {mask.shape}.")
        self.mask = mask
        self.stroke = None
        height, width = mask.shape
        self._image = QImage(self.mask.data, width, height, width, QImage.Format.Format_Indexed8)
        self._image.setColorTable(self._colors)
        self.update()

    def refresh(self, rect: Rect | None) -> None:
        if rect is None:
            self.update()
        else:
            self._update_rect(rect)

    def begin_stroke(self, point: tuple[float, float], diameter: float, feather: float, erase: bool) -> None:
        self.stroke = MaskStroke(self.mask, diameter / 2, feather, erase)
        self.stroke_to(point, point)

    def stroke_to(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        if self.stroke is not None:
            self._update_rect(self.stroke.add_segment(p0, p1))

    def end_stroke(self) -> MaskEdit | None:
        stroke, self.stroke = self.stroke, None
        return stroke.finish() if stroke is not None else None

    def _update_rect(self, rect: Rect | None) -> None:
        if rect is not None:
            self.update(QRectF(*rect))

    def set_view_scale(self, scale: float) -> None:
        self.smooth = scale < 2.0

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.mask.shape[1], self.mask.shape[0])

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        area = option.exposedRect.toAlignedRect().intersected(QRect(0, 0, self.mask.shape[1], self.mask.shape[0]))
        if not area.isEmpty():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
            painter.drawImage(QRectF(area), self._image, QRectF(area))


class AlignedSquareItem(QGraphicsPolygonItem):
    """The aligned face square the model sees: the model square's corners mapped back into photo pixels (turned
    and scaled), drawn with a screen-thin double line so it reads on light and dark photos alike."""

    def __init__(self) -> None:
        super().__init__()
        self.setPen(_cosmetic(QColor(80, 200, 255), 2.0))
        self.setVisible(False)

    def set_corners(self, corners: np.ndarray | None) -> None:
        """float [4, 2] photo pixels in drawing order, or None to hide the outline."""
        if corners is None:
            self.setPolygon(QPolygonF())
            self.setVisible(False)
            return
        self.setPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in corners]))
        self.setVisible(True)

    def corners(self) -> np.ndarray:
        polygon = self.polygon()
        return np.array([[polygon.at(i).x(), polygon.at(i).y()] for i in range(polygon.size())], np.float64)

    def set_view_scale(self, scale: float) -> None:
        pass  # the pen is cosmetic: nothing depends on the zoom


class CropItem(ScreenSizedItem):
    """The square crop: the photo darkened outside it, a two-tone dashed outline, and corner handles in crop mode.

    While the box is dragged it also shows rule-of-thirds guides and its size in pixels.
    """

    def __init__(self) -> None:
        super().__init__()
        self.photo = QRectF()
        self.box = CropBox(0, 0, 0)
        self.handles_visible = True
        self.interacting = False

    def set_geometry(self, photo: QRectF, box: CropBox) -> None:
        self.prepareGeometryChange()
        self.photo, self.box = photo, box
        self.update()

    def set_state(self, handles_visible: bool, interacting: bool) -> None:
        self.handles_visible, self.interacting = handles_visible, interacting
        self.update()

    def grab_at(self, scene_pos: QPointF) -> str | int | None:
        """The corner (0..3) whose handle is under ``scene_pos``, "move" inside the box, or None."""
        return crop_grab(self.box, scene_pos.x(), scene_pos.y(), GRAB_PX / max(self.view_scale, 1e-6))

    def dragged(self, grab: str | int, start: CropBox, delta: QPointF, scene_pos: QPointF) -> CropBox:
        """Where dragging ``grab`` of the ``start`` box by ``delta`` (moving) or to ``scene_pos`` (a corner) puts it."""
        w, h = round(self.photo.width()), round(self.photo.height())
        if grab == "move":
            return moved_crop(start, start.x + delta.x(), start.y + delta.y(), w, h)
        return resized_crop(start, int(grab), scene_pos.x(), scene_pos.y(), w, h, MIN_CROP)

    def boundingRect(self) -> QRectF:
        m = self.margin()
        return self.photo.adjusted(-m, -m, m, m)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.photo.isEmpty() or self.box.size < 1:
            return
        crop = QRectF(self.box.x, self.box.y, self.box.size, self.box.size)
        shade = QPainterPath()
        shade.setFillRule(Qt.FillRule.OddEvenFill)
        shade.addRect(self.photo)
        shade.addRect(crop)
        painter.fillPath(shade, QColor(0, 0, 0, 150 if self.handles_visible else 110))
        if self.interacting:
            painter.setPen(_cosmetic(QColor(255, 255, 255, 90)))
            for i in (1, 2):
                x, y = crop.left() + crop.width() * i / 3, crop.top() + crop.height() * i / 3
                painter.drawLine(QPointF(x, crop.top()), QPointF(x, crop.bottom()))
                painter.drawLine(QPointF(crop.left(), y), QPointF(crop.right(), y))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_cosmetic(QColor(0, 0, 0, 170), 1.0))
        painter.drawRect(crop)
        painter.setPen(_cosmetic(Qt.GlobalColor.white, 1.0, Qt.PenStyle.DashLine))
        painter.drawRect(crop)
        self._paint_screen_parts(painter, crop)

    def _paint_screen_parts(self, painter: QPainter, crop: QRectF) -> None:
        world = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.handles_visible:
            painter.setPen(QPen(QColor(20, 20, 20, 200), 1.0))
            painter.setBrush(Qt.GlobalColor.white)
            half = HANDLE_PX / 2
            for corner in crop_corners(self.box):
                c = world.map(QPointF(*corner))
                painter.drawRect(QRectF(c.x() - half, c.y() - half, HANDLE_PX, HANDLE_PX))
        screen = world.mapRect(crop)
        if self.interacting and screen.width() > 90:
            label = f"{self.box.size} × {self.box.size} px"
            draw_pill(painter, label, QPointF(screen.center().x(), screen.bottom() - 20))
        painter.restore()


def draw_pill(painter: QPainter, text: str, center: QPointF) -> None:
    """A small rounded dark label with white text centred on ``center`` (device coordinates)."""
    font = QFont(painter.font())
    font.setPointSizeF(9.0)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    w, h = metrics.horizontalAdvance(text) + 16, metrics.height() + 6
    rect = QRectF(center.x() - w / 2, center.y() - h / 2, w, h)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(20, 20, 20, 190))
    painter.drawRoundedRect(rect, h / 2, h / 2)
    painter.setPen(QColor(240, 240, 240))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


class SplitItem(ScreenSizedItem):
    """The before/after split: a vertical line across the photo with a round grip in the middle."""

    def __init__(self) -> None:
        super().__init__()
        self.line_x = 0.0  # not ``x``: that would hide QGraphicsItem.x()
        self.line_height = 0.0

    def set_line(self, x: float, height: float) -> None:
        self.prepareGeometryChange()
        self.line_x, self.line_height = x, height

    def boundingRect(self) -> QRectF:
        m = self.margin()
        return QRectF(self.line_x - m, 0, 2 * m, self.line_height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        top, bottom = QPointF(self.line_x, 0), QPointF(self.line_x, self.line_height)
        painter.setPen(_cosmetic(QColor(0, 0, 0, 110), 3.0))
        painter.drawLine(top, bottom)
        painter.setPen(_cosmetic(Qt.GlobalColor.white, 1.5))
        painter.drawLine(top, bottom)
        world = painter.worldTransform()
        visible = world.inverted()[0].mapRect(QRectF(painter.viewport())).intersected(QRectF(0, 0, 1, self.line_height))
        mid_y = (visible.top() + visible.bottom()) / 2 if visible.height() > 0 else self.line_height / 2
        c = world.map(QPointF(self.line_x, mid_y))
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1.0))
        painter.setBrush(Qt.GlobalColor.white)
        painter.drawEllipse(c, 12.0, 12.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(40, 40, 40))
        for side in (-1, 1):  # ◀ ▶ arrows
            tip = c.x() + side * 8.0
            painter.drawPolygon([QPointF(tip, c.y()), QPointF(tip - side * 4.5, c.y() - 4.5),
                                 QPointF(tip - side * 4.5, c.y() + 4.5)])
        painter.restore()


class BrushCursorItem(ScreenSizedItem):
    """The brush outline: a two-tone circle of the brush's diameter (dashed for the eraser) and a centre cross."""

    margin_px = 8.0

    def __init__(self) -> None:
        super().__init__()
        self.radius = 10.0
        self.erase = False
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_brush(self, diameter: float, erase: bool) -> None:
        self.prepareGeometryChange()
        self.radius, self.erase = diameter / 2, erase
        self.update()

    def boundingRect(self) -> QRectF:
        r = self.radius + self.margin()
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        painter.setPen(_cosmetic(QColor(0, 0, 0, 150), 3.0))
        painter.drawEllipse(QPointF(0, 0), self.radius, self.radius)
        style = Qt.PenStyle.DashLine if self.erase else Qt.PenStyle.SolidLine
        painter.setPen(_cosmetic(Qt.GlobalColor.white, 1.2, style))
        painter.drawEllipse(QPointF(0, 0), self.radius, self.radius)
        arm = 4.0 / max(self.view_scale, 1e-6)
        for color, width in ((QColor(0, 0, 0, 150), 3.0), (Qt.GlobalColor.white, 1.0)):
            painter.setPen(_cosmetic(color, width))
            painter.drawLine(QPointF(-arm, 0), QPointF(arm, 0))
            painter.drawLine(QPointF(0, -arm), QPointF(0, arm))


def paint_photo_shadow(painter: QPainter, photo: QRectF) -> None:
    """A soft drop shadow under the photo (``photo`` in device coordinates) that lifts it off the canvas."""
    painter.save()
    painter.resetTransform()
    painter.setPen(Qt.PenStyle.NoPen)
    for grow, alpha in ((1, 90), (3, 45), (6, 25), (10, 12)):
        painter.setBrush(QColor(0, 0, 0, alpha))
        painter.drawRoundedRect(photo.adjusted(-grow, -grow + 2, grow, grow + 2), grow, grow)
    painter.restore()


def paint_compare_labels(painter: QPainter, photo: QRectF, split: bool, fraction: float) -> None:
    """"Before" (and "After" beside the split line) pinned near the top of the visible photo (device coordinates)."""
    top = max(photo.top(), 0.0) + 18
    painter.save()
    painter.resetTransform()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if split:
        line_x = photo.left() + fraction * photo.width()
        draw_pill(painter, "Before", QPointF(line_x - 40, top))
        draw_pill(painter, "After", QPointF(line_x + 36, top))
    else:
        draw_pill(painter, "Before", QPointF(max(photo.left(), 0.0) + 40, top))
    painter.restore()
