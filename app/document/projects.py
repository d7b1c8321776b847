"""Save and reopen the whole document as a project file (``.lsproj``, see ``core.sessions``).

The document is gathered on the GUI thread (cheap copies), the edited image is rendered and the file written on
the engine thread. Reopening restores the photo, crop, mask, adopted result and slider values, and pastes the
stored images, so the pixels are exactly those saved (no generator run is needed to show them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.directions.controller import EditController, EditPreview
from app.document.controller import DocumentController
from app.document.state import DocumentState, OpenedPhoto
from app.engine import JobRequest
from core.directions import Direction, recorded_direction
from core.errors import CoreError, InvalidInputError
from core.generators import DEFAULT_MODEL
from core.generators.ffhq_install import FFHQ_MODEL
from core.imageio import CropBox
from core.jobs import call_as_job
from core.sessions import PROJECT_SUFFIX, Document, EditedDirection, load_project, save_project


@dataclass(frozen=True)
class ReopenedProject:
    path: Path
    document: Document
    state: DocumentState  # what the document controller adopts
    patch: np.ndarray | None  # display pixels of the square with the edited image blended in
    patch_box: CropBox | None = None  # where ``patch`` lies in photo pixels (the crop, or the aligned square's box)


CATALOG_TITLES = {DEFAULT_MODEL: "embedded (DCGAN)", FFHQ_MODEL: "photoreal FFHQ"}


def check_project_model(project_model_id: str, loaded_model_id: str) -> None:
    """Refuse, with what to do, a project made with the other catalog model than the one in use: its latent means
    nothing to this model (edits and re-renders would be another face). Users' own model files are not judged
    here: their projects keep their stored pixels as before."""
    wanted, loaded = project_model_id.split("@")[0], loaded_model_id.split("@")[0]
    if project_model_id and wanted != loaded and wanted in CATALOG_TITLES:
        in_use = CATALOG_TITLES.get(loaded, loaded)
        raise InvalidInputError(f"This project was made with the {CATALOG_TITLES[wanted]} model, but the {in_use} "
                                "model is in use. Choose it in File → Choose Model… and open the project again; "
                                "the project file is unchanged.")


def reopen(path: Path) -> ReopenedProject:
    """Load a project and build what the views show (engine thread)."""
    doc, photo = load_project(path)
    state = DocumentState.from_document(doc, photo)
    patch, box = None, None
    if state.adopted is not None and doc.edits and doc.edited_image is not None:
        patch, box = state.opened.patch_on_display(doc.placement, doc.edited_image, state.adopted.fill_mask,
                                                   doc.feather, state.fills, reference=doc.result_reference,
                                                   detail=doc.composite == "detail")
    return ReopenedProject(path, doc, state, patch, box)


class ProjectController(QObject):
    project_saved = Signal(object)  # Path
    project_opened = Signal(object)  # ReopenedProject (after the document controller adopted it)

    def __init__(self, doc: DocumentController, edits: EditController) -> None:
        super().__init__(doc)
        self.doc, self.edits = doc, edits
        self.path: Path | None = None  # the project file the document was last saved to or opened from
        doc.register_job("save-project", self._saved)
        doc.register_job("open-project", self._opened)
        doc.photo_opened.connect(self._photo_changed)

    def _photo_changed(self, _opened: OpenedPhoto) -> None:
        self.path = None  # a project being opened sets it right after

    def save(self, path: str | Path, embed: bool = False) -> bool:
        path = Path(path)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        state = self.doc.state
        if state is None:
            self.doc.error_raised.emit("Cannot save the project: open a photo first.")
            return False
        try:
            doc = state.to_document(embed=embed or state.opened.photo.source is None)
        except (OSError, CoreError) as exc:
            self.doc.error_raised.emit(f"Cannot save the project: {exc}")
            return False
        render = self.edits.render_function(self.edits.edits) if doc.edits else None

        def write() -> Path:
            final = doc if render is None else doc.with_changes(edited_image=render())
            return save_project(final, path)

        self.doc.status_changed.emit(f"Saving {path.name}…")
        return self.doc.submit(JobRequest("save-project", lambda: call_as_job(write)))

    def open(self, path: str | Path) -> bool:
        self.doc.status_changed.emit(f"Opening project {Path(path).name}…")
        def job() -> ReopenedProject:
            project = reopen(Path(path))
            check_project_model(project.document.model_id, self.doc.model("auto").base_model_id)
            return project

        return self.doc.submit(JobRequest("open-project", lambda: call_as_job(job)))

    def _saved(self, path: Path) -> None:
        self.path = path
        self.doc.undo_stack.setClean()
        self.doc.status_changed.emit(f"Project saved to {path}")
        self.project_saved.emit(path)

    def _opened(self, project: ReopenedProject) -> None:
        self.show(project)
        self.path = project.path
        self.doc.status_changed.emit(f"Opened project {project.path.name}")
        self.project_opened.emit(project)

    def show(self, project: ReopenedProject) -> None:
        """Make a reopened project the document, with its stored pixels (a recovered autosave comes here too)."""
        doc = project.document
        # the project's own vectors, so the sliders act exactly as when it was saved; the library is not touched
        self.doc.load_state(project.state, {e.name: _direction(e, doc, project.path) for e in project.state.edits})
        edits = self.edits.edits
        # reopen() makes a patch only from an edited image, so the last test only tells the type checker so
        if project.patch is not None and project.state.adopted is not None and doc.edited_image is not None:
            self.edits.show_document_edits(render=False)
            box = project.patch_box or doc.crop
            self.edits.show(EditPreview(self.edits.next_stamp(), edits, project.patch, box, doc.edited_image))
        else:  # edits saved without their pixels (an autosave between a change and its render) render now
            self.edits.show_document_edits(render=True)


def _direction(edit: EditedDirection, doc: Document, path: Path) -> Direction:
    """The direction exactly as the project stored it (vector, scale, layers, method, name), whatever the library
    would accept, so the edit renders and saves again unchanged."""
    return recorded_direction(name=edit.name, vector=edit.vector, scale=edit.scale, space=doc.space or "z",
                              model_id=doc.model_id, method=edit.method, layers=edit.layers, alpha=edit.alpha,
                              provenance={"from_project": path.name})
