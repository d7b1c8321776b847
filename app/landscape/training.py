"""Training θ in the editor: ``core.landscape.training_run.run_training`` on the engine thread, stopped on demand.

A finished θ is only offered: it becomes the session's θ (``DocumentController.use_theta``, then every method that
descends through θ uses it, in Run, Compare Methods and the loss landscape alike) when the user says so, and only
when it passed the validation gate (``find_mapping`` refuses any other θ).

What a stopped run leaves on disk (``run_training``): the training loop checks the cancel token between
iterations, so the iteration under way completes, its checkpoint is written (``OUT/checkpoint/``, each file
atomically) and the gate and θ are skipped: no ``theta.safetensors`` / ``theta.json`` is written, and those of an
earlier finished run in the same folder stay as they were. Resume continues from the checkpoint. A stop that
arrives once training is over (during the gate) cannot interrupt it: that run saves its θ as usual.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from app.models.controller import ModelInfo
from core.jobs import CancelToken
from core.landscape import LandscapeTrainConfig, TrainingOutcome, TrainStep, run_training
from core.theta.registry import ready_mapping_dir


def same_folder(a: str | Path | None, b: str | Path | None) -> bool:
    """Two spellings of one folder (a θ in use is compared with where a run would write)."""
    return a is not None and b is not None and Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


class TrainingController(QObject):
    steps_received = Signal(object)  # list[TrainStep]
    finished = Signal(object)  # TrainingOutcome, or None when the run failed

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self._token: CancelToken | None = None  # the current run's, so a stop reaches it even while it is queued
        self.model: ModelInfo | None = None  # the loaded model, once described (the dialog follows it)
        doc.register_job("train", self._done, self._failed, on_steps=self.steps_received.emit)

    @property
    def running(self) -> bool:
        return self.doc.engine.pending("train")

    @property
    def in_use(self) -> str | None:
        """The folder of the θ the methods use now: the session's, else the model's shipped θ or one trained here
        (as ``mapping_dir`` looks); None when there is no ready θ, or before the model is described."""
        if self.doc.landscape_dir or self.model is None:
            return self.doc.landscape_dir
        folder = ready_mapping_dir(self.model.name, self.model.model_id)
        return None if folder is None else str(folder)

    def train(self, config: LandscapeTrainConfig, out: Path, resume: bool = False) -> bool:
        """Train θ for the loaded model into ``out``; :meth:`stop` ends it (checkpoint kept, ``resume`` continues).

        Refused when ``out`` holds the θ in use: a finished run rewrites ``out/theta.*``, which would change the
        session's θ without asking."""
        if same_folder(out, self.in_use):
            self.doc.status_changed.emit(f"{out} holds the θ in use; training into it would replace that θ "
                                         "without asking. Choose another folder.")
            return False
        d, token, faces, budgets = self.doc, CancelToken(), self.doc.gate_faces, self.doc.gate_budgets

        def job() -> Generator[TrainStep, None, TrainingOutcome]:
            return (yield from run_training(d.model("auto"), config, Path(out), resume, token, faces, budgets))

        if not d.submit(JobRequest("train", job, token)):
            return False
        self._token = token
        d.status_changed.emit("Training the landscape mapping θ…")
        return True

    def stop(self) -> None:
        """End the run after its current iteration (see the module's note for what stays on disk)."""
        if self._token is not None:
            self._token.cancel()
        self.doc.engine.cancel("train")

    def use(self, outcome: TrainingOutcome) -> bool:
        """Make a finished run's θ the session's θ; False (nothing changes) for a θ the gate did not pass."""
        if outcome.cancelled or not outcome.ready:
            return False
        self.doc.use_theta(str(outcome.folder))
        self.doc.status_changed.emit(f"Now using θ {outcome.folder} for every method that descends through θ.")
        return True

    def _failed(self, _message: str) -> None:
        self._token = None
        self.finished.emit(None)

    def _done(self, outcome: TrainingOutcome) -> None:
        self._token = None
        d = self.doc
        if outcome.cancelled:
            d.status_changed.emit(f"Training stopped after {outcome.iterations} iterations; θ in use unchanged.")
        elif outcome.ready:
            d.status_changed.emit(f"θ passed the gate ({outcome.folder}); it is used only once you choose it.")
        else:
            d.status_changed.emit(f"θ did not pass the gate: {outcome.gate.get('reason', '')}")
        self.finished.emit(outcome)
