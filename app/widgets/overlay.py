"""Notes that float over the canvas's viewport (the first-run note, the photoreal-model offer): they keep their
place and width as the viewport is resized."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

MAX_NOTE_WIDTH = 520


class FollowResize(QObject):
    """Calls ``place`` now and each time ``viewport`` is resized (an event filter owned by the note)."""

    def __init__(self, viewport: QWidget, place: Callable[[], None], owner: QObject) -> None:
        super().__init__(owner)
        self.place = place
        viewport.installEventFilter(self)
        place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.place()
        return False


def note_width(viewport: QWidget, minimum: int) -> int:
    """A note's width: the viewport's less a margin, at most :data:`MAX_NOTE_WIDTH`, at least ``minimum``."""
    return min(MAX_NOTE_WIDTH, max(viewport.width() - 24, minimum))
