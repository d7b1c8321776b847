"""Latent edits of the adopted result: the direction library, the slider values, and live previews.

The slider values live in the document (``DocumentController.edits``), each with a copy of its direction's
vector, as a project stores them. A direction is looked up in the document's own directions first (the vectors
a reopened project was saved with, so it renders exactly as saved whatever the library holds now), then in the
user's library. Opening a project never writes into the library; the user's library folder is written only when
the user changes the library (until then the shipped directions are shown), and a damaged one is moved aside with a
message instead of stopping the editor.

Previews follow the "latest request wins" rule: every request gets a stamp; while the engine computes one, newer
requests replace each other in a single pending slot, so a fast drag never queues work; a result older than
the newest one already shown is dropped. A preview re-synthesises only the crop and blends it into the crop's
part of the display copy, so the canvas redraws one small patch, not the photo.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.document.commands import ValueCommand
from app.document.controller import DocumentController
from app.document.state import Adopted, FullRender
from app.engine import JobRequest
from core.directions import Direction, DirectionLibrary, apply_directions, load_user_library, shipped_library_dir
from core.errors import CoreError
from core.imageio import CropBox
from core.jobs import call_as_job
from core.photo_jobs import edited_latent, render_latent
from core.resources import user_data_dir
from core.sessions import EditedDirection

log = logging.getLogger(__name__)
Edits = dict[str, float]


@dataclass(frozen=True)
class EditPreview:
    """One rendered edit: the crop patch for the canvas and the generator's image."""

    stamp: int
    edits: Edits
    patch: np.ndarray | None  # uint8 [s, s, 3]: display pixels of the crop with the edit blended in (None: no edit)
    box: CropBox  # where ``patch`` lies, photo pixels: the crop, or the aligned square's bounding square
    image: np.ndarray  # uint8 [R, R, 3]: the edited generator output


def active(edits: Edits) -> Edits:
    return {name: value for name, value in edits.items() if value != 0.0}


def user_library_dir(model_name: str) -> Path:
    return user_data_dir() / "directions" / model_name


def open_user_library(model_name: str) -> tuple[DirectionLibrary, str | None]:
    """The user's editable library for a model (the shipped one until the user changes it; nothing is written
    here), and a message when the user's was damaged and moved aside."""
    try:
        library, problem = load_user_library(user_library_dir(model_name), fallback=shipped_library_dir(model_name))
    except CoreError as exc:  # the shipped library itself is damaged (a broken installation): the editor still starts
        library, problem = DirectionLibrary(), f"The standard directions could not be loaded: {exc}"
    if problem:
        log.warning("%s", problem)
    return library, problem


