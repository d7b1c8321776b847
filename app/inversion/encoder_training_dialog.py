""""Train encoder…": settings, the PSNR of G(E(y)) over training time (training batch, smoothed, and validation
faces), time left, Start / Stop / Resume, and what the encoder and hybrid methods use for the loaded model.

Training runs on the engine thread (``encoder_training``); a stopped run keeps its checkpoint, a finished one saves
the encoder, which the methods pick up on their next run when it lies where they look. Closing while training
asks first, as the Train Landscape dialog does.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document.controller import DocumentController
from app.inversion.encoder_training import (
    EncoderOutcome,
    EncoderPlaces,
    EncoderTrainingController,
    folder_problem,
    stored_run,
)
from app.landscape.training_questions import AsksBeforeClosing
from app.models.controller import ModelController, ModelInfo
from core.errors import InvalidInputError
from core.inversion.encoder_training import EncoderTrainConfig, EncoderTrainStep

if TYPE_CHECKING:
    from app.main_window import MainWindow

SMOOTHING = 0.1  # exponential moving average of the batch PSNR: one batch is a noisy estimate
DEFAULT_MINUTES = 30.0  # the embedded model's default 3000 iterations took 17 CPU minutes
INTRO = ("Trains an encoder (image → latent) on the loaded model's own faces. Minutes on the embedded model; on "
         "the FFHQ model a 2-core CPU takes about 75 s per iteration of 32 faces, so a useful encoder there needs a "
         "GPU or days (Stop and Resume split it over sessions).")
DETAILS = ("Each iteration generates a batch of faces y from random latents x and trains E so that E(y) is near x "
           "and G(E(y)) looks like y. The weights that score best on validation faces are kept and measured on 64 "
           "held-out faces. The embedded model's shipped encoder took the default 3000 iterations of 32 faces, 17 "
           "CPU minutes with one thread. On the FFHQ model one such iteration took about 75 s on a 2-core "
           "CPU (2.4 s a face): a GPU, or days over several sessions (Stop keeps a checkpoint, Resume continues it).")


def _duration(seconds: float) -> str:
    """"40 s", "12 min", "3.5 h": time left at the precision an estimate has."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 90 * 60 else f"{seconds / 3600:.1f} h"


ENCODER_STOP = ("The encoder is still training.", "Stop it and close? Training stops after the current "
                "iteration; its checkpoint is kept (Resume continues it), no encoder is written and the encoder and "
                "hybrid methods keep what they use now.")


def open_encoder_dialog(window: MainWindow) -> EncoderTrainDialog:
    """Run → Train Encoder…: the window's one dialog (made on first use, a child of the window), shown."""
    dialog = window.findChild(EncoderTrainDialog)
    if dialog is None:
        dialog = EncoderTrainDialog(window.controller, window.models.models, window)
    dialog.show()
    dialog.raise_()
    return dialog


