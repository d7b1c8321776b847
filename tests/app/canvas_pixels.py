"""What the canvas really shows as "after", read back from its items (for tests that compare it with a document)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def pixmap_pixels(pixmap: QPixmap) -> np.ndarray:
    """uint8 [h, w, 3] of a pixmap."""
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def shown_after(canvas) -> np.ndarray | None:
    """The result layer with the edit patch pasted where the canvas draws it (photo pixels; a display copy of the
    photo's own size, as for the 512-px sample), or None without a result."""
    if canvas._result_item.pixmap().isNull():
        return None
    pixels = pixmap_pixels(canvas._result_item.pixmap())
    if canvas.has_result_patch():
        patch = pixmap_pixels(canvas._patch_item.pixmap())
        transform = canvas._patch_item.transform()
        assert transform.m11() == 1.0, "the helper reads patches drawn at the photo's own scale"
        x, y = round(transform.dx()), round(transform.dy())
        height, width = pixels.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + patch.shape[1], width), min(y + patch.shape[0], height)
        pixels[y0:y1, x0:x1] = patch[y0 - y:y1 - y, x0 - x:x1 - x]
    return pixels
