"""Keeping a restored window on the screen: a geometry saved on a larger screen (or a default size bigger than a
laptop's) is shrunk and moved into the screen's available area, the window manager's frame included."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyle, QWidget


def fitted(saved: QRect, available: QRect) -> QRect:
    """``saved`` no larger than ``available`` and moved (as little as possible) to lie inside it."""
    if not available.isValid():
        return QRect(saved)
    width, height = min(max(saved.width(), 1), available.width()), min(max(saved.height(), 1), available.height())
    x = min(max(saved.x(), available.left()), available.left() + available.width() - width)
    y = min(max(saved.y(), available.top()), available.top() + available.height() - height)
    return QRect(x, y, width, height)


def fit_to_screen(window: QWidget) -> None:
    """Shrink and move ``window`` into the available area of the screen it is on (the primary screen when it is on
    none). A maximised or full-screen window is left to the window manager. Before the window is shown its frame is
    unknown: room is left for a title bar, as ``QWidget.restoreGeometry`` does."""
    if window.isMaximized() or window.isFullScreen():
        return
    inner, frame = window.geometry(), window.frameGeometry()
    screen = QGuiApplication.screenAt(frame.center()) or window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    if frame == inner:
        frame = inner.adjusted(0, -window.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight), 0, 0)
    target = fitted(frame, screen.availableGeometry())
    window.setGeometry(target.adjusted(inner.left() - frame.left(), inner.top() - frame.top(),
                                       inner.right() - frame.right(), inner.bottom() - frame.bottom()))
