"""Hold \\ to see the photo before the edit, wherever the keyboard focus is in the main window.

An application-wide event filter rather than a key handler of the canvas: after Ctrl+Return the Inversion panel
has the focus, and a key only the focused widget hears would do nothing there. Text fields keep the key (a
backslash may be typed into a file name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

TEXT_ENTRY = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class BeforeKey(QObject):
    """Calls ``hold(True)`` while \\ is held down in ``window`` (and ``hold(False)`` when released or left)."""

    def __init__(self, window: QWidget, hold: Callable[[bool], None]) -> None:
        super().__init__(window)
        self.window, self.hold, self.held = window, hold, False
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ApplicationDeactivate and self.held:
            self._set(False)  # a release that goes to another application must not leave "before" stuck
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(watched, QWidget):
            return False
        key = cast(QKeyEvent, event)  # PySide6 delivers key events as QKeyEvent
        if key.key() != Qt.Key.Key_Backslash or key.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if watched.window() is not self.window or isinstance(QApplication.focusWidget(), TEXT_ENTRY):
            return False
        if not key.isAutoRepeat():
            self._set(kind == QEvent.Type.KeyPress)
        return True

    def _set(self, held: bool) -> None:
        if held != self.held:
            self.held = held
            self.hold(held)
