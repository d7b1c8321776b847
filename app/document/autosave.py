"""Autosave and crash recovery: unsaved work survives a crash, a kill or a power cut.

While the document has unsaved changes, ``Autosave`` writes it every few minutes (Preferences; QTimer) and just
before a long job starts (an inversion, an inpainting, a comparison, a θ training: the moments a crash costs the
most) to this process's recovery file (``core.sessions.recovery``: an ordinary project with the photo embedded,
saved atomically). The document is captured on the GUI thread (cheap: frozen values and one mask copy); the photo
check, compression and writing run on a thread of their own, so neither the GUI nor a running job waits for it.
The file goes when the document is saved, discarded or replaced, and on a clean exit.

At start-up ``RecoveryOffer`` looks for recovery files of editors that are no longer running and asks: Recover,
Discard or Later. Recovering reopens the file as a project open does (same pixels, edits, mask and fills), marked
unsaved. A damaged recovery file is moved aside with a message, and the editor starts as usual.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.document.projects import ProjectController, ReopenedProject, reopen
from app.document.state import DocumentState
from app.engine import JobRequest
from core.errors import CoreError
from core.imageio import Photo, load_photo
from core.jobs import call_as_job
from core.sessions import Document, recovery, sha256_hex

log = logging.getLogger(__name__)
LONG_JOBS = ("invert", "inpaint", "compare", "train")  # autosaved just before they start


class Autosave(QObject):
    saved = Signal(float)  # seconds the autosave took (photo check, compression and write)
    failed = Signal(str)

    def __init__(self, doc: DocumentController, edits: EditController, projects: ProjectController,
                 minutes: float) -> None:
        super().__init__(doc)
        self.doc, self.edits, self.projects = doc, edits, projects
        self._changes = 0  # history steps done, undone or redone since start-up
        self._written = 0  # ... as of the last autosave
        self._photo: tuple[Photo, Path | None, bytes, str] | None = None  # the worker's: photo file already checked
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="autosave")  # one at a time, in order
        self._closed = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save)
        self.set_interval(minutes)
        doc.undo_stack.indexChanged.connect(self._changed)
        doc.undo_stack.cleanChanged.connect(self._clean_changed)
        doc.engine.job_started.connect(self._job_started)
        self.failed.connect(self._failed)

    def set_interval(self, minutes: float) -> None:
        """Autosave every ``minutes`` (0: only before long jobs)."""
        self.timer.stop()
        if minutes > 0 and not self._closed:
            self.timer.start(round(minutes * 60_000))

    @property
    def needed(self) -> bool:
        """Unsaved changes that the recovery file does not hold yet."""
        return self.doc.opened is not None and not self.doc.undo_stack.isClean() and self._changes != self._written

    def save(self) -> Future[float] | None:
        """Autosave now if needed (the write runs on the autosave thread; the Future gives its seconds)."""
        state = self.doc.state
        if self._closed or not self.needed or state is None:
            return None
        preview, edits = self.edits.last_preview, self.edits.edits
        edited = preview.image if preview is not None and edits and preview.edits == edits else None
        self._written = self._changes
        return self._submit(self._write, state, edited, self.title(), self.projects.path)

    def title(self) -> str:
        """The document's name as the window shows it (the recovery question names it)."""
        if self.projects.path is not None:
            return self.projects.path.name
        source = None if self.doc.opened is None else self.doc.opened.photo.source
        return source.name if source is not None else "the photo"

    def discard(self) -> None:
        """Remove the recovery file (after any autosave already under way)."""
        self._written = self._changes
        if not self._closed:
            self._submit(recovery.remove)

    def _submit(self, work: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """``work`` on the autosave thread, or None once that thread has stopped: while Python exits, Qt may still
        emit the undo stack's signals after the pool is shut down (seen at the end of the screenshot script)."""
        try:
            return self._worker.submit(work, *args)
        except RuntimeError:
            self._closed = True
            return None

    def close(self) -> None:
        """A clean exit: no recovery file is left behind (waits for an autosave under way, then removes it)."""
        if not self._closed:
            self.timer.stop()
            self.discard()
            self._closed = True
            self._worker.shutdown(wait=True)

    def mark_written(self) -> None:
        """The recovery file holds the document as it is (it was just recovered from it)."""
        self._written = self._changes

    # -- the autosave thread ---------------------------------------------------------------------------------
    def _write(self, state: DocumentState, edited: np.ndarray | None, title: str, project: Path | None) -> float:
        start = time.perf_counter()
        try:
            path, data, sha = self._photo_file(state.opened.photo)
            doc = Document(photo_path=path, photo_sha256=sha, embedded_photo=data, edited_image=edited,
                           **state.document_fields())
            recovery.write(doc, title, project)
        except (CoreError, OSError) as exc:
            self.failed.emit(f"Autosave failed: {exc}")
            return -1.0
        except Exception as exc:  # a bug must not pass unseen on this thread (nobody waits on its Future)
            log.exception("autosave failed")
            self.failed.emit(f"Autosave failed: {type(exc).__name__}: {exc}")
            return -1.0
        seconds = time.perf_counter() - start
        log.info("autosaved %s in %.3f s", title, seconds)
        self.saved.emit(seconds)
        return seconds

    def _photo_file(self, photo: Photo) -> tuple[Path | None, bytes, str]:
        """The bytes to embed for ``photo``: its file's when that still decodes to the same pixels (checked once
        per photo), else a lossless PNG of the pixels themselves, so a recovery always brings back what was open."""
        if self._photo is None or self._photo[0] is not photo:
            self._photo = (photo, *self._checked_file(photo))
        return self._photo[1:]

    @staticmethod
    def _checked_file(photo: Photo) -> tuple[Path | None, bytes, str]:
        source = photo.source
        if source is not None:
            with contextlib.suppress(OSError, CoreError):
                data = source.read_bytes()
                if np.array_equal(load_photo(source).pixels, photo.pixels):
                    return source, data, sha256_hex(data)
        buffer = io.BytesIO()
        Image.fromarray(photo.pixels).save(buffer, "PNG", compress_level=1, exif=photo.exif or b"")
        data = buffer.getvalue()
        return None, data, sha256_hex(data)

    # -- GUI thread ------------------------------------------------------------------------------------------
    def _changed(self, _index: int) -> None:
        self._changes += 1

    def _clean_changed(self, clean: bool) -> None:
        if clean:  # saved, or back where it was saved or opened, or another document (discarded)
            self.discard()

    def _job_started(self, job: str) -> None:
        if job in LONG_JOBS:
            self.save()

    def _failed(self, message: str) -> None:
        self._written = -1  # try again at the next occasion
        self.doc.status_changed.emit(message)


class RecoveryOffer(QObject):
    """At start-up: offer the work of an editor that did not exit cleanly, and reopen it when asked."""

    asking = Signal(object)  # the QMessageBox, just before it opens (a scripted session can answer it)
    recovered = Signal(object)  # the Recovery, once its document is shown
    RECOVER, DISCARD, LATER = "Recover", "Discard", "Later"

    def __init__(self, doc: DocumentController, projects: ProjectController, autosave: Autosave, window: QWidget,
                 show_error: Callable[[str], None]) -> None:
        super().__init__(window)
        self.doc, self.projects, self.autosave, self.window = doc, projects, autosave, window
        self.show_error = show_error
        self._pending: tuple[recovery.Recovery, Callable[[], object]] | None = None
        doc.register_job("recover", self._opened, self._failed)

    def offer(self, otherwise: Callable[[], object]) -> bool:
        """Ask about the newest recovery file left behind; True when its document is being recovered, else
        ``otherwise`` runs (now, or once a damaged file has been set aside)."""
        try:
            found, problems = recovery.orphans()
        except OSError as exc:  # an unreadable data folder must not stop the editor
            found, problems = [], [f"The recovery folder could not be read ({exc})."]
        for problem in problems:
            self.show_error(problem)
        if not found:
            otherwise()
            return False
        left = found[0]
        answer = self.ask(left)
        if answer == self.DISCARD:
            recovery.remove(left.pid)
        if answer != self.RECOVER:
            otherwise()
            return False
        self._pending = (left, otherwise)
        self.doc.status_changed.emit(f"Recovering {left.title}…")
        if self.doc.submit(JobRequest("recover", lambda: call_as_job(lambda: _reopen(left.project)))):
            return True
        self._pending = None  # the engine is busy (it never is at start-up): the file stays for the next start
        otherwise()
        return False

    def ask(self, left: recovery.Recovery) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work?",
                          f"Landscape Studio did not close normally while {left.title} had unsaved changes.",
                          parent=self.window)
        box.setInformativeText(f"Recover the work autosaved at {left.saved_text}? Discard deletes it for good; "
                               "Later keeps it for the next start.")
        recover = box.addButton(self.RECOVER, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.DISCARD, QMessageBox.ButtonRole.DestructiveRole)
        later = box.addButton(self.LATER, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.setEscapeButton(later)
        self.asking.emit(box)
        box.exec()
        clicked = box.clickedButton()
        return clicked.text() if clicked is not None else self.LATER

    def _opened(self, project: ReopenedProject | str) -> None:
        assert self._pending is not None
        left, otherwise = self._pending
        self._pending = None
        if isinstance(project, str):
            self._set_aside(left, project, otherwise)
            return
        self.projects.show(project)
        self.projects.path = left.project_path
        self.doc.undo_stack.resetClean()  # recovered work is unsaved until the user saves it
        self.window.setWindowTitle(f"{left.title}[*] — Landscape Studio")
        try:
            recovery.adopt(left)  # the file now belongs to this editor: kept until saved, discarded or exited
            self.autosave.mark_written()
        except OSError:
            log.warning("could not take over the recovery file %s", left.project, exc_info=True)
        self.doc.status_changed.emit(f"Recovered {left.title} as autosaved at {left.saved_text} (not saved yet)")
        self.recovered.emit(left)

    def _failed(self, _message: str) -> None:
        """An unexpected failure (its error dialog follows): the file is moved aside all the same."""
        if self._pending is not None:
            left, otherwise = self._pending
            self._pending = None
            self._set_aside(left, "", otherwise)

    def _set_aside(self, left: recovery.Recovery, problem: str, otherwise: Callable[[], object]) -> None:
        """A recovery file that cannot be reopened is moved aside with a message; the editor goes on as usual."""
        try:
            where = f"was moved to {recovery.set_aside(left.project, left.info)}"
        except OSError as exc:
            where = f"could not be moved aside ({exc}): delete {left.project} by hand"
        if problem:
            self.show_error(f"The work autosaved from {left.title} could not be recovered: {problem}\n\n"
                            f"The recovery file {where}.")
        QTimer.singleShot(0, otherwise)


def _reopen(path: Path) -> ReopenedProject | str:
    """The recovery file reopened, or why it cannot be (said by the caller, with where the file went)."""
    try:
        return reopen(path)
    except CoreError as exc:
        return str(exc)