class EditController(QObject):
    edits_applied = Signal(object)  # Edits after a commit, undo, redo, reset or document load (sliders follow)
    preview_ready = Signal(object)  # EditPreview, newest only, in stamp order
    library_changed = Signal()

    def __init__(self, doc: DocumentController, library: DirectionLibrary | None = None,
                 library_dir: Path | None = None) -> None:
        super().__init__(doc)
        self.doc = doc
        self.library_dir = library_dir or user_library_dir(doc.library_key)
        # a damaged library's message waits for the window to show it (``library_problem``)
        self.library, self.library_problem = (library, None) if library is not None else open_user_library(
            doc.library_key)
        self._stamp = 0  # stamp of the newest request
        self._shown = 0  # stamp of the newest preview emitted
        self._pending: tuple[int, Edits] | None = None
        self._in_flight = False
        self.last_preview: EditPreview | None = None
        doc.register_job("preview", self._on_preview_done, self._on_preview_failed, quiet=True)
        doc.render_edited = lambda: self.render_function(self.edits)
        doc.render_full = lambda: self.full_render_function(self.edits)
        doc.engine_idle.connect(self._flush)
        doc.result_applied.connect(self._result_changed)
        doc.edits_changed.connect(self._edits_changed)
        doc.model_changed.connect(self.open_library)

    # -- library ---------------------------------------------------------------------------------------------
    def open_library(self, key: str) -> None:
        """Switch to the user library of the model ``key`` names (a new model: its shipped one, or empty)."""
        self._pending = None
        self.edits = {}
        self.edits_applied.emit({})
        self.library_dir = user_library_dir(key)
        self.library, problem = open_user_library(key)
        self.library_changed.emit()
        if problem:
            self.doc.error_raised.emit(problem)

    @property
    def edits(self) -> Edits:
        """The slider values (name → amount in std units) of the document's edits."""
        return {edit.name: edit.alpha for edit in self.doc.edits}

    @edits.setter
    def edits(self, values: Edits) -> None:
        """Make ``values`` the document's edits, each with a copy of its direction (the document's own first)."""
        self.doc.edits = tuple(EditedDirection(name=d.name, vector=d.vector, scale=d.scale, alpha=value,
                                               layers=d.layers, method=d.method)
                               for d, value in self.pairs(values))

    def directions(self) -> list[Direction]:
        """What the sliders show: the library's directions, each replaced by the document's own of that name, then
        the document's own that the library lacks."""
        names, own = self.library.names(), self.doc.own_directions
        return [self.direction(name) for name in names] + [d for n, d in own.items() if n not in names]

    def direction(self, name: str) -> Direction:
        own = self.doc.own_directions
        return own[name] if name in own else self.library.get(name)

    def names(self) -> list[str]:
        return [d.name for d in self.directions()]

    def pairs(self, edits: Edits) -> list[tuple[Direction, float]]:
        """(direction, amount) for every edit whose direction is known (document's own first, then library)."""
        known = set(self.names())
        return [(self.direction(name), value) for name, value in edits.items() if name in known]

    def add_direction(self, direction: Direction) -> None:
        self.library.add(direction)
        self._save_library()

    def rename_direction(self, old: str, new: str) -> None:
        self.library.rename(old, new)
        if old in self.edits:
            self.edits = {new if k == old else k: v for k, v in self.edits.items()}
        self._save_library()

    def remove_direction(self, name: str) -> None:
        self.library.remove(name)
        if name in self.edits:
            self._apply(active({k: v for k, v in self.edits.items() if k != name}))
        self._save_library()

    def set_range(self, name: str, low: float, high: float) -> None:
        if name in self.doc.own_directions:
            self.doc.own_directions[name] = self.doc.own_directions[name].replace(value_range=(low, high))
        if name in self.edits and not low <= self.edits[name] <= high:
            self._apply({**self.edits, name: min(max(self.edits[name], low), high)})
        if name not in self.library.names():
            self.library_changed.emit()
            return
        changed = self.library.get(name).replace(value_range=(low, high))
        self.library = DirectionLibrary([changed if d.name == name else d for d in self.library])
        self._save_library()

    def _save_library(self) -> None:
        try:
            self.library.save(self.library_dir)
        except (OSError, CoreError) as exc:
            self.doc.error_raised.emit(f"The direction library could not be saved to {self.library_dir}: {exc}")
        self.library_changed.emit()

    # -- edits -----------------------------------------------------------------------------------------------
    def preview(self, edits: Edits) -> int:
        """Ask for a render of ``edits`` (a drag in progress); returns its stamp. Never blocks, never queues."""
        self._stamp += 1
        self._pending = (self._stamp, active(edits))
        self._flush()
        return self._stamp

    def commit(self, old: Edits, new: Edits, text: str) -> None:
        """One finished gesture (a whole drag, a typed value, a reset) becomes one undo command."""
        old, new = active(old), active(new)
        if old == new:
            return
        self.edits = new
        self.doc.undo_stack.push(ValueCommand(text, self._apply, old, new))
        self.edits_applied.emit(dict(new))  # the panel already shows a drag's value; a scripted commit it does not
        self.preview(new)

    def reset(self) -> None:
        self.commit(self.edits, {}, "Reset edits")

    def set_edits(self, edits: Edits, render: bool = True) -> None:
        """Adopt ``edits`` without history (a reopened project, whose pixels may come with it: ``render=False``)."""
        self.edits = active(edits)
        self.show_document_edits(render)

    def show_document_edits(self, render: bool = True) -> None:
        """Show the document's edits as they are, without rebuilding them: a reopened project's, exactly as saved
        (their own vectors and scales, amounts of 0 included); ``render``: preview them."""
        self.edits_applied.emit(dict(self.edits))
        if render and active(self.edits):
            self.preview(self.edits)

    @property
    def stamp(self) -> int:
        """The stamp of the newest request."""
        return self._stamp

    def next_stamp(self) -> int:
        self._stamp += 1
        return self._stamp

    def show(self, preview: EditPreview) -> None:
        """Show a rendered edit that did not come from the engine (a reopened project's stored pixels)."""
        self._on_preview_done(preview, from_engine=False)

    def _apply(self, edits: Edits) -> None:
        self.edits = dict(edits)
        self.edits_applied.emit(dict(edits))
        self.preview(edits)

    def _result_changed(self, adopted: Adopted | None) -> None:
        """Another result (or none): previews of the old one are stale; the sliders show the document's edits
        (the document starts them from zero with a new latent, and brings them back with an undone one)."""
        self._pending = None
        self.last_preview = None
        self.edits_applied.emit(dict(self.edits))

    def _edits_changed(self) -> None:
        self.edits_applied.emit(dict(self.edits))
        if self.edits:
            self.preview(self.edits)

    # -- rendering (engine thread for the heavy part) --------------------------------------------------------
    def moved_latent(self, latent: np.ndarray, edits: Edits) -> np.ndarray:
        """``latent`` moved by ``edits`` (a code of the adopted result's space)."""
        pairs = self.pairs(edits)
        return apply_directions(latent, pairs) if pairs else latent

    def render_function(self, edits: Edits) -> Callable[[], np.ndarray] | None:
        """A call for the engine thread that synthesises the edited square (None without an adopted result); the
        edit rule is ``core.photo_jobs.edited_latent``, the one the CLI's ``edit`` follows."""
        adopted = self.doc.adopted
        if adopted is None:
            return None
        pairs = self.pairs(edits)
        if not pairs:
            return lambda: adopted.image  # exactly as adopted (a restored project's stored pixels)

        def render() -> np.ndarray:
            G = self.doc.photo_model("auto", adopted.tuning)
            latent, space = edited_latent(G, adopted.latent, pairs, adopted.space)
            return render_latent(G, latent, space)

        return render

    def full_render_function(self, edits: Edits) -> FullRender | None:
        """A call for the engine thread: (edited image, unedited reference) at the model's full render resolution,
        or None where it has none beyond its working one. Restorations and older inpaintings keep their square."""
        adopted = self.doc.adopted
        if adopted is None or adopted.reference is not None or adopted.fill_mask is not None:
            return None
        pairs = self.pairs(edits)

        def render() -> tuple[np.ndarray, np.ndarray] | None:
            G = self.doc.photo_model("auto", adopted.tuning)
            if G.render_resolution == G.resolution:
                return None
            latent, space = edited_latent(G, adopted.latent, pairs, adopted.space)
            unedited = render_latent(G, adopted.latent, adopted.space, full=True)
            return (render_latent(G, latent, space, full=True) if pairs else unedited), unedited

        return render

    def _flush(self) -> None:
        if self._pending is None or self._in_flight or self.doc.engine.busy:
            return
        stamp, edits = self._pending
        self._pending = None
        opened, adopted, feather, fills = self.doc.opened, self.doc.adopted, self.doc.feather, self.doc.fills
        detail = self.doc.detail
        render = self.render_function(edits)
        if opened is None or adopted is None or render is None:
            return

        def job() -> EditPreview:
            image = render()
            if not edits:
                return EditPreview(stamp, edits, None, adopted.placement.crop, image)
            # an inpainting's edit too changes only the filled pixels; an aligned result goes through its square;
            # the fills stay on top of the edited result
            patch, box = opened.patch_on_display(adopted.placement, image, adopted.fill_mask, feather, fills,
                                                 reference=adopted.change_reference(detail), detail=detail)
            return EditPreview(stamp, edits, patch, box, image)

        self._in_flight = self.doc.submit(JobRequest("preview", lambda: call_as_job(job)), quiet=True)

    def _on_preview_failed(self, message: str) -> None:
        self._in_flight = False

    def _on_preview_done(self, preview: EditPreview, from_engine: bool = True) -> None:
        if from_engine:
            self._in_flight = False
        if preview.stamp > self._shown:
            self._shown = preview.stamp
            self.last_preview = preview
            self.preview_ready.emit(preview)
