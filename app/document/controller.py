"""The document controller: the one owner of the open photo's state, its undo stack and the loaded model.

State: the photo (with its display copy), its ``Placement`` (crop box, or an aligned face square), the brush mask
(uint8 [H, W], drawn by the canvas but owned here), the adopted result, how results enter the photo ("detail" or
"replace"), the paste-back feather and the session's θ. Feature controllers read it, submit photo-level jobs
through ``engine`` and hand results back through the public methods below; none of them reaches into another's
members. The mask's own history lives in ``app.document.mask_history``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.document.commands import ValueCommand
from app.document.mask_history import MaskHistory
from app.document.state import Adopted, DocumentState, FullRender, OpenedPhoto, composite_photo, open_photo_job
from app.engine import Engine, JobRequest, JobRoute
from core.alignment import Alignment
from core.device import pick_device
from core.directions import Direction
from core.generators import Generator as GeneratorModel
from core.generators import load_generator
from core.generators.tuning import WeightDelta, tuned_copy
from core.imageio import CropBox, save_image
from core.inversion import warm_up
from core.inversion.report import save_npy
from core.jobs import call_as_job
from core.objectives.operators import parse_operator
from core.photo_jobs import render_latent
from core.placement import DEFAULT_COMPOSITE, DEFAULT_FEATHER, Placement, check_composite_mode
from core.sessions import EditedDirection, Fill
from core.theta.registry import learning_note, mapping_dir

log = logging.getLogger(__name__)
HistoryState = tuple[Adopted | None, tuple[EditedDirection, ...], tuple[Fill, ...], str]  # result, edits, fills, mode
RUN_JOBS = ("invert", "inpaint", "drag")  # the long runs: Stop applies to them, closing asks first


class DocumentController(MaskHistory, QObject):
    photo_opened = Signal(object)  # OpenedPhoto
    crop_applied = Signal(object)  # CropBox, after a set, undo or redo
    alignment_changed = Signal(object)  # Alignment | None (None: the manual crop), after a set, undo or redo
    mask_changed = Signal(object)  # (x, y, w, h) of the changed pixels, or None for the whole mask
    result_applied = Signal(object)  # Adopted | None
    edits_changed = Signal()  # the edits changed with the result (an adopt, or its undo or redo)
    run_state_changed = Signal(bool)  # True while an inversion, an inpainting or a drag edit runs
    status_changed = Signal(str)  # status-bar text
    error_raised = Signal(str)  # a message for a dialog
    warning_raised = Signal(str)  # a lasting notice (e.g. a loss term fell back)
    busy_changed = Signal(bool)  # any job running (open, export, invert, train)
    landscape_changed = Signal(str)  # folder of the θ the session now uses (every method that descends through θ)
    model_changed = Signal(str)  # the generator was replaced: its library key (see ``switch_model``)
    composite_changed = Signal(str)  # "detail" | "replace", after a change, undo or redo
    engine_idle = Signal()  # a job ended (finished or failed): queued interactive work may go now

    def __init__(self, model: str = "default", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_name = model  # what ``load_generator`` is given: "default" or a model file's path
        self.library_key = "default" if model == "default" else Path(model).stem  # names per-model user folders
        self.engine = Engine(self)
        self.engine.busy_changed.connect(self.busy_changed)
        self.engine.idle.connect(self.engine_idle)
        self.engine.refused.connect(lambda _name: self.status_changed.emit(
            "Busy: wait for the current job or stop it first."))
        self.engine.job_failed.connect(lambda _job, message: self.error_raised.emit(message))
        self.engine.job_started.connect(lambda job: self._run_state(job, True))
        self.engine.job_ended.connect(lambda job: self._run_state(job, False))
        self.undo_stack = QUndoStack(self)
        self.opened: OpenedPhoto | None = None
        self.placement: Placement | None = None  # where the model's square lies in the open photo
        self.mask = np.zeros((0, 0), np.uint8)  # uint8 [H, W], 255 = brushed; the canvas draws this very array
        self.adopted: Adopted | None = None
        self.edits: tuple[EditedDirection, ...] = ()  # the applied edits, each with its own vector and amount
        self.fills: tuple[Fill, ...] = ()  # applied inpainting fills, stacked over the (edited) result in order
        self.own_directions: dict[str, Direction] = {}  # a reopened project's directions: they win over the library
        self.feather = DEFAULT_FEATHER
        self.composite = DEFAULT_COMPOSITE  # how this document's results enter the photo ("detail" | "replace")
        self.default_composite = DEFAULT_COMPOSITE  # what a newly opened photo starts with (the Preferences')
        self.landscape_dir: str | None = None  # the session's θ (trained in this editor; None: the shipped one)
        self.gate_faces: int | None = None  # held-out faces per gate budget (None: the model's, gate.model_gate)
        self.gate_budgets: tuple[int, ...] | None = None  # the step budgets it compares θ at (None: the model's)
        self._models: dict[str, GeneratorModel] = {}  # touched on the engine thread only
        self._tuned: tuple[WeightDelta, GeneratorModel] | None = None  # the one pivotal-tuned copy (engine thread)
        self._warmed = False
        self.render_edited: Callable[[], Callable[[], np.ndarray] | None] | None = None  # the edits' renderer
        self.render_full: Callable[[], FullRender | None] | None = None  # the same at full resolution (export)
        self.register_job("open", self._photo_loaded)
        self.register_job("export", lambda path: self.status_changed.emit(f"Exported {path}"))
        self.register_job("reset-model", lambda adopted: self.adopt(adopted, "Reset to original model",
                                                                    keep_edits=True))
        self.register_job("composite", lambda done: self._push_state(*done))

    # -- jobs ------------------------------------------------------------------------------------------------
    def register_job(self, name: str, on_done: Callable[[Any], None],
                     on_failed: Callable[[str], None] | None = None, quiet: bool = False,
                     on_steps: Callable[[list], None] | None = None) -> None:
        """Route the results of jobs called ``name`` to ``on_done``, and what they yield to ``on_steps``.

        A quiet job (a slider preview) neither shows as busy nor reports "busy" when refused: it is retried.
        """
        self.engine.register(name, JobRoute(on_done, on_failed, on_steps, quiet))

    def submit(self, request: JobRequest, quiet: bool = False) -> bool:
        return self.engine.submit(request, quiet)

    @property
    def running(self) -> bool:
        """An inversion or an inpainting runs (Stop applies, closing asks first)."""
        return self.engine.running(*RUN_JOBS)

    @property
    def aligning(self) -> bool:
        """The face alignment runs or is about to (queued behind a quiet job): a Run asked for meanwhile waits for
        it, since it needs the aligned square."""
        return self.engine.pending("align")

    def stop(self) -> None:
        """Stop the run after its current step; its best result so far is still adopted."""
        if self.running:
            self.engine.cancel(*RUN_JOBS)
            self.status_changed.emit("Stopping after this step…")

    def _run_state(self, job: str, running: bool) -> None:
        if job in RUN_JOBS:
            self.run_state_changed.emit(running)

    # -- the model -------------------------------------------------------------------------------------------
    def model(self, device: str = "cpu") -> GeneratorModel:
        """The generator on ``device`` (loaded once; call from the engine thread or before any job runs)."""
        key = str(pick_device(device))
        if key not in self._models:
            self._models[key] = load_generator(self.model_name, key)
        return self._models[key]

    def photo_model(self, device: str = "cpu", tuning: WeightDelta | None = None) -> GeneratorModel:
        """The generator for one photo's edits, inpainting and plots: the pivotal-tuned copy for ``tuning``, else
        the model itself. Only one tuned copy is kept (a new tuning replaces it), so memory stays bounded."""
        base = self.model(device)
        if tuning is None:
            return base
        if self._tuned is None or self._tuned[0] is not tuning or self._tuned[1].device != base.device:
            self._tuned = None  # release the old copy before making the new one
            self._tuned = (tuning, tuned_copy(base, tuning))
        return self._tuned[1]

    def loaded_generators(self) -> list[GeneratorModel]:
        """Every generator copy in memory (one per device, and the tuned one)."""
        return [*self._models.values(), *([self._tuned[1]] if self._tuned else [])]

    def warm_up_once(self) -> None:
        """Load the model and run one tiny step on the engine thread, once, inside the first job.

        Lazy imports and kernel set-up then happen before any run (not as a freeze mid-run), and all torch work
        stays on the engine thread: a second thread computing with torch (the GUI's) costs every step ~25 %.
        """
        if not self._warmed:
            warm_up(self.model("auto"))
            self._warmed = True

    def switch_model(self, name: str, device_key: str, G: GeneratorModel, library_key: str) -> None:
        """Use ``G`` (loaded from ``name`` onto ``device_key`` by a finished job) from now on. GUI thread, engine
        idle.

        Everything tied to the old weights goes: the per-device cache and the tuned copy, the session's θ (it maps
        into the old latent space), and the adopted result with the history that could bring it back (its latent
        means nothing to the new model). The photo, crop and mask stay.
        """
        self.model_name, self.library_key = name, library_key
        self._models = {device_key: G}
        self._tuned = None
        self._warmed = False
        self.landscape_dir = None
        self.edits, self.own_directions = (), {}
        dropped = self.adopted is not None or self.undo_stack.count() > 0
        self.undo_stack.clear()
        self.apply_result(None)
        self.apply_alignment(None)  # it was fitted to the old model's framing and resolution
        self.model_changed.emit(library_key)
        why = " The result and the history belonged to the previous model, so they were cleared." if dropped else ""
        self.status_changed.emit(f"Model {G.name} loaded ({G.resolution} px).{why}")

    def theta_note(self) -> str:
        """What training added to the θ the landscape method now uses (from its gate; "" before a model is loaded)."""
        loaded = self.loaded_generators()
        return learning_note(mapping_dir(loaded[0], self.landscape_dir)) if loaded else ""

    def use_theta(self, folder: str) -> None:
        """From now on every method that descends through θ uses the θ in ``folder`` (one trained here)."""
        self.landscape_dir = folder
        self.landscape_changed.emit(folder)

    def reset_model(self) -> bool:
        """Drop the adopted result's tuned generator: re-render its latent with the original model (one undo step)."""
        adopted, opened = self.adopted, self.opened
        if adopted is None or adopted.tuning is None or opened is None:
            return False
        feather, detail = self.feather, self.detail

        def job() -> Adopted:
            image = render_latent(self.model("auto"), adopted.latent, adopted.space)
            result = None if adopted.result is None else replace(adopted.result, tuning=None, images=image[None])
            operator = adopted.record()[2].get("operator")
            reference = None if adopted.reference is None else parse_operator(operator).seen(image)
            return replace(adopted, result=result, image=image, tuning=None, reference=reference).redisplayed(
                opened, feather, detail)

        return self.submit(JobRequest("reset-model", lambda: call_as_job(job)))

    # -- photo, placement ------------------------------------------------------------------------------------
    @property
    def crop(self) -> CropBox | None:
        return None if self.placement is None else self.placement.crop

    @property
    def alignment(self) -> Alignment | None:
        return None if self.placement is None else self.placement.alignment

    def open_photo(self, path: str | Path) -> bool:
        self.status_changed.emit(f"Opening {Path(path).name}…")

        def job() -> OpenedPhoto:
            self.warm_up_once()
            return open_photo_job(Path(path))

        return self.submit(JobRequest("open", lambda: call_as_job(job)))

    @property
    def state(self) -> DocumentState | None:
        """The document as one value, field for field a project file (None before a photo is open)."""
        if self.opened is None or self.placement is None:
            return None
        return DocumentState(self.opened, self.placement, self.run_mask(), self.adopted, self.edits, self.feather,
                             self.fills, self.composite)

    def load_state(self, state: DocumentState, directions: dict[str, Direction]) -> None:
        """Make ``state`` (a reopened project) the document, its ``directions`` the document's own; no history."""
        self.show_photo(state.opened)
        if state.mask is not None:
            self.mask[...] = state.mask
            self.mask_changed.emit(None)
        self.apply_alignment(state.placement.alignment)  # the outline shows the saved square
        self.feather = state.feather
        self.fills = state.fills
        self._apply_composite(state.composite)
        self.apply_result(state.adopted)
        self.own_directions = dict(directions)
        self.edits = state.edits

    def show_photo(self, opened: OpenedPhoto) -> None:
        """Make ``opened`` the document: its default placement, an empty mask, no result and no history."""
        self.opened, self.placement, self.adopted = opened, opened.placement, None
        self.edits, self.own_directions, self.fills = (), {}, ()
        self._apply_composite(self.default_composite)
        self.mask = np.zeros((opened.photo.height, opened.photo.width), np.uint8)
        self.undo_stack.clear()
        self.photo_opened.emit(opened)
        self.mask_changed.emit(None)
        self.apply_alignment(None)
        self.result_applied.emit(None)  # whatever was adopted (and edited) belonged to the previous photo

    def _photo_loaded(self, opened: OpenedPhoto) -> None:
        self.show_photo(opened)
        notes = f" ({'; '.join(opened.photo.notes)})" if opened.photo.notes else ""
        size = f"{opened.photo.width}×{opened.photo.height}"
        source = opened.photo.source  # a photo opened from a file always has one
        self.status_changed.emit(f"Opened {source.name if source is not None else 'photo'}: {size}{notes}")

    def set_crop(self, old: CropBox, new: CropBox) -> None:
        """A crop the user made on the canvas (already shown): record it for undo."""
        self._apply_crop(new, emit=False)
        self.undo_stack.push(ValueCommand("Move crop", self._apply_crop, old, new))

    def _apply_crop(self, box: CropBox, emit: bool = True) -> None:
        if self.placement is not None:
            self.placement = self.placement.with_crop(box)
        if emit:
            self.crop_applied.emit(box)

    def apply_alignment(self, alignment: Alignment | None) -> None:
        """Give the model this aligned face square from now on (None: the manual crop again); no history."""
        if self.placement is not None:
            self.placement = self.placement.aligned(alignment)
        self.alignment_changed.emit(alignment)

    # -- result ----------------------------------------------------------------------------------------------
    def adopt(self, adopted: Adopted, text: str, keep_edits: bool = False, keep_fills: bool = False) -> None:
        """Make ``adopted`` the document's result as one undo step called ``text``. A new latent starts its edits
        and fills from zero (``keep_edits``: the same latent, e.g. re-rendered by the original model, keeps both;
        ``keep_fills``: an edit of the latent itself, e.g. a drag, keeps the fills stacked over it, as slider edits
        do); undo brings back the previous result with its edits and fills, so the history and the canvas agree.
        The document takes the composite the result was blended with (the one it had when the run started)."""
        mode = adopted.composite
        fills = self.fills if keep_edits or keep_fills else ()
        new = (adopted, self.edits if keep_edits else (), fills, mode)
        self._push_state(text, new)

    def add_fill(self, fill: Fill, text: str) -> None:
        """Stack ``fill`` over what the document shows (the result with its edits, earlier fills): one undo step."""
        self._push_state(text, (self.adopted, self.edits, (*self.fills, fill), self.composite))

    def _push_state(self, text: str, new: HistoryState) -> None:
        old = (self.adopted, self.edits, self.fills, self.composite)
        self.undo_stack.push(ValueCommand(text, self._apply_state, old, new, False))

    def _apply_state(self, value: HistoryState) -> None:
        adopted, self.edits, self.fills, composite = value
        self._apply_composite(composite)
        self.apply_result(adopted)
        self.edits_changed.emit()

    # -- how results enter the photo -------------------------------------------------------------------------
    @property
    def detail(self) -> bool:
        """Results add only their change to the photo, which keeps its own detail ("detail"; else "replace")."""
        return self.composite == "detail"

    def set_composite(self, mode: str) -> bool:
        """Switch this document between "detail" and "replace" (one undo step; the result is re-blended on the
        engine thread)."""
        check_composite_mode(mode)
        if mode == self.composite or self.opened is None:
            return False
        adopted, opened, feather = self.adopted, self.opened, self.feather
        text = "Keep photo detail" if mode == "detail" else "Replace with the model's face"
        edits, fills = self.edits, self.fills

        def job() -> tuple[str, HistoryState]:
            again = None if adopted is None else adopted.redisplayed(opened, feather, mode == "detail")
            return text, (again, edits, fills, mode)

        return self.submit(JobRequest("composite", lambda: call_as_job(job)))

    def _apply_composite(self, mode: str) -> None:
        if mode != self.composite:
            self.composite = mode
            self.composite_changed.emit(mode)

    def apply_result(self, adopted: Adopted | None) -> None:
        """Show ``adopted`` (no history: undo, redo and reopened projects come here)."""
        self.adopted = adopted
        self.result_applied.emit(adopted)

    def shown_display(self) -> np.ndarray | None:
        """What the canvas shows as "after" before any edit's patch: the result and fills on the display copy."""
        return None if self.opened is None else self.opened.shown(self.adopted, self.fills, self.detail)

    def composite_photo(self, full: bool = False) -> Callable[[], np.ndarray] | None:
        """A call for the engine thread: the photo as the document shows it, full resolution (edits rendered);
        with ``full`` the result is rendered at the model's own full resolution where it works at a smaller one."""
        if self.opened is None:
            return None
        photo, adopted, fills, feather, detail = self.opened.photo, self.adopted, self.fills, self.feather, self.detail
        render = None if adopted is None or self.render_edited is None else self.render_edited()
        big = None if not full or adopted is None or self.render_full is None else self.render_full()
        return lambda: composite_photo(photo.pixels, adopted, None if render is None else render(), fills, feather,
                                       detail, None if big is None else big())

    # -- export ----------------------------------------------------------------------------------------------
    def export(self, path: str | Path, quality: int = 95) -> bool:
        """Write the photo with the adopted (and edited) result and the fills composited at full resolution, EXIF
        kept."""
        if self.opened is None:
            self.error_raised.emit("Open a photo first.")
            return False
        photo, composite = self.opened.photo, self.composite_photo(full=True)
        assert composite is not None  # a photo is open

        def write() -> Path:
            return save_image(composite(), path, exif=photo.exif, quality=quality)

        return self.submit(JobRequest("export", lambda: call_as_job(write)))

    def save_latent(self, path: str | Path) -> Path | None:
        if self.adopted is None:
            self.error_raised.emit("Run an inversion first: there is no latent to save.")
            return None
        saved = save_npy(Path(path), self.adopted.latent)
        self.status_changed.emit(f"Latent saved to {saved}")
        return saved

    def shutdown(self) -> None:
        self.engine.shutdown()
