"""What to do next: a hint in the status bar that follows the document, a first-run note on the canvas, and the
Split view's divider placed on the face.

A newcomer meets a sample photo and a column of settings; without a word about Run they do not know that the
editor's work starts there. The hint changes with the state (no photo → open one; a photo → Run; a result →
edit, inpaint, compare, export), and the first-run note says the same on the canvas once, until dismissed.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.document.controller import DocumentController
from app.views.canvas import CanvasView
from app.widgets.canvas_toolbar import CanvasToolBar
from app.widgets.overlay import FollowResize, note_width

SEEN_KEY = "guide/first_run_seen"
HINTS = {
    "empty": "Open a photo (Ctrl+O) or drop one on the window.",
    "photo": "Next: press Run (Ctrl+Return) to find this face in the model; drag the dashed square to frame "
             "another face.",
    "running": "Running… Esc stops it and keeps the best result so far.",
    "result": "Next: edit with a Directions slider, drag points (D), brush (B) and Inpaint, hold \\ for the photo, "
              "Ctrl+E exports.",
    "result_detail": "Found. The photo keeps its own detail and changes only where you edit: move a Directions slider, "
                     "drag points (D), brush (B) and Inpaint; Ctrl+E exports.",
}
FIRST_RUN = ("<b>Welcome.</b> This is a sample photo. Press <b>Run</b> (Ctrl+Return) and the model finds the face "
             "in the dashed square; then edit it with the Directions sliders. Open your own photo with Ctrl+O. "
             "<i>Click to dismiss.</i>")


class CanvasNote(QLabel):
    """A note over the canvas's top edge (a child of its viewport, so it never moves with the photo); a click
    dismisses it."""

    def __init__(self, canvas: CanvasView, text: str) -> None:
        super().__init__(text, canvas.viewport())
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setStyleSheet("background: rgba(20, 20, 20, 215); color: #f0f0f0; border: 1px solid #777;"
                           "border-radius: 6px; padding: 8px 12px;")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.follower = FollowResize(canvas.viewport(), self._place, self)

    def _place(self) -> None:
        parent = cast(QWidget, self.parentWidget())
        width = note_width(parent, 160)
        self.setFixedSize(width, self.heightForWidth(width))  # wrapped text: the height its lines need
        self.move((parent.width() - width) // 2, 12)

    def mousePressEvent(self, event: object) -> None:
        self.hide()


class Guide(QObject):
    """Keeps ``hint`` (a status-bar label) saying what to do next, shows the first-run note once, and starts the
    Split divider on the face of each photo and square."""

    def __init__(self, doc: DocumentController, canvas: CanvasView, toolbar: CanvasToolBar, hint: QLabel,
                 settings: QSettings) -> None:
        super().__init__(doc)
        self.doc, self.canvas, self.toolbar, self.hint = doc, canvas, toolbar, hint
        hint.setStyleSheet("color: palette(mid); padding: 0 6px;")
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.note: CanvasNote | None = None
        if not settings.value(SEEN_KEY, False, bool):
            settings.setValue(SEEN_KEY, True)
            self.note = CanvasNote(canvas, FIRST_RUN)
            doc.run_state_changed.connect(self._run_started)
        for signal in (doc.photo_opened, doc.result_applied, doc.run_state_changed, doc.composite_changed):
            signal.connect(lambda *_: self.update())
        for signal in (doc.photo_opened, doc.crop_applied, doc.alignment_changed, canvas.crop_changed):
            signal.connect(lambda *_: self.split_on_face())
        self.update()

    def _run_started(self, running: bool) -> None:
        if running:
            self.dismiss()

    def dismiss(self) -> None:
        if self.note is not None:
            self.note.hide()

    def state(self) -> str:
        d = self.doc
        if d.opened is None:
            return "empty"
        if d.running:
            return "running"
        return "result" if d.adopted is not None or d.fills else "photo"

    def update(self) -> None:
        state = self.state()
        text = HINTS["result_detail" if state == "result" and self.doc.detail else state]
        self.hint.setText(text)
        self.hint.setToolTip(text)

    def split_on_face(self) -> None:
        """The Split view's divider through the middle of the model's square (the face), not the photo's."""
        d = self.doc
        if d.opened is None or d.placement is None:
            return
        centre = float(d.placement.corners()[:, 0].mean())
        self.toolbar.split_slider.setValue(round(100 * centre / d.opened.photo.width))
