"""Files the desktop hands to the running app as events rather than arguments.

macOS opens a document (Finder double-click, drag onto the Dock icon, "Open With") by sending the application a
``QFileOpenEvent``, not by putting the path in argv; the .app declares ``.lsproj`` and photos for exactly that.
This filter routes those events to the window's ``open_path``, and remembers that a file came, so the start-up
sample photo is not opened on top of it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class FileOpenRelay(QObject):
    """An application event filter: each ``QFileOpenEvent``'s local file goes to ``open_path``."""

    def __init__(self, open_path: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_path = open_path
        self.received = 0  # files handed over so far

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file() or event.url().toLocalFile()
            if path:
                self.received += 1
                self._open_path(path)
                return True
        return super().eventFilter(watched, event)
