"""The photo canvas: zoom and pan, the square crop, the mask brush and eraser, drag points, before/after comparison.

Scene units are full-resolution photo pixels even when the pixmap on screen is a smaller display copy (its item is
scaled up to the photo's size), so crop boxes and mask coordinates never depend on how the photo is displayed.
The mask is kept at full resolution as uint8 [H, W] (255 = brushed) and drawn straight from that array.

Mouse: wheel zooms about the cursor, Alt+wheel resizes the brush, Space+drag or middle-drag pans. Keys: [ and ]
resize the brush, \\ held shows the photo before the edit. Those handlers live in :mod:`app.views.canvas_input`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap, QPolygonF, QResizeEvent, QTransform
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from app.views.canvas_input import CanvasInputMixin
from app.views.canvas_items import (
    AlignedSquareItem,
    BrushCursorItem,
    CropItem,
    MaskLayerItem,
    PhotoPixmapItem,
    SplitItem,
    paint_compare_labels,
    paint_photo_shadow,
)
from app.views.canvas_math import MaskEdit, fit_scale, scene_margins
from app.views.drag_points import DragPair, DragPointsItem
from app.widgets.qimage import numpy_to_qimage
from core.imageio import CropBox

__all__ = ["CanvasView", "MaskEdit"]

TOOLS = ("crop", "brush", "eraser", "drag")
PAINTING = ("brush", "eraser")  # the tools that show the brush outline instead of the mouse pointer
COMPARE_MODES = ("after", "before", "split")
BRUSH_RANGE = (1.0, 2000.0)  # diameter, photo pixels
ZOOM_RANGE = (0.005, 64.0)
FIT_PADDING = 24  # screen pixels around the photo after fit()
BACKGROUND = QColor(30, 30, 32)


class CanvasView(CanvasInputMixin, QGraphicsView):
    """The editor's central canvas. Programmatic setters (set_crop, set_photo, …) do not emit the *_changing /
    crop_changed / stroke_finished signals; those report what the user did, with old and new values for undo."""

    crop_changing = Signal(object)  # CropBox, live while the user drags or resizes the box
    crop_changed = Signal(object, object)  # (old CropBox, new CropBox) on mouse release, only if it changed
    stroke_finished = Signal(object)  # MaskEdit of one press→release brush/eraser stroke that changed the mask
    mask_changed = Signal()  # the drawn mask changed (a stroke, a new array, or its owner's change)
    zoom_changed = Signal(float)  # view scale, 1.0 = one photo pixel per screen pixel
    brush_size_changed = Signal(float)  # diameter in photo pixels (also from [ ] keys and Alt+wheel)
    split_changed = Signal(float)  # split position 0..1, when the user drags the split line
    painted = Signal()  # a frame was drawn (end of a paint): when new pixels reached the screen
    drag_points_changed = Signal()  # the user placed, moved or removed a drag point (on release, once)
    drag_point_refused = Signal(str)  # why a click of the drag tool placed nothing (outside the square, …)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self._photo_item = PhotoPixmapItem()
        self._result_clip = QGraphicsRectItem()  # clips the result to the "after" side of the split
        self._result_clip.setPen(Qt.PenStyle.NoPen)
        self._result_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self._result_item = PhotoPixmapItem(self._result_clip)
        self._patch_item = PhotoPixmapItem(self._result_clip)  # a live edit of the crop, over the result
        self._mask_layer = MaskLayerItem()
        self._crop_item = CropItem()
        self._aligned_item = AlignedSquareItem()  # replaces the crop box while a face alignment is used
        self._split_item = SplitItem()
        self._cursor_item = BrushCursorItem()
        self._points_item = DragPointsItem()
        items = (self._photo_item, self._result_clip, self._mask_layer, self._crop_item, self._aligned_item,
                 self._points_item, self._split_item, self._cursor_item)
        for z, item in enumerate(items):
            item.setZValue(z)
            self.scene().addItem(item)
        self._size = (0, 0)  # full photo (width, height)
        self._crop = CropBox(0, 0, 0)
        self._drag_corners: np.ndarray | None = None  # the square drag points must lie in (None: the shown one)
        self._has_result = self._has_patch = False
        self._tool, self._compare, self._split = "crop", "after", 0.5
        self._brush_size, self._feather = 40.0, 0.5
        self._before_held = self._space_held = False
        self._fit_mode = True  # refit on resize until the user zooms
        self._drag: str | int | None = None  # "pan" | "move" | "stroke" | "split" | "point" | corner index 0..3
        self._drag_button = Qt.MouseButton.NoButton  # the button that started the drag; its release ends it
        self._drag_start = (QPointF(), CropBox(0, 0, 0))  # (scene pos, crop) at the press
        self._last = QPointF()  # last view pos (pan) or scene pos (stroke)
        self._sync_tool()
        self._sync_compare()

    # ------------------------------------------------------------------------------------------------ photo
    def set_photo(self, pixels: np.ndarray, full_size: tuple[int, int]) -> None:
        """Show uint8 [h, w, 3] ``pixels`` (the photo or a smaller display copy) as a ``full_size`` (width, height)
        photo. Clears the mask and the result, centres the crop and fits the view."""
        width, height = int(full_size[0]), int(full_size[1])
        if width < 1 or height < 1:
            raise ValueError(f"The photo size must be positive, got {full_size}.")
        self._drag = None  # a drag on the old photo is dropped, not reported: its undo data would not apply
        self._photo_item.show_pixels(pixels, width, height)
        self._size = (width, height)
        self._mask_layer.reset(width, height)
        self._crop = CropBox.centered(width, height)
        self._crop_item.set_geometry(self._photo_rect(), self._crop)
        self.set_aligned_square(None)
        self.set_drag_points([])
        self.set_result(None)
        self._sync_tool()
        self.fit()

    def photo_size(self) -> tuple[int, int]:
        return self._size

    def _photo_rect(self) -> QRectF:
        return QRectF(0, 0, *self._size)

    # ------------------------------------------------------------------------------------------------ crop
    def set_crop(self, box: CropBox) -> None:
        """Show ``box``; raises core's InvalidInputError when it does not fit the photo."""
        box.validate(*self._size)
        self._crop = box
        self._crop_item.set_geometry(self._photo_rect(), box)
        self._sync_drag_square()

    def crop(self) -> CropBox:
        return self._crop

    def set_aligned_square(self, corners: np.ndarray | None) -> None:
        """Outline the aligned face square (float [4, 2] photo pixels) instead of the crop box; None: the crop box."""
        self._aligned_item.set_corners(corners)
        self._crop_item.setVisible(corners is None)
        self._sync_drag_square()

    def aligned_square(self) -> np.ndarray | None:
        """The outlined square's corners in photo pixels, or None while the crop box is used."""
        return self._aligned_item.corners() if self._aligned_item.isVisible() else None

    # ------------------------------------------------------------------------------------------------ drag points
    def drag_points(self) -> list[DragPair]:
        """The drag tool's (handle, target or None) pairs in photo pixels, in the order placed."""
        return list(self._points_item.pairs)

    def set_drag_points(self, pairs: list[DragPair]) -> None:
        """Show ``pairs`` (photo pixels); no ``drag_points_changed``: that reports what the user did."""
        if self._drag == "point":
            self._drag = None
        self._points_item.set_pairs(pairs)

    def set_drag_square(self, corners: np.ndarray | None) -> None:
        """Accept drag points only inside this square (float [4, 2] photo pixels: the adopted result's); None:
        the square shown (the crop box, or the aligned face square)."""
        self._drag_corners = corners
        self._sync_drag_square()

    def set_drag_points_locked(self, locked: bool) -> None:
        """While a drag runs its handles follow the engine: clicks of the drag tool change nothing."""
        self._points_item.locked = locked

    def _sync_drag_square(self) -> None:
        corners = self._drag_corners
        if corners is None:
            corners = self.aligned_square()
        if corners is None:
            c = self._crop
            corners = np.array([[c.x, c.y], [c.x + c.size, c.y], [c.x + c.size, c.y + c.size], [c.x, c.y + c.size]])
        self._points_item.square = QPolygonF([QPointF(float(x), float(y)) for x, y in corners])

    # ------------------------------------------------------------------------------------------------ mask
    # Replaces QWidget.mask() (a widget's shape region, never set on this view) on purpose: the app and its tests
    # read the brushed mask through this name.
    def mask(self) -> np.ndarray:  # type: ignore[override]
        """A copy of the mask, uint8 [H, W] at full photo size, 0..255 (255 = brushed)."""
        return self._mask_layer.mask.copy()

    def attach_mask(self, mask: np.ndarray) -> None:
        """Draw, and paint strokes into, ``mask`` (uint8 [H, W] the photo's size): the document's own array, so
        what the canvas shows is the document's mask. ``set_photo`` starts an empty one of the canvas's own."""
        self._mask_layer.attach(mask)
        self.mask_changed.emit()

    def refresh_mask(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """The mask's owner changed ``rect`` (x, y, w, h; None: anywhere) of the attached array: redraw it."""
        self._mask_layer.refresh(rect)
        self.mask_changed.emit()

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_layer.setVisible(visible)

    # ------------------------------------------------------------------------------------------------ result / compare
    def set_result(self, pixels: np.ndarray | None) -> None:
        """The edited image (uint8 [h, w, 3], any size, stretched over the photo), or None for no result."""
        self._has_result = pixels is not None
        self._result_item.show_pixels(pixels, *self._size)
        self._result_item.set_view_scale(self.zoom())
        if pixels is None:
            self.set_result_patch(None, None)
        self._sync_compare()

    def set_result_patch(self, pixels: np.ndarray | None, box: CropBox | None) -> None:
        """Show uint8 [s, s, 3] ``pixels`` over the square ``box`` (photo pixels) on top of the result: a slider
        edit redraws only the crop, never the whole photo. None removes the patch."""
        had = self._has_patch
        if pixels is None or box is None:
            self._patch_item.setPixmap(QPixmap())
            self._has_patch = False
        else:
            self._patch_item.setPixmap(QPixmap.fromImage(numpy_to_qimage(pixels)))
            scale = box.size / pixels.shape[1]
            self._patch_item.setTransform(QTransform(scale, 0, 0, scale, box.x, box.y))
            self._patch_item.set_view_scale(self.zoom())
            self._has_patch = True
        if had != self._has_patch:
            self._sync_compare()  # otherwise the item repaints just its own square, not the whole view

    def has_result_patch(self) -> bool:
        return self._has_patch

    def hold_before(self, held: bool) -> None:
        """Show the photo before the edit while ``held`` (the \\ key, wherever the focus is: app.before_key)."""
        self._set_held(Qt.Key.Key_Backslash, held)

    def set_compare(self, mode: str) -> None:
        """"after" (result over the photo), "before" (photo only) or "split" (before left, after right)."""
        if mode not in COMPARE_MODES:
            raise ValueError(f"Unknown compare mode {mode!r}; use one of {', '.join(COMPARE_MODES)}.")
        self._compare = mode
        self._sync_compare()

    def compare(self) -> str:
        return self._compare

    def set_split(self, fraction: float) -> None:
        """The split line's position as a fraction (0..1) of the photo's width."""
        self._split = min(max(float(fraction), 0.0), 1.0)
        self._sync_compare()

    def split(self) -> float:
        return self._split

    def _shown_compare(self) -> str:
        return "before" if self._before_held else self._compare

    def _sync_compare(self) -> None:
        mode, (w, h) = self._shown_compare(), self._size
        split_x = self._split * w if mode == "split" else 0.0
        self._result_clip.setRect(QRectF(split_x, 0, w - split_x, h))
        self._result_item.setVisible(self._has_result and mode != "before")
        self._patch_item.setVisible(self._has_result and self._has_patch and mode != "before")
        self._split_item.set_line(self._split * w, h)
        self._split_item.setVisible(mode == "split" and w > 0)
        self.viewport().update()

    # ------------------------------------------------------------------------------------------------ tools
    def set_tool(self, tool: str) -> None:
        """"crop" (move/resize the crop box), "brush" or "eraser" (paint the mask), "drag" (place drag points)."""
        if tool not in TOOLS:
            raise ValueError(f"Unknown tool {tool!r}; use one of {', '.join(TOOLS)}.")
        self._end_drag()
        self._tool = tool
        self._sync_tool()

    def tool(self) -> str:
        return self._tool

    def set_brush_size(self, px: float) -> None:
        """Brush diameter in photo pixels, clamped to 1..2000."""
        size = min(max(float(px), BRUSH_RANGE[0]), BRUSH_RANGE[1])
        if size != self._brush_size:
            self._brush_size = size
            self._cursor_item.set_brush(size, self._tool == "eraser")
            self.brush_size_changed.emit(size)

    def brush_size(self) -> float:
        return self._brush_size

    def set_brush_feather(self, fraction: float) -> None:
        """0 = hard edge (anti-aliased) … 1 = soft all the way from the centre."""
        self._feather = min(max(float(fraction), 0.0), 1.0)

    def brush_feather(self) -> float:
        return self._feather

    def _sync_tool(self) -> None:
        painting = self._tool in PAINTING
        self._crop_item.set_state(handles_visible=self._tool == "crop", interacting=False)
        self._cursor_item.set_brush(self._brush_size, self._tool == "eraser")
        self._cursor_item.setVisible(painting and self.viewport().underMouse())
        self._update_cursor(None)

    # ------------------------------------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Show the whole photo, centred, with a small margin."""
        w, h = self._size
        if w < 1:
            return
        self._apply_zoom(fit_scale(self._size, (self.viewport().width(), self.viewport().height()), FIT_PADDING), None)
        self.centerOn(w / 2, h / 2)
        self._fit_mode = True

    def zoom_100(self) -> None:
        self._apply_zoom(1.0, None)

    def zoom_by(self, factor: float) -> None:
        """Zoom by ``factor`` about the centre of the view."""
        self._apply_zoom(self.zoom() * factor, None)

    def _apply_zoom(self, scale: float, anchor: QPointF | None) -> None:
        """Set the view scale, keeping the scene point under ``anchor`` (view pos; None = centre) in place."""
        scale = min(max(scale, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        old = self.zoom()
        anchor_pt = (anchor if anchor is not None else QPointF(self.viewport().rect().center())).toPoint()
        scene_pt = self.mapToScene(anchor_pt)
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_scene_rect()
        moved = self.mapFromScene(scene_pt) - anchor_pt
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self._fit_mode = False
        for item in (self._photo_item, self._result_item, self._patch_item, self._mask_layer, self._crop_item,
                     self._points_item, self._split_item, self._cursor_item):
            item.set_view_scale(scale)
        if scale != old:
            self.zoom_changed.emit(scale)

    def _update_scene_rect(self) -> None:
        """Photo plus the margins of scene_margins around it."""
        w, h = self._size
        mx, my = scene_margins(self._size, self.zoom(), (self.viewport().width(), self.viewport().height()))
        self.setSceneRect(QRectF(-mx, -my, w + 2 * mx, h + 2 * my))

    # ------------------------------------------------------------------------------------------------ painting
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        else:
            self._update_scene_rect()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if self._has_result and self._shown_compare() != "after":
            self.viewport().update()  # the compare labels are pinned to the view, not the scene
        elif self._split_item.isVisible():
            self._split_item.update()  # its grip sits in the middle of the visible part of the line

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # Qt passes a QRectF
        painter.fillRect(rect, BACKGROUND)
        if self._size[0] > 0:
            paint_photo_shadow(painter, self.viewportTransform().mapRect(self._photo_rect()))

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        if self._has_result and self._shown_compare() != "after":
            photo = self.viewportTransform().mapRect(self._photo_rect())
            paint_compare_labels(painter, photo, self._shown_compare() == "split", self._split)
        self.painted.emit()
