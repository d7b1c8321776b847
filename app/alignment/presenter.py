"""Wiring of face alignment: the checkable Align Face action (Run menu and canvas toolbar), the face picker in the
Inversion panel, and the canvas outline of the aligned square."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from app.alignment.controller import AlignController
from app.document.controller import DocumentController
from app.inversion.panel import InversionPanel
from app.views.canvas import CanvasView
from core.alignment import Alignment


class AlignPresenter(QObject):
    def __init__(self, doc: DocumentController, panel: InversionPanel, canvas: CanvasView,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.canvas = doc, canvas
        self.aligner = AlignController(doc)
        self.action = QAction("Align &Face", self)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.action.setToolTip("Find the face and give the model a square turned and scaled to its own framing "
                               "(unchecked: the manual crop box)")
        self.action.triggered.connect(self._triggered)
        doc.alignment_changed.connect(self._alignment_changed)
        self.aligner.faces_found.connect(panel.set_faces)
        self.aligner.face_chosen.connect(panel.show_face)
        panel.face_chosen.connect(self.aligner.choose_face)

    def _triggered(self, checked: bool) -> None:
        if not checked:
            self.aligner.use_manual_crop()
        elif not self.aligner.align():
            self.action.setChecked(self.doc.alignment is not None)

    def _alignment_changed(self, alignment: Alignment | None) -> None:
        self.action.setChecked(alignment is not None)
        self.canvas.set_aligned_square(None if alignment is None else alignment.corners())
