"""Nothing is lost without asking: before quitting, closing, opening another photo or project, or loading another
model, a document with unsaved changes offers Save, Discard or Cancel.

"Unsaved" is the undo stack's own notion: any step since the document was opened or last saved as a project
(the face alignment that follows opening is part of opening). Save is a project save, which runs on the engine
thread; the action that asked waits for it and goes on once the file is written (not at all if saving fails or
the save dialog is cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.document.controller import DocumentController
from app.document.projects import ProjectController

Button = QMessageBox.StandardButton


class UnsavedChangesGuard(QObject):
    asking = Signal(object)  # the QMessageBox, just before it opens (a scripted session can answer it)

    def __init__(self, doc: DocumentController, projects: ProjectController, window: QWidget,
                 save: Callable[[], bool]) -> None:
        """``save`` starts saving the project (asking for a file name when it has none); False: it did not."""
        super().__init__(window)
        self.doc, self.projects, self.window, self.save = doc, projects, window, save
        self._then: Callable[[], object] | None = None  # what goes on once the project is saved
        # bound methods of this child of the window: Qt disconnects them when the window goes
        doc.undo_stack.cleanChanged.connect(self._clean_changed)
        projects.project_saved.connect(self._saved)
        doc.engine.job_failed.connect(self._failed)

    @property
    def modified(self) -> bool:
        return self.doc.opened is not None and not self.doc.undo_stack.isClean()

    def confirm(self, doing: str, then: Callable[[], object]) -> bool:
        """True: go on with ``doing`` now. False: not now — cancelled, or ``then`` runs once the project is saved."""
        if not self.modified:
            return True
        answer = self.ask(doing)
        if answer == Button.Discard:
            return True
        if answer == Button.Save:
            self._then = then
            if not self.save():
                self._drop()
        return False

    def ask(self, doing: str) -> Button:
        """Save, Discard or Cancel (a window-modal question; Escape cancels)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"{self._name()} has changes that are not saved in a project.",
                          Button.Save | Button.Discard | Button.Cancel, self.window)
        box.setInformativeText(f"Save them before {doing}? Discarded changes cannot be brought back.")
        box.setDefaultButton(Button.Save)
        box.setEscapeButton(Button.Cancel)
        self.asking.emit(box)
        return Button(box.exec())

    def _name(self) -> str:
        if self.projects.path is not None:
            return self.projects.path.name
        source = None if self.doc.opened is None else self.doc.opened.photo.source
        return Path(source).name if source is not None else "This photo"

    def _clean_changed(self, clean: bool) -> None:
        self.window.setWindowModified(not clean)

    def _failed(self, job: str, _message: str) -> None:
        if job == "save-project":
            self._drop()

    def _saved(self, _path: object) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()

    def _drop(self) -> None:
        self._then = None
