"""Automatic face alignment in the editor: find the photo's faces and give the model one aligned to its framing.

Detection and the fit run on the engine thread (MediaPipe and the model's framing are core calls); the chosen
``Alignment`` lives in ``DocumentController.alignment`` and every change of it (aligning, picking another face,
going back to the manual crop) is one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.document.commands import ValueCommand
from app.document.controller import DocumentController
from app.engine import JobRequest
from core.alignment import Alignment, align_faces, framing_for
from core.errors import NoFaceFoundError
from core.jobs import call_as_job


@dataclass(frozen=True)
class FoundFaces:
    """The faces of one photo (largest first) and their alignments; empty with ``message`` when none was found."""

    alignments: tuple[Alignment, ...]
    message: str = ""


def face_labels(count: int) -> list[str]:
    return [f"Face {i + 1}" + (" (largest)" if i == 0 else "") for i in range(count)]


class AlignController(QObject):
    faces_found = Signal(object)  # list[str] labels of the photo's faces (empty: none, or not aligned yet)
    face_chosen = Signal(int)  # index of the face the alignment uses (-1: the manual crop)

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.alignments: tuple[Alignment, ...] = ()  # of the open photo, largest face first
        self._part_of_opening = False  # the running alignment is the one that follows opening a photo
        doc.register_job("align", self._found)
        doc.photo_opened.connect(self._photo_changed)
        doc.model_changed.connect(lambda _key: self._photo_changed(None))
        doc.alignment_changed.connect(self._alignment_changed)

    def align(self, part_of_opening: bool = False) -> bool:
        """Find the faces of the open photo and align the largest to the current model (one undo step). The
        alignment that follows opening a photo is part of opening: it leaves the document unmodified."""
        d = self.doc
        if d.opened is None:
            d.error_raised.emit("Open a photo first.")
            return False
        pixels = d.opened.photo.pixels

        def job() -> FoundFaces:
            G = d.model("auto")
            try:
                _, alignments = align_faces(pixels, framing_for(G), G.resolution)
            except NoFaceFoundError as exc:
                return FoundFaces((), str(exc))
            return FoundFaces(tuple(alignments))

        if not d.submit(JobRequest("align", lambda: call_as_job(job))):
            return False
        self._part_of_opening = part_of_opening
        d.status_changed.emit("Looking for faces…")
        return True

    def choose_face(self, index: int) -> None:
        """Align face ``index`` of those found (0 = largest) instead (one undo step)."""
        if 0 <= index < len(self.alignments) and self.alignments[index] != self.doc.alignment:
            self._push("Choose face", self.alignments[index])

    def use_manual_crop(self) -> None:
        """Back to the crop box the user moves (one undo step)."""
        if self.doc.alignment is not None:
            self._push("Manual crop", None)

    def _push(self, text: str, alignment: Alignment | None) -> None:
        d = self.doc
        d.undo_stack.push(ValueCommand(text, d.apply_alignment, d.alignment, alignment, False))

    def _found(self, found: FoundFaces) -> None:
        d = self.doc
        if not found.alignments:
            d.status_changed.emit(f"No face found: {found.message} The manual crop stays.")
            self.doc.alignment_changed.emit(d.alignment)  # the toggle shows what is really in use
            return
        self.alignments = found.alignments
        self.faces_found.emit(face_labels(len(found.alignments)))
        self._push("Align face", found.alignments[0])
        if self._part_of_opening:
            d.undo_stack.setClean()
        self._part_of_opening = False
        count = len(found.alignments)
        more = f" ({count} faces: pick another in the Inversion panel)" if count > 1 else ""
        d.status_changed.emit(f"Face aligned to the model's framing, turned {found.alignments[0].angle:+.1f}°{more}.")

    def _photo_changed(self, _opened: object) -> None:
        self.alignments = ()
        self.faces_found.emit([])

    def _alignment_changed(self, alignment: Alignment | None) -> None:
        index = -1 if alignment is None else next(
            (i for i, a in enumerate(self.alignments) if a == alignment), alignment.face_index)
        self.face_chosen.emit(index)
