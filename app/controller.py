"""The document controller: owns the open photo, crop, adopted result and undo stack; starts engine jobs.

Views never call heavy core code; they ask the controller, which builds a job and hands it to the engine
thread. Results come back as signals carrying numpy arrays and dataclasses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.commands import ValueCommand
from app.document_state import Adopted, OpenedPhoto, display_box, open_photo_job  # noqa: F401 (re-exported)
from app.placement import model_mask, model_target, place_in_display, place_in_photo
from app.workers import EngineThread, JobRequest
from core.alignment import Alignment
from core.device import from_uint8_hwc, pick_device, to_uint8_hwc
from core.generators import Generator as GeneratorModel
from core.generators import load_generator
from core.generators.tuning import WeightDelta, tuned_copy
from core.imageio import CropBox, load_mask, save_image
from core.inversion import InversionConfig, InversionResult, InversionStep, invert, warm_up
from core.inversion.report import save_npy
from core.jobs import CancelToken, call_as_job
from core.landscape.learning import LandscapeTrainConfig, TrainStep
from core.landscape.training_run import TrainingOutcome, run_training

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.1  # the progress bar and speed text change at most 10 times a second


class DocumentController(QObject):
    photo_opened = Signal(object)  # OpenedPhoto
    crop_applied = Signal(object)  # CropBox, after a set, undo or redo
    alignment_changed = Signal(object)  # Alignment | None (None: the manual crop), after a set, undo or redo
    result_applied = Signal(object)  # Adopted | None
    run_state_changed = Signal(bool)  # True while an inversion runs
    steps_received = Signal(object)  # list[InversionStep]
    progress_changed = Signal(int, int, float)  # step, steps, steps per second
    status_changed = Signal(str)  # status-bar text
    error_raised = Signal(str)  # a message for a dialog
    warning_raised = Signal(str)  # a lasting notice (e.g. a loss term fell back)
    busy_changed = Signal(bool)  # any job running (open, export, invert, train)
    training_steps = Signal(object)  # list[TrainStep] of a landscape training run
    training_finished = Signal(object)  # TrainingOutcome, or None when the run failed
    landscape_changed = Signal(str)  # folder of the θ the landscape method now uses
    model_changed = Signal(str)  # the generator was replaced: its library key (see ``switch_model``)
    engine_idle = Signal()  # a job ended (finished or failed): queued interactive work may go now

    def __init__(self, model: str = "default", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_name = model  # what ``load_generator`` is given: "default" or a model file's path
        self.library_key = "default" if model == "default" else Path(model).stem  # names per-model user folders
        self.engine = EngineThread(self)
        self.engine.worker.step_yielded.connect(self._on_steps)
        self.engine.worker.job_finished.connect(self._on_finished)
        self.engine.worker.job_failed.connect(self._on_failed)
        self.undo_stack = QUndoStack(self)
        self.opened: OpenedPhoto | None = None
        self.crop: CropBox | None = None
        self.alignment: Alignment | None = None  # the aligned face square the model sees (None: ``crop``)
        self.adopted: Adopted | None = None
        self.feather = 0.08
        self._models: dict[str, GeneratorModel] = {}  # touched on the engine thread only
        self._tuned: tuple[WeightDelta, GeneratorModel] | None = None  # the one pivotal-tuned copy (engine thread)
        self._job = ""
        self._run_began = 0.0
        self._warmed = False
        self.landscape_dir: str | None = None  # a θ trained in this session (None: the model's shipped θ)
        self.gate_faces = 32  # held-out faces the validation gate measures on
        self._progress_shown = 0.0
        self._deferred: JobRequest | None = None  # a job asked for while a quiet preview ran
        self._handlers: dict[str, tuple[Callable[[object], None], Callable[[str], None] | None, bool]] = {}
        self._step_handlers: dict[str, Callable[[list], None]] = {}
        self.result_image: Callable[[], Callable[[], np.ndarray] | None] | None = None  # edits hook for export

    # -- state -------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """An inversion or an inpainting runs (Stop applies, closing asks first)."""
        return self.engine.busy and self._job in ("invert", "inpaint")

    @property
    def aligning(self) -> bool:
        """The face alignment runs: a Run asked for meanwhile waits for it (it needs the aligned square)."""
        return self.engine.busy and self._job == "align"

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
        dropped = self.adopted is not None or self.undo_stack.count() > 0
        self.undo_stack.clear()
        self._apply_result(None)
        self.apply_alignment(None)  # it was fitted to the old model's framing and resolution
        self.model_changed.emit(library_key)
        why = " The result and the history belonged to the previous model, so they were cleared." if dropped else ""
        self.status_changed.emit(f"Model {G.name} loaded ({G.resolution} px).{why}")

    def reset_model(self) -> bool:
        """Drop the adopted result's tuned generator: re-render its latent with the original model (one undo step)."""
        adopted, opened = self.adopted, self.opened
        if adopted is None or adopted.tuning is None or opened is None:
            return False
        feather = self.feather

        def job() -> Adopted:
            G = self.model("auto")
            with torch.no_grad():
                latent = torch.from_numpy(adopted.latent[None].copy()).to(G.device)
                image = to_uint8_hwc(G.synthesize(latent, adopted.space))[0]
            display = place_in_display(opened, image, adopted.crop, adopted.alignment, adopted.fill_mask, feather)
            result = None if adopted.result is None else replace(adopted.result, tuning=None, images=image[None])
            return replace(adopted, result=result, display=display, image=image, tuning=None)

        return self._submit(JobRequest("reset-model", lambda: call_as_job(job)))

    def _model_reset(self, adopted: Adopted) -> None:
        self.undo_stack.push(ValueCommand("Reset to original model", self._apply_result, self.adopted, adopted, False))
        self.status_changed.emit("Back to the original model: this photo's tuned generator copy was dropped.")

    def _warm_up_once(self) -> None:
        """Load the model and run one tiny step on the engine thread, once, inside the first job.

        Lazy imports and kernel set-up then happen before any run (not as a freeze mid-run), and all torch work
        stays on the engine thread: a second thread computing with torch (the GUI's) costs every step ~25 %.
        """
        if not self._warmed:
            warm_up(self.model("auto"))
            self._warmed = True

    def register_job(self, name: str, on_done: Callable[[object], None],
                     on_failed: Callable[[str], None] | None = None, quiet: bool = False,
                     on_steps: Callable[[list], None] | None = None) -> None:
        """Route the results of jobs called ``name`` (submitted by another part of the app) to ``on_done``, and
        what they yield to ``on_steps``.

        A quiet job (a slider preview) neither shows as busy nor reports "busy" when refused: it is retried.
        """
        self._handlers[name] = (on_done, on_failed, quiet)
        if on_steps is not None:
            self._step_handlers[name] = on_steps

    def submit(self, request: JobRequest, quiet: bool = False) -> bool:
        return self._submit(request, quiet)

    def _submit(self, request: JobRequest, quiet: bool = False) -> bool:
        if self.engine.busy and not quiet and self._quiet(self._job) and self._deferred is None:
            self._deferred = request  # a slider preview takes milliseconds: run this right after it
            return True
        if self.engine.busy:
            if not quiet:
                self.status_changed.emit("Busy: wait for the current job or stop it first.")
            return False
        self._job = request.name
        self.engine.submit(request)
        if not quiet:
            self.busy_changed.emit(True)
        return True

    def _idle(self) -> None:
        """A job ended: start a deferred job first, else let queued interactive work go."""
        if self._deferred is not None:
            request, self._deferred = self._deferred, None
            self._submit(request)
            return
        self.engine_idle.emit()

    def _quiet(self, job: str) -> bool:
        return job in self._handlers and self._handlers[job][2]

    # -- photo, crop, mask -------------------------------------------------------------------------------------
    def open_photo(self, path: str | Path) -> bool:
        self.status_changed.emit(f"Opening {Path(path).name}…")
        def job() -> OpenedPhoto:
            self._warm_up_once()
            return open_photo_job(Path(path))

        return self._submit(JobRequest("open", lambda: call_as_job(job)))

    def set_crop(self, old: CropBox, new: CropBox) -> None:
        """A crop the user made on the canvas (already shown): record it for undo."""
        self.crop = new
        self.undo_stack.push(ValueCommand("Move crop", self._apply_crop, old, new))

    def _apply_crop(self, box: CropBox) -> None:
        self.crop = box
        self.crop_applied.emit(box)

    def apply_alignment(self, alignment: Alignment | None) -> None:
        """Give the model this aligned face square from now on (None: the manual crop again); no history."""
        self.alignment = alignment
        self.alignment_changed.emit(alignment)

    def import_mask(self, path: str | Path) -> np.ndarray:
        """Read a mask PNG the size of the photo → uint8 [H, W] (255 = masked)."""
        photo = self.opened.photo
        return (load_mask(path, photo.width, photo.height) * 255).astype(np.uint8)

    # -- inversion ---------------------------------------------------------------------------------------------
    def run_inversion(self, config: InversionConfig, device: str, mask: np.ndarray | None) -> bool:
        if self.opened is None or self.crop is None:
            self.error_raised.emit("Open a photo first.")
            return False
        opened, crop, alignment, token = self.opened, self.crop, self.alignment, CancelToken()
        if config.method == "landscape" and config.landscape is None and self.landscape_dir:
            config = config.with_changes(landscape=self.landscape_dir)
        mask = None if mask is None or not mask.any() else mask.copy()  # strokes made during the run wait

        def job() -> Generator[InversionStep, None, Adopted]:
            G = self.model(device)
            target = from_uint8_hwc(model_target(opened.photo.pixels, crop, alignment, G.resolution), G.device)
            small = None if mask is None else torch.from_numpy(model_mask(mask, crop, alignment, G.resolution))
            result = yield from invert(G, target, config, small, token)
            return self._adopt(opened, crop, result, alignment)

        if not self._submit(JobRequest("invert", job, token)):
            return False
        self._run_began = time.perf_counter()
        self.run_state_changed.emit(True)
        self.status_changed.emit("Inverting…")
        return True

    def _adopt(self, opened: OpenedPhoto, crop: CropBox, result: InversionResult,
               alignment: Alignment | None = None) -> Adopted:
        """Paste the best reconstruction into the display copy (runs on the engine thread)."""
        display = place_in_display(opened, result.best_image, crop, alignment, None, self.feather)
        return Adopted(result, crop, display, result.best_latent.copy(), result.best_image, tuning=result.tuning,
                       space=result.space, alignment=alignment)

    # -- landscape training --------------------------------------------------------------------------------
    def train_landscape(self, config: LandscapeTrainConfig, out: Path, resume: bool = False) -> bool:
        """Train θ for the loaded model on the engine thread; Pause is :meth:`stop_training` (checkpoint kept)."""
        token = CancelToken()

        def job() -> Generator[TrainStep, None, TrainingOutcome]:
            return (yield from run_training(self.model("auto"), config, Path(out), resume, token, self.gate_faces))

        if not self._submit(JobRequest("train", job, token)):
            return False
        self.status_changed.emit("Training the landscape mapping θ…")
        return True

    def stop_training(self) -> None:
        if self._job == "train":
            self.engine.cancel()

    def _training_done(self, outcome: TrainingOutcome) -> None:
        self.training_finished.emit(outcome)
        if outcome.cancelled:
            self.status_changed.emit(f"Training paused after {outcome.iterations} iterations (Resume continues).")
        elif outcome.ready:
            self.landscape_dir = str(outcome.folder)
            self.landscape_changed.emit(self.landscape_dir)
            self.status_changed.emit(f"θ passed the gate and is now used by the landscape method ({outcome.folder}).")
        else:
            self.status_changed.emit(f"θ did not pass the gate: {outcome.gate.get('reason', '')}")

    def stop(self) -> None:
        """Stop the run after its current step; its best result so far is still adopted."""
        if self.running:
            self.engine.cancel()
            self.status_changed.emit("Stopping after this step…")

    def _apply_result(self, adopted: Adopted | None) -> None:
        self.adopted = adopted
        self.result_applied.emit(adopted)

    # -- export ------------------------------------------------------------------------------------------------
    def export(self, path: str | Path, quality: int = 95) -> bool:
        """Write the photo with the adopted result pasted in, at the photo's full resolution, EXIF kept."""
        if self.opened is None:
            self.error_raised.emit("Open a photo first.")
            return False
        photo, adopted, feather = self.opened.photo, self.adopted, self.feather
        render = None if adopted is None or self.result_image is None else self.result_image()

        def write() -> Path:
            if adopted is None:
                pixels = photo.pixels
            else:
                image = render() if render is not None else adopted.image
                pixels = place_in_photo(photo.pixels, image, adopted.crop, adopted.alignment, adopted.fill_mask,
                                        feather)
            return save_image(pixels, path, exif=photo.exif, quality=quality)

        return self._submit(JobRequest("export", lambda: call_as_job(write)))

    def save_latent(self, path: str | Path) -> Path | None:
        if self.adopted is None:
            self.error_raised.emit("Run an inversion first: there is no latent to save.")
            return None
        saved = save_npy(Path(path), self.adopted.latent)
        self.status_changed.emit(f"Latent saved to {saved}")
        return saved

    # -- engine callbacks (GUI thread) ---------------------------------------------------------------------
    def _on_steps(self, records: list[InversionStep]) -> None:
        if self._job in self._step_handlers:
            self._step_handlers[self._job](records)
            return
        if self._job == "train":
            self.training_steps.emit(records)
            return
        if self._job not in ("invert", "inpaint"):
            return
        last = records[-1]
        elapsed = max(time.perf_counter() - self._run_began, 1e-6)
        for notice in (n for r in records for n in r.notices):
            self.warning_raised.emit(notice)
        self.steps_received.emit(records)
        now = time.perf_counter()
        if now - self._progress_shown >= PROGRESS_INTERVAL_S or last.step == last.steps:
            self._progress_shown = now
            self.progress_changed.emit(last.step, last.steps, last.step / elapsed)

    def _ended(self, job: str) -> None:
        """Book-keeping when ``job`` ended. The engine is marked free by its own slot, queued just before this
        one, so the GUI may have started another job in between: that job's name and busy state are kept."""
        if not self.engine.busy:
            self._job = ""
        if not self._quiet(job) and not self.engine.busy:
            self.busy_changed.emit(False)

    def _after_end(self) -> None:
        if not self.engine.busy:
            self._idle()

    def _on_finished(self, job: str, value: object) -> None:
        self._ended(job)
        if job in self._handlers:
            self._handlers[job][0](value)
        elif job == "open":
            self._photo_loaded(value)
        elif job == "invert":
            self._inversion_done(value)
        elif job == "export":
            self.status_changed.emit(f"Exported {value}")
        elif job == "train":
            self._training_done(value)
        elif job == "reset-model":
            self._model_reset(value)
        self._after_end()

    def _photo_loaded(self, opened: OpenedPhoto) -> None:
        self.opened, self.crop, self.adopted = opened, opened.crop, None
        self.undo_stack.clear()
        self.photo_opened.emit(opened)
        self.apply_alignment(None)
        self.result_applied.emit(None)  # whatever was adopted (and edited) belonged to the previous photo
        notes = f" ({'; '.join(opened.photo.notes)})" if opened.photo.notes else ""
        size = f"{opened.photo.width}×{opened.photo.height}"
        self.status_changed.emit(f"Opened {opened.photo.source.name}: {size}{notes}")

    def _inversion_done(self, adopted: Adopted) -> None:
        self.run_state_changed.emit(False)
        result = adopted.result
        self.undo_stack.push(ValueCommand("Adopt inversion", self._apply_result, self.adopted, adopted, False))
        state = f"Stopped after {result.steps_done} steps" if result.cancelled else f"Done: {result.steps_done} steps"
        self.status_changed.emit(f"{state}, best loss {float(result.losses.min()):.4f} ({result.seconds:.1f} s)")

    def _on_failed(self, job: str, message: str) -> None:
        self._ended(job)
        if job in self._handlers and self._handlers[job][1] is not None:
            self._handlers[job][1](message)
        if job == "train":
            self.training_finished.emit(None)
        if job == "invert":
            self.run_state_changed.emit(False)
        self.error_raised.emit(message)
        self._after_end()

    def shutdown(self) -> None:
        self.engine.shutdown()
