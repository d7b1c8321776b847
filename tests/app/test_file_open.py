"""Files the desktop hands over as QFileOpenEvents (macOS Finder) reach the window's open_path."""

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QFileOpenEvent

from app.file_open import FileOpenRelay
from core.resources import sample_photos

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def test_a_file_open_event_is_routed_and_counted(qapp):
    opened: list[str] = []
    relay = FileOpenRelay(opened.append)
    qapp.installEventFilter(relay)
    try:
        QCoreApplication.sendEvent(qapp, QFileOpenEvent("/photos/holiday.lsproj"))
        QCoreApplication.sendEvent(qapp, QFileOpenEvent(QUrl.fromLocalFile("/photos/face one.jpg")))
    finally:
        qapp.removeEventFilter(relay)
    assert opened == ["/photos/holiday.lsproj", "/photos/face one.jpg"] and relay.received == 2


def test_a_photo_handed_over_by_the_desktop_opens_in_the_editor(window, qtbot, qapp):
    relay = FileOpenRelay(window.open_path)
    qapp.installEventFilter(relay)
    photo = Path(sample_photos()[-1])
    try:
        with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS) as opened:
            QCoreApplication.sendEvent(qapp, QFileOpenEvent(str(photo)))
    finally:
        qapp.removeEventFilter(relay)
    assert Path(opened.args[0].photo.source) == photo
