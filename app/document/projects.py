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
from app.document.state import Adopted, OpenedPhoto
from app.engine import JobRequest
from core.directions.library import Direction
from core.errors import CoreError
from core.imageio import CropBox, display_pixels
from core.jobs import call_as_job
from core.placement import Placement
from core.sessions import Document, EditedDirection, load_project, save_project
from core.sessions.store import PROJECT_SUFFIX


@dataclass(frozen=True)
class ReopenedProject:
    path: Path
    document: Document
    opened: OpenedPhoto
    adopted: Adopted | None
    patch: np.ndarray | None  # display pixels of the crop with the edited image blended in
    patch_box: CropBox | None = None  # where ``patch`` lies in photo pixels (the crop, or the aligned square's box)


def _edited_directions(edits: dict[str, float], directions: dict[str, Direction]) -> tuple[EditedDirection, ...]:
    return tuple(EditedDirection(name=name, vector=directions[name].vector, scale=directions[name].scale,
                                 alpha=alpha, layers=directions[name].layers, method=directions[name].method)
                 for name, alpha in edits.items() if name in directions)


def reopen(path: Path) -> ReopenedProject:
    """Load a project and build what the views show (engine thread)."""
    doc, photo = load_project(path)
    opened = OpenedPhoto(photo, display_pixels(photo), Placement(doc.crop))
    best = doc.best_latent  # None exactly when there are no latents
    if best is None or doc.image is None:
        return ReopenedProject(path, doc, opened, None, None)
    fill_mask = None if doc.fill_mask is None else np.array(doc.fill_mask)
    display = opened.composite_on_display(doc.placement, doc.image, fill_mask, doc.feather)
    adopted = Adopted(None, doc.placement, display, best.copy(), doc.image, fill_mask, doc.tuning,
                      doc.space or None, label="project result")
    patch, box = None, None
    if doc.edits and doc.edited_image is not None:
        patch, box = opened.patch_on_display(doc.placement, doc.edited_image, fill_mask, doc.feather)
    return ReopenedProject(path, doc, opened, adopted, patch, box)


class ProjectController(QObject):
    project_saved = Signal(object)  # Path
    project_opened = Signal(object)  # ReopenedProject (after the document controller adopted it)

    def __init__(self, doc: DocumentController, edits: EditController) -> None:
        super().__init__(doc)
        self.doc, self.edits = doc, edits
        self.path: Path | None = None  # the project file the document was last saved to or opened from
        self.restored: Document | None = None  # the project last opened: model, space and settings of its result
        doc.register_job("save-project", self._saved)
        doc.register_job("open-project", self._opened)
        doc.photo_opened.connect(self._photo_changed)

    def _photo_changed(self, _opened: OpenedPhoto) -> None:
        self.path, self.restored = None, None  # a project being opened sets them right after

    def document(self, embed: bool) -> Document:
        """The current state as a Document (without the edited image, which the save job renders)."""
        d = self.doc
        if d.opened is None or d.placement is None:
            raise ValueError("There is no document: open a photo first.")
        photo, adopted = d.opened.photo, d.adopted
        fields: dict = {"crop": d.placement.crop, "feather": d.feather, "alignment": d.placement.alignment,
                        "mask": d.run_mask()}
        if adopted is not None:
            result, old = adopted.result, self.restored
            model_id, space, inversion = ((result.model_id, result.space, result.config.to_dict()) if result else
                                          (old.model_id, old.space, dict(old.inversion)) if old else ("", "", {}))
            fields |= {"latents": adopted.latent[None], "best_index": 0, "image": adopted.image,
                       "fill_mask": adopted.fill_mask, "tuning": adopted.tuning,
                       "crop": adopted.placement.crop, "alignment": adopted.placement.alignment,
                       "model_id": model_id, "space": space, "inversion": inversion,
                       "edits": _edited_directions(self.edits.edits, {x.name: x for x in self.edits.directions()})}
        if embed or photo.source is None:
            return Document.for_photo(photo.source, embed=True, **fields) if photo.source else Document(
                photo_path=None, photo_sha256="", **fields)
        return Document.for_photo(photo.source, embed=False, **fields)

    def save(self, path: str | Path, embed: bool = False) -> bool:
        path = Path(path)
        if path.suffix.lower() != PROJECT_SUFFIX:
            path = path.with_suffix(PROJECT_SUFFIX)
        try:
            doc = self.document(embed)
        except (ValueError, OSError, CoreError) as exc:
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
        return self.doc.submit(JobRequest("open-project", lambda: call_as_job(lambda: reopen(Path(path)))))

    def _saved(self, path: Path) -> None:
        self.path = path
        self.doc.undo_stack.setClean()
        self.doc.status_changed.emit(f"Project saved to {path}")
        self.project_saved.emit(path)

    def _opened(self, project: ReopenedProject) -> None:
        d, doc = self.doc, project.document
        d.show_photo(project.opened)
        if doc.mask is not None:
            d.mask[...] = doc.mask
            d.mask_changed.emit(None)
        d.apply_alignment(doc.alignment)  # the outline shows the saved square; runs and pastes go through it
        self.path, self.restored = project.path, doc
        d.feather = doc.feather
        d.apply_result(project.adopted)
        # the project's own vectors, so the sliders act exactly as when it was saved; the library is not touched
        self.edits.pin({edit.name: _direction(edit, doc, project.path) for edit in doc.edits})
        edits = {e.name: e.alpha for e in doc.edits}
        self.edits.set_edits(edits, render=False)
        # reopen() makes a patch only from an edited image, so the last test only tells the type checker so
        if project.patch is not None and project.adopted is not None and doc.edited_image is not None:
            box = project.patch_box or doc.crop
            self.edits.show(EditPreview(self.edits.next_stamp(), edits, project.patch, box, doc.edited_image))
        self.doc.status_changed.emit(f"Opened project {project.path.name}")
        self.project_opened.emit(project)


def _direction(edit: EditedDirection, doc: Document, path: Path) -> Direction:
    """A direction as the project stored it (vector, scale, layers), named as it was."""
    return Direction(name=edit.name, vector=edit.vector, space=doc.space or "z", model_id=doc.model_id,
                     method=edit.method or "project", scale=edit.scale, layers=edit.layers,
                     provenance={"from_project": path.name})
