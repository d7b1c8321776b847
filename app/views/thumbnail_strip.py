"""A horizontal strip of small previews taken during an inversion; clicking one asks to go back to that step."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from app.widgets.qimage import numpy_to_qimage

THUMBNAIL_SIZE: int = 80  # px, the longer side of each preview
MAX_THUMBNAILS: int = 50  # the oldest are dropped past this
STEP_ROLE = Qt.ItemDataRole.UserRole


class ThumbnailStripView(QListWidget):
    """One row of ``step N`` previews, newest on the right; keeps at most ``max_thumbnails``.

    Each preview is scaled down once when added and stored as a small pixmap, so 50 previews of a 1024² model cost
    about as much memory as 50 icons, not 50 full images.
    """

    thumbnail_clicked = Signal(int)  # the step of the clicked preview

    def __init__(
        self, parent: QWidget | None = None, thumbnail_size: int = THUMBNAIL_SIZE, max_thumbnails: int = MAX_THUMBNAILS
    ) -> None:
        super().__init__(parent)
        if not 16 <= thumbnail_size <= 512 or max_thumbnails < 1:
            raise ValueError(f"Bad thumbnail strip settings: size {thumbnail_size} px, at most {max_thumbnails}.")
        self._thumbnail_size = thumbnail_size
        self._max_thumbnails = max_thumbnails
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(thumbnail_size, thumbnail_size))
        self.setSpacing(4)
        caption = self.fontMetrics().height()
        scrollbar = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(thumbnail_size + caption + scrollbar + 24)  # icon, caption, spacing, frame, scrollbar
        self.itemClicked.connect(self._on_item_clicked)

    @property
    def max_thumbnails(self) -> int:
        return self._max_thumbnails

    def add(self, step: int, pixels: np.ndarray) -> None:
        """Append a preview of ``pixels`` (uint8 [H, W, 3] RGB or [H, W] gray) captioned ``step N``; scrolls to it."""
        image = numpy_to_qimage(pixels).scaled(
            self._thumbnail_size,
            self._thumbnail_size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), f"step {step}")
        item.setData(STEP_ROLE, int(step))
        item.setToolTip(f"Step {step}: click to go back to this result")
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.addItem(item)
        while self.count() > self._max_thumbnails:
            self.takeItem(0)  # ownership returns to Python, which frees the dropped item
        self.scrollToItem(item)

    def steps(self) -> list[int]:
        """The steps shown, oldest first."""
        return [int(self.item(row).data(STEP_ROLE)) for row in range(self.count())]

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self.thumbnail_clicked.emit(int(item.data(STEP_ROLE)))
