"""Training θ in the editor: ``core.landscape.training_run.run_training`` on the engine thread, paused on demand.

A θ that passes the validation gate becomes the session's θ (``DocumentController.use_theta``): from then on every
method that descends through θ uses it, in Run, Compare Methods and the loss landscape alike.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from core.jobs import CancelToken
from core.landscape import LandscapeTrainConfig, TrainingOutcome, TrainStep, run_training


class TrainingController(QObject):
    steps_received = Signal(object)  # list[TrainStep]
    finished = Signal(object)  # TrainingOutcome, or None when the run failed

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        doc.register_job("train", self._done, lambda _message: self.finished.emit(None),
                         on_steps=self.steps_received.emit)

    @property
    def running(self) -> bool:
        return self.doc.engine.running("train")

    def train(self, config: LandscapeTrainConfig, out: Path, resume: bool = False) -> bool:
        """Train θ for the loaded model; :meth:`stop` pauses it (checkpoint kept, ``resume`` continues)."""
        d, token, faces, budgets = self.doc, CancelToken(), self.doc.gate_faces, self.doc.gate_budgets

        def job() -> Generator[TrainStep, None, TrainingOutcome]:
            return (yield from run_training(d.model("auto"), config, Path(out), resume, token, faces, budgets))

        if not d.submit(JobRequest("train", job, token)):
            return False
        d.status_changed.emit("Training the landscape mapping θ…")
        return True

    def stop(self) -> None:
        self.doc.engine.cancel("train")

    def _done(self, outcome: TrainingOutcome) -> None:
        self.finished.emit(outcome)
        d = self.doc
        if outcome.cancelled:
            d.status_changed.emit(f"Training paused after {outcome.iterations} iterations (Resume continues).")
        elif outcome.ready:
            d.use_theta(str(outcome.folder))
            d.status_changed.emit(f"θ passed the gate and is now used by every method that descends through θ "
                                  f"({outcome.folder}).")
        else:
            d.status_changed.emit(f"θ did not pass the gate: {outcome.gate.get('reason', '')}")
