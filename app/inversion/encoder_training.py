"""Training an encoder in the editor: ``core.inversion.encoder_training.run_encoder_training`` on the engine
thread, stopped on demand, for a model that ships none (the FFHQ model) or to try other settings.

Where the encoder and hybrid methods find an encoder (``find_encoder``, read on every run, so a new one is used by
the next run): the model's shipped encoder first, else ``trained_dir(model, "encoder")`` in the user's data folder,
which is where a run writes unless told otherwise.

What a stopped run leaves on disk: the training loop checks the cancel token between iterations, so the iteration
under way completes, its checkpoint is written (``OUT/checkpoint/``) and no ``encoder.safetensors`` /
``encoder.json`` is; those of an earlier finished run in the same folder stay as they were. Resume continues the
checkpoint with the settings it was started with (only the minute limit is this run's).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from app.landscape.training import same_folder
from app.models.controller import ModelInfo
from core.errors import InvalidInputError
from core.inversion.encoder import shipped_encoder_folder
from core.inversion.encoder_training import EncoderTrainConfig, EncoderTrainStep, run_encoder_training
from core.jobs import CancelToken
from core.resources import trained_dir

JOB = "train-encoder"


@dataclass(frozen=True)
class EncoderPlaces:
    """The folders ``find_encoder`` reads for one model, in its order: the shipped encoder's, then this machine's."""

    shipped: Path
    trained: Path

    @classmethod
    def of(cls, info: ModelInfo) -> EncoderPlaces:
        # the document's model is never a pivotal-tuned copy, so its id is its base model's id
        return cls(shipped_encoder_folder(info.name), trained_dir(info.model_id, "encoder"))

    @property
    def ships_one(self) -> bool:
        return (self.shipped / "encoder.json").is_file()

    def in_use(self) -> str:
        """What the encoder and hybrid methods will use for this model, in a sentence."""
        if self.ships_one:
            return ("Encoder and hybrid use the shipped encoder; it stays in use. One trained here is saved in its "
                    "folder, and landscape-studio invert --encoder FOLDER uses it.")
        if (self.trained / "encoder.json").is_file():
            return f"Encoder and hybrid use the encoder trained here in {self.trained}."
        return "No encoder yet: encoder and hybrid fall back to the direct method."

    def verdict(self, folder: Path) -> str:
        """What a new encoder in ``folder`` changes for the encoder and hybrid methods."""
        if self.ships_one:
            return (f"Encoder and hybrid keep the shipped encoder; pass this one with --encoder {folder} "
                    "(landscape-studio invert).")
        if same_folder(folder, self.trained):
            return "Encoder and hybrid now use it."
        return (f"Encoder and hybrid read {self.trained} for this model, so they do not use this one "
                f"(pass it with --encoder {folder}, or train into that folder).")


@dataclass(frozen=True)
class EncoderOutcome:
    """How a run ended. ``meta`` is the new ``encoder.json`` (None: stopped, no encoder written)."""

    folder: Path
    iterations: int  # done in all, resumed runs included
    seconds: float  # training time in all
    meta: dict[str, Any] | None

    @property
    def cancelled(self) -> bool:
        return self.meta is None


def folder_problem(folder: Path) -> str | None:
    """Why the encoder could not be written into ``folder`` (created here if missing), or None. Checked before
    training starts: otherwise the first save, a minute or hours in, would be where it fails."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"Cannot write to {folder}: {exc.strerror or exc}. Choose another folder."
    return None


def stored_run(folder: Path) -> tuple[EncoderTrainConfig, int, list[dict[str, Any]]] | None:
    """The settings, iteration and history of the checkpoint in ``folder`` (what Resume continues), or None when
    there is none or it cannot be read (Resume then reports the damage from the engine)."""
    try:
        meta = json.loads((folder / "checkpoint" / "checkpoint.json").read_text(encoding="utf-8"))
        history = meta.get("history")
        return (EncoderTrainConfig.from_dict(meta["config"]), int(meta["iteration"]),
                history if isinstance(history, list) else [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class EncoderTrainingController(QObject):
    steps_received = Signal(object)  # list[EncoderTrainStep]
    finished = Signal(object)  # EncoderOutcome
    failed = Signal(str)  # why the run failed (the window shows it too)

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self._token: CancelToken | None = None  # the current run's, so a stop reaches it even while it is queued
        doc.register_job(JOB, self._done, self._failed, on_steps=self.steps_received.emit)

    @property
    def running(self) -> bool:
        return self.doc.engine.pending(JOB)

    def train(self, config: EncoderTrainConfig, out: Path | None, resume: bool = False) -> bool:
        """Train an encoder for the loaded model into ``out`` (None: the folder ``find_encoder`` reads for it);
        False when the engine runs another long job. :meth:`stop` ends it (checkpoint kept, ``resume`` goes on)."""
        d, token = self.doc, CancelToken()

        def job() -> Generator[EncoderTrainStep, None, EncoderOutcome]:
            G = d.model("auto")
            folder = Path(out) if out is not None else trained_dir(G.base_model_id, "encoder")
            problem = folder_problem(folder)
            if problem is not None:
                raise InvalidInputError(problem)
            before = _stamp(folder / "encoder.json")
            state = yield from run_encoder_training(G, config, folder, resume, token)
            written = _stamp(folder / "encoder.json") not in (None, before)  # a stop during the save still saved
            meta = json.loads((folder / "encoder.json").read_text(encoding="utf-8")) if written else None
            return EncoderOutcome(folder, state.iteration, state.seconds, meta)

        if not d.submit(JobRequest(JOB, job, token)):
            return False
        self._token = token
        d.status_changed.emit("Training an encoder for the loaded model…")
        return True

    def stop(self) -> None:
        """End the run after its current iteration (see the module's note for what stays on disk)."""
        if self._token is not None:
            self._token.cancel()
        self.doc.engine.cancel(JOB)

    def _failed(self, message: str) -> None:
        self._token = None
        self.failed.emit(message)

    def _done(self, outcome: EncoderOutcome) -> None:
        self._token = None
        self.finished.emit(outcome)