class EncoderTrainDialog(AsksBeforeClosing, QDialog):
    asking = Signal(object)  # a QMessageBox, just before it opens (a scripted session or a test answers it)
    stop_words = ENCODER_STOP

    def __init__(self, doc: DocumentController, models: ModelController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train encoder")
        self.doc, self.models = doc, models
        self.training = EncoderTrainingController(doc)
        self.places: EncoderPlaces | None = None  # the loaded model's, once it is described
        self._batch = 1  # the running run's batch (faces per iteration)
        self._budget_s = 0.0  # the running run's minute limit, in seconds
        self._began: float | None = None  # the training clock when this run began
        self._best: tuple[int, float] | None = None  # (iteration, PSNR) of the best validation so far
        self.series: dict[str, tuple[list[float], list[float]]] = {"batch": ([], []), "validation": ([], [])}
        self._settings()
        self.start_button, self.stop_button = QPushButton("Start"), QPushButton("Stop")
        self.resume_button = QPushButton("Resume")
        self.stop_button.setToolTip("Stops after the current iteration: the checkpoint is kept (Resume continues "
                                    "it) and no encoder is written.")
        self.resume_button.setToolTip("Continues the checkpoint in “Save to” with the settings it was started with "
                                      "(shown once you resume); only Minutes is this run's.")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        self.in_use, self.status = QLabel("Looking up the loaded model…"), QLabel(INTRO)
        for label in (self.in_use, self.status):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.status.setToolTip(DETAILS)
        self._plot()
        self._layout()
        self.training.steps_received.connect(self.add_steps)
        self.training.finished.connect(self.show_outcome)
        self.training.failed.connect(self.show_failure)
        models.info_described.connect(self.set_model)
        doc.model_changed.connect(lambda _key: self.set_model(None))  # described anew right after
        if models.info is not None:
            self.set_model(models.info)
        else:
            models.describe_current()

    def _settings(self) -> None:
        d = EncoderTrainConfig()
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 100_000)
        self.minutes.setValue(DEFAULT_MINUTES)
        self.minutes.setToolTip("Wall-clock limit of this run. A run that reaches it saves its encoder; Resume "
                                "continues to the full iteration count.\n\n" + DETAILS)
        self.iterations = QSpinBox()
        self.iterations.setRange(1, 10_000_000)
        self.iterations.setValue(d.iterations)
        self.iterations.setToolTip("Adam updates in all: the learning rate decays over them, and the run ends "
                                   "there (reproducible: batches depend on the iteration only).")
        self.batch = QSpinBox()
        self.batch.setRange(1, 4096)
        self.batch.setValue(d.batch)
        self.batch.setToolTip("Generated faces per iteration.")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(d.lr)
        self.lr.setToolTip("Adam's learning rate at the start; a cosine takes it to 2 % of that by the end.")
        self.width_box = QSpinBox()  # not ``width``: that would hide QWidget.width()
        self.width_box.setRange(4, 512)
        self.width_box.setValue(d.width)
        self.width_box.setToolTip("Channels of E's first convolution (32: 1.1 M weights on the embedded model).")
        self.validate_every = QSpinBox()
        self.validate_every.setRange(0, 1_000_000)
        self.validate_every.setValue(d.validate_every)
        self.validate_every.setSpecialValueText("never (keep the last)")
        self.validate_every.setToolTip(f"Score E on {d.validation_faces} validation faces every N iterations and "
                                       "keep the best-scoring weights; 0: the last weights are kept.")
        self.output = QLineEdit()
        self.output.setPlaceholderText("the folder the methods read for this model")
        self._default_output = ""  # the loaded model's folder, while "Save to" still shows it
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)

    def _plot(self) -> None:
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "training time (s)")
        self.plot.setLabel("left", "PSNR of G(E(y)) (dB)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.addLegend(offset=(-10, -10))
        self.batch_curve = self.plot.plot(name="training batch (smoothed)", pen=pg.mkPen((80, 160, 255), width=1.5))
        self.validation_curve = self.plot.plot(name="validation faces", pen=pg.mkPen((255, 170, 60), width=1),
                                               symbol="o", symbolSize=6, symbolBrush=(255, 170, 60))

    def _layout(self) -> None:
        form = QFormLayout()
        where = QHBoxLayout()
        where.addWidget(self.output, 1)
        where.addWidget(self.browse)
        for label, widget in [("Minutes", self.minutes), ("Iterations", self.iterations), ("Batch", self.batch),
                              ("Learning rate", self.lr), ("Width", self.width_box),
                              ("Validate every", self.validate_every)]:
            form.addRow(label, widget)
        form.addRow("Save to", where)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.in_use)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self.plot.setMinimumHeight(240)
        self.resize(600, 720)

    def config(self) -> EncoderTrainConfig:
        return EncoderTrainConfig(width=self.width_box.value(), batch=self.batch.value(), lr=self.lr.value(),
                                  iterations=self.iterations.value(), minutes=self.minutes.value(),
                                  validate_every=self.validate_every.value())

    def set_model(self, info: ModelInfo | None) -> None:
        """Follow the loaded model: where its encoder is looked for, and "Save to" while it shows the default."""
        self.places = None if info is None else EncoderPlaces.of(info)
        folder = "" if self.places is None else str(self.places.trained)
        if self.output.text() == self._default_output:
            self.output.setText(folder)
        self._default_output = folder
        self._show_in_use()

    def _show_in_use(self) -> None:
        self.in_use.setText("Looking up the loaded model…" if self.places is None else self.places.in_use())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the encoder to", self.output.text())
        if folder:
            self.output.setText(folder)

    def _folder(self) -> Path | None:
        text = self.output.text().strip()
        return Path(text).expanduser() if text else None

    def start(self, resume: bool) -> None:
        """Start (or resume) a run; refused with the reason for bad settings, an unwritable folder, a missing
        checkpoint or an engine busy with another long job."""
        config, folder = self.config(), self._folder()
        problem = folder_problem(folder) if folder is not None else None
        stored = stored_run(folder) if resume and folder is not None else None
        if resume and (folder is None or not (folder / "checkpoint" / "checkpoint.json").is_file()):
            problem = f"No checkpoint to resume in {folder or 'the default folder'}: Start begins a new run."
        try:
            config.validate()
        except InvalidInputError as exc:
            problem = str(exc)
        if problem is not None:
            self.status.setText(problem)
            return
        if not self.training.train(config, folder, resume):
            job = self.doc.engine.current_job or "another job"
            self.status.setText(f"Cannot start while another long job runs (“{job}”): wait for it to end or stop "
                                "it, then start again.")
            return
        self._batch, self._budget_s, self._began, self._best = config.batch, config.minutes * 60, None, None
        for xs, ys in self.series.values():
            xs.clear()
            ys.clear()
        if stored is not None:
            self._show_stored(*stored)
        self._set_running(True)
        self.status.setText("Resuming…" if resume else "Starting: the first iteration builds the batch…")

    def _show_stored(self, config: EncoderTrainConfig, iteration: int, history: list[dict[str, Any]]) -> None:
        """A resumed run goes on with its checkpoint's settings: show them, and its curve so far."""
        self.iterations.setValue(config.iterations)
        self.batch.setValue(config.batch)
        self.lr.setValue(config.lr)
        self.width_box.setValue(config.width)
        self.validate_every.setValue(config.validate_every)
        self._batch = config.batch
        with suppress(TypeError):  # a history of another version: the curve starts at this run
            self._add([EncoderTrainStep(**{**row, "iterations": config.iterations}) for row in history])

    def _set_running(self, running: bool) -> None:
        for widget in (self.start_button, self.resume_button, self.output, self.browse):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def stop(self) -> None:
        """End the run after its current iteration; its checkpoint is kept and no encoder is written."""
        if self.training.running:
            self.training.stop()
            self.status.setText("Stopping after the current iteration…")

    def _add(self, records: list[EncoderTrainStep]) -> None:
        """Extend the curves by ``records`` and keep the best validation score."""
        xs, ys = self.series["batch"]
        vxs, vys = self.series["validation"]
        for record in records:
            xs.append(record.seconds)
            ys.append(record.psnr if not ys else (1 - SMOOTHING) * ys[-1] + SMOOTHING * record.psnr)
            if record.validation_psnr is not None:
                vxs.append(record.seconds)
                vys.append(record.validation_psnr)
                if self._best is None or record.validation_psnr > self._best[1]:
                    self._best = (record.iteration, record.validation_psnr)
        self.batch_curve.setData(np.asarray(xs), np.asarray(ys))
        self.validation_curve.setData(np.asarray(vxs), np.asarray(vys))

    def add_steps(self, records: list[EncoderTrainStep]) -> None:
        """Live progress: the curves, and iteration, PSNR, speed and time left in the status line."""
        self._add(records)
        last, first = records[-1], records[0]
        if self._began is None:  # the clock at this run's start: the first record's less its own iteration
            self._began = first.seconds - self._batch / max(first.faces_per_s, 1e-9)
        by_iterations = (last.iterations - last.iteration) * self._batch / max(last.faces_per_s, 1e-9)
        by_clock = self._budget_s - (last.seconds - self._began)
        left = max(0.0, min(by_iterations, by_clock))
        best = "" if self._best is None else f" · best validation {self._best[1]:.2f} dB (iteration {self._best[0]})"
        self.status.setText(f"iteration {last.iteration} / {last.iterations} · batch PSNR "
                            f"{self.series['batch'][1][-1]:.2f} dB (smoothed){best} · {last.faces_per_s:.1f} faces/s · "
                            f"about {_duration(left)} left")

    def show_outcome(self, outcome: EncoderOutcome) -> None:
        """Report how the run ended: stopped (checkpoint kept), or the new encoder's figures and who uses it."""
        self._set_running(False)
        self._show_in_use()
        meta = outcome.meta
        if meta is None:
            self.status.setText(f"Training stopped after {outcome.iterations} iterations ({outcome.seconds:.0f} s "
                                f"of training). No encoder was written; the checkpoint in "
                                f"{outcome.folder / 'checkpoint'} is kept, so Resume continues from it.")
            self.doc.status_changed.emit(f"Encoder training stopped after {outcome.iterations} iterations; "
                                         "checkpoint kept.")
            return
        validated = meta.get("validation_psnr")
        chosen = (f"iteration {meta['selected_iteration']} of {meta['iterations']} kept (validation "
                  f"{validated:.2f} dB)" if validated is not None else f"the last of {meta['iterations']} "
                  "iterations kept (no validation)")
        verdict = "" if self.places is None else " " + self.places.verdict(outcome.folder)
        self.status.setText(f"Encoder trained: held-out PSNR {meta['held_out_psnr']:.2f} dB of G(E(y)) on "
                            f"{meta['held_out_faces']} faces; {chosen}; {meta['training_seconds']:.0f} s of "
                            f"training. Saved in {outcome.folder}.{verdict}")
        self.doc.status_changed.emit(f"Encoder saved in {outcome.folder} (held-out PSNR "
                                     f"{meta['held_out_psnr']:.2f} dB).{verdict}")

    def show_failure(self, message: str) -> None:
        self._set_running(False)
        self._show_in_use()
        self.status.setText(f"Training failed: {message} No encoder was written.")
