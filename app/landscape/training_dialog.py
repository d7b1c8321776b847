""""Train landscape…": settings, live curves of the loss after each descent step over training time, ETA,
Start / Stop / Resume, the θ in use and "Use this θ". Training runs on the engine thread; a stopped run keeps its
checkpoint. A finished θ replaces the session's only on the user's yes, and closing while training asks first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document.controller import DocumentController
from app.landscape.training import TrainingController, same_folder
from app.landscape.training_questions import AsksBeforeClosing, gate_summary, theta_name, use_question
from app.models.controller import ModelController, ModelInfo
from core.inversion.encoder import has_encoder
from core.inversion.encoder_start import ENCODER_START
from core.landscape import LandscapeTrainConfig, TrainingOutcome, TrainStep
from core.landscape.gate import EMBEDDED_SIDE
from core.resources import trained_dir, user_data_dir
from core.theta import DEFAULT_RECIPE, recipe_config

# The dialog starts at the shipped θ's recipe (docs/landscape.md: schedule, adaptive steps, learned start, starts
# at the encoder's guess, log objective, batch 32): the one whose learned part measurably gains (+2.86 ± 0.20 dB at
# 10 steps, +2.27 ± 0.24 at 100), not the trainer's bare defaults.
SHIPPED_BATCH = 32
# a model wider than the embedded one (FFHQ: 2.15 GiB a face and step): 4 faces are one pass, steps recomputed, in
# 70 % of a 24 GB machine's free memory, ≈ 4 minutes an iteration on a 2-core CPU (docs/landscape.md)
LARGE_MODEL_BATCH = 4
GUIDED_SCHEDULE_LR = 0.005  # from the encoder's guess the schedule's rate 0.01 overshot late in training (−1 dB)
CURVE_POINTS = 2000  # kept per curve; older points are thinned
SMOOTHING = 0.1  # exponential moving average of the curves: one batch is a noisy estimate


def default_output() -> Path:
    """Where a new run writes unless the user chooses: in the user data folder (``$LANDSCAPE_STUDIO_DATA`` too)."""
    return user_data_dir() / "landscape" / "theta"


def free_sibling(folder: Path) -> Path:
    """``folder-2``, ``folder-3``, … : the first that does not exist (where the next run writes, once ``folder``
    holds the θ in use)."""
    n = 2
    while (candidate := folder.with_name(f"{folder.name}-{n}")).exists():
        n += 1
    return candidate


class LandscapeTrainDialog(AsksBeforeClosing, QDialog):
    asking = Signal(object)  # a QMessageBox, just before it opens (a scripted session or a test answers it)

    def __init__(self, controller: DocumentController, models: ModelController, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train landscape θ")
        self.controller = controller
        self.training = TrainingController(controller)
        self.outcome: TrainingOutcome | None = None  # the last finished run's, while it can still be chosen
        self._stopping = False  # the user stopped this run: what it returns is reported, not offered
        self._best: tuple[int, float] | None = None  # (iteration, validation margin) of the best θ so far
        self._began: float | None = None  # the training clock at the first step this run received
        self._memory = ""  # how this run's batch fits in memory (said by its first step)
        self._large_model = False  # a model wider than the embedded one is loaded (its batch default: 4)
        self._budget_s = 0.0  # the run's time budget
        self._after = "the gate"  # what runs once training ends (minutes, without iterations to show)
        self._settings()
        self.start_button, self.stop_button = QPushButton("Start"), QPushButton("Stop")
        self.resume_button, self.use_button = QPushButton("Resume"), QPushButton("Use this θ")
        self.stop_button.setToolTip("Stops after the current iteration: the checkpoint is kept (Resume continues "
                                    "it), no θ is written and the θ in use stays.")
        self.use_button.setToolTip("Make the last finished θ the one every method that descends through θ uses.")
        self.stop_button.setEnabled(False)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        self.use_button.clicked.connect(self.use)
        self.status = QLabel("Trains θ for the loaded model, then checks it against the identity mapping and the "
                             "direct method.")
        self.status.setWordWrap(True)
        self.in_use = QLabel()
        self.in_use.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setLogMode(y=True)
        self.plot.setLabel("bottom", "training time (s)")
        self.plot.setLabel("left", "pixel MSE after step t (smoothed)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.addLegend(offset=(-10, 10))
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.series: dict[int, tuple[list[float], list[float]]] = {}
        self._layout()
        self.training.steps_received.connect(self.add_steps)
        self.training.finished.connect(self.show_outcome)
        controller.landscape_changed.connect(lambda _folder: self._show_in_use())
        controller.model_changed.connect(lambda _key: self._forget_outcome())  # its θ maps the old model's space
        controller.model_changed.connect(lambda _key: self.set_model(None))  # described anew right after
        models.info_described.connect(self.set_model)
        self._show_in_use()
        if models.info is not None:
            self.set_model(models.info)
        else:
            models.describe_current()

    def _settings(self) -> None:
        d = LandscapeTrainConfig()
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 10_000)
        self.minutes.setValue(d.minutes)
        self.inner_steps = QSpinBox()
        self.inner_steps.setRange(1, 100)
        self.inner_steps.setValue(d.inner_steps)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1024)
        self.batch.setValue(SHIPPED_BATCH)
        self.theta_lr = QDoubleSpinBox()
        self.theta_lr.setDecimals(5)
        self.theta_lr.setRange(1e-5, 0.1)
        self.theta_lr.setSingleStep(1e-4)
        self.theta_lr.setValue(d.theta_lr)
        self.width_box = QSpinBox()
        self.width_box.setRange(8, 8192)
        self.width_box.setValue(d.mapping.width)
        self.depth_box = QSpinBox()  # not ``depth``: that would hide QWidget.depth()
        self.depth_box.setRange(2, 12)
        self.depth_box.setValue(d.mapping.depth)
        self.unroll = QCheckBox("Differentiate through the descent steps (slower, learns more)")
        self.unroll.setChecked(d.unroll)
        self.precondition = QCheckBox("Build in the model's curvature preconditioner (the shipped θ's recipe)")
        self.precondition.setToolTip(
            "θ = A·(z + MLP(z)) with A ≈ (average Gauss-Newton matrix)^-½, so descent in Z (heavy-ball momentum "
            "0.7) starts as damped Gauss-Newton; ‖x‖ is kept at the start's, then Adam goes on in Z (lr 0.1, "
            "β₂ 0.9, a 10-step ramp). The shipped θ's recipe, well ahead of the direct method at 10 and 100 steps "
            "(docs/landscape.md). Computing A costs seconds on the embedded model before training begins; on a "
            "1024-px model it takes one draw (a few minutes on a 2-core CPU).")
        self.precondition.setChecked(True)  # the shipped θ's recipe
        self.schedule = QCheckBox("Learn each descent step's size and momentum")
        self.schedule.setToolTip("Each of the T steps in Z learns its own step size and momentum (from the recipe's "
                                 "single step and momentum 0.7), trained at their own learning rate.")
        self.schedule.setChecked(True)  # the shipped θ's recipe, as the three settings below
        self.adaptive = QCheckBox("Adapt each face's steps to how its gradient changes")
        self.adaptive.setToolTip("A small learned network scales each face's step size and shifts its momentum at "
                                 "every step (it starts at zero: the fixed steps).")
        self.adaptive.setChecked(True)
        self.learn_start = QCheckBox("Then learn where descents start")
        self.learn_start.setToolTip("After training, a search on training faces (40 directions, 128 faces each: "
                                    "minutes on the embedded model, hours on a 1024-px one without a GPU) finds a "
                                    "shift of the random starts from which the trained steps reach better faces, "
                                    "then 12 evolution-strategy steps refine it; each is kept only if it is ahead. "
                                    "On by default for the embedded model.")
        self.learn_start.setChecked(True)
        self.encoder_start = QCheckBox("Start descents from the encoder's guess of the photo")
        self.encoder_start.setToolTip(
            f"Each start leans towards the model's encoder's code of the target: √(1 − λ²)·(a random start) + "
            f"λ·(the start at the guess), λ = {ENCODER_START}, in training and in the method, so the steps learn to "
            "go on from there; random draws keep the several starts different. Needs the model's encoder "
            "(Run → Train Encoder… first for a model that ships none).")
        self.encoder_start.setChecked(True)
        self.objective = QComboBox()
        self.objective.addItem("Weighted: Σ t·MSE over the T steps", "weighted")
        self.objective.addItem("Log MSE after the last step (the gate's PSNR)", "log_last")
        self.objective.setCurrentIndex(self.objective.findData("log_last"))
        self._default_output = str(default_output())  # "Save to" follows the loaded model while it shows this
        self.output = QLineEdit(self._default_output)

    def _layout(self) -> None:
        form = QFormLayout()
        for label, widget in [("Minutes", self.minutes), ("Descent steps T", self.inner_steps),
                              ("Batch", self.batch), ("θ learning rate", self.theta_lr),
                              ("MLP width", self.width_box), ("MLP depth", self.depth_box), ("", self.unroll),
                              ("", self.precondition), ("", self.schedule), ("", self.adaptive),
                              ("", self.learn_start), ("", self.encoder_start),
                              ("Objective", self.objective),
                              ("Save to", self.output)]:
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.resume_button, self.use_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.in_use)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self.resize(560, 640)

    def config(self) -> LandscapeTrainConfig:
        recipe = DEFAULT_RECIPE if self.precondition.isChecked() else "plain"
        mapping = recipe_config(recipe, width=self.width_box.value(), depth=self.depth_box.value(),
                                schedule=self.schedule.isChecked(), adaptive=self.adaptive.isChecked(),
                                learned_start=self.learn_start.isChecked(),
                                encoder_start=ENCODER_START if self.encoder_start.isChecked() else 0.0)
        schedule_lr = GUIDED_SCHEDULE_LR if mapping.encoder_start else LandscapeTrainConfig().schedule_lr
        return LandscapeTrainConfig(mapping=mapping, objective=self.objective.currentData(), schedule_lr=schedule_lr,
                                    inner_steps=self.inner_steps.value(), batch=self.batch.value(),
                                    theta_lr=self.theta_lr.value(), unroll=self.unroll.isChecked(),
                                    minutes=self.minutes.value())

    def start(self, resume: bool) -> None:
        if same_folder(self.output.text(), self.training.in_use):
            self.status.setText("“Save to” holds the θ in use: a finished run would replace it without asking. "
                                "Choose another folder.")
            return
        if not resume:
            for curve in self.curves.values():
                self.plot.removeItem(curve)
            self.curves.clear()
            self.series.clear()
        if self.training.train(self.config(), Path(self.output.text()), resume):
            self._stopping = False
            self._set_running(True)
            self._budget_s = self.minutes.value() * 60
            self._after = ("the start search and " if self.config().mapping.learned_start else "") + "the gate"
            self._began = None
            self._memory = ""
            if not resume:
                self._best = None

    def _set_running(self, running: bool) -> None:
        for widget in (self.start_button, self.resume_button):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self._show_in_use()

    def stop(self) -> None:
        """End the run after its current iteration; the θ in use stays (what is kept on disk: ``training``)."""
        if self.training.running:
            self._stopping = True
            self.training.stop()
            self.status.setText("Stopping after the current iteration…")

    def use(self) -> None:
        """Make the last finished θ the session's (the user's yes); the next run then writes elsewhere."""
        outcome = self.outcome
        if outcome is None or not self.training.use(outcome):
            return
        if same_folder(self.output.text(), outcome.folder):
            self.output.setText(str(free_sibling(Path(self.output.text()))))
        self.status.setText(f"Now using θ {outcome.folder}. A new run saves to {self.output.text()}.")

    def set_model(self, info: ModelInfo | None) -> None:
        """Follow the loaded model: the θ in use, and "Save to" while it shows the default."""
        self.training.model = info
        # the start search scores 40 × 128 faces and its refinement 288 × 64: minutes here, hours on a large model
        self.learn_start.setChecked(info is None or info.builtin)
        large = info is not None and info.resolution > EMBEDDED_SIDE
        if large != self._large_model:  # the batch follows the model's size class, never a typed value otherwise
            self._large_model = large
            self.batch.setValue(LARGE_MODEL_BATCH if large else SHIPPED_BATCH)
        encoder = info is None or has_encoder(info.name, info.model_id)
        self.encoder_start.setEnabled(encoder)
        self.encoder_start.setChecked(encoder)
        self._follow_model()
        self._show_in_use()

    def _follow_model(self) -> None:
        """"Save to", while it shows the default: where the methods look for a θ trained here for the loaded model
        (``trained_dir``: they use it when the model ships none), or the next free folder beside it when that
        holds the θ in use."""
        info = self.training.model
        if info is None:
            return
        folder = trained_dir(info.model_id, "landscape")
        if same_folder(folder, self.training.in_use):
            folder = free_sibling(folder)
        if self.output.text() == self._default_output:
            self.output.setText(str(folder))
        self._default_output = str(folder)

    def _show_in_use(self) -> None:
        folder = self.training.in_use
        known = folder is not None or self.training.model is not None
        self.in_use.setText(f"In use: {theta_name(folder)}" if known else "Looking up the loaded model…")
        outcome = self.outcome
        self.use_button.setEnabled(outcome is not None and outcome.ready and not self.training.running
                                   and not same_folder(outcome.folder, folder))

    def _forget_outcome(self) -> None:
        self.outcome = None
        self._show_in_use()

    def add_steps(self, records: list[TrainStep]) -> None:
        last = records[-1]
        began = self._began = self._began if self._began is not None else records[0].seconds
        for record in records:
            for t, loss in enumerate(record.step_losses, start=1):
                if t == 1 or t == len(record.step_losses) or t % 3 == 0:
                    xs, ys = self.series.setdefault(t, ([], []))
                    smooth = loss if not ys else (1 - SMOOTHING) * ys[-1] + SMOOTHING * loss
                    xs.append(record.seconds)
                    ys.append(max(smooth, 1e-8))
        for t, (xs, ys) in self.series.items():
            if t not in self.curves:
                colour = pg.intColor(t, hues=max(len(last.step_losses), 2))
                self.curves[t] = self.plot.plot(name=f"t = {t}", pen=pg.mkPen(colour, width=1.5))
            stride = max(1, len(xs) // CURVE_POINTS)
            self.curves[t].setData(np.asarray(xs[::stride]), np.asarray(ys[::stride]))
        for record in records:
            self._memory = record.memory or self._memory
            if record.validation is not None and (self._best is None or record.validation["margin"] > self._best[1]):
                self._best = (record.iteration, record.validation["margin"])
        left = max(0.0, self._budget_s - (last.seconds - began))
        best = "" if self._best is None else f" · best θ so far: iteration {self._best[0]} ({self._best[1]:+.3f} dB)"
        self.status.setText(f"iteration {last.iteration} · PSNR after step T {last.psnr_last:.2f} dB · "
                            f"step size η {last.step_size:.2f} · {_rate(last.samples_per_s)} · "
                            f"about {left / 60:.1f} min of training left, then {self._after}{best}"
                            + (f" · {self._memory}" if self._memory else ""))

    def show_outcome(self, outcome: TrainingOutcome | None) -> None:
        """Report how the run ended; a θ the user did not stop is offered (never used without a yes)."""
        stopped, self._stopping = self._stopping, False
        now = theta_name(self.training.in_use)
        if outcome is None:
            self.status.setText(f"Training failed (see the message); θ in use unchanged ({now}).")
        elif outcome.cancelled:
            self.status.setText(f"Training stopped after {outcome.iterations} iterations; θ in use unchanged "
                                f"({now}). No θ was written; the checkpoint in {outcome.folder / 'checkpoint'} "
                                "is kept, so Resume continues from it.")
        else:
            self.outcome = outcome
            verdict = "passed the gate" if outcome.ready else "did not pass the gate, so it cannot be used"
            chosen = "" if outcome.selected == outcome.iterations else f", θ of iteration {outcome.selected} kept"
            trend = "" if outcome.trained is None else f"; training: {outcome.trained['reason']}"
            found = outcome.ready and same_folder(outcome.folder, self.training.in_use)
            where = ("; the methods look there, so it is the θ in use now" if found
                     else f". θ in use unchanged ({now})")
            counted = f"{outcome.iterations} iteration{'' if outcome.iterations == 1 else 's'}"
            self.status.setText(f"θ {verdict} ({gate_summary(outcome.gate)}; {counted}"
                                f"{chosen}{trend}); saved in {outcome.folder}{where}.")
            if found:  # the model had no ready θ, and this one is where the methods find it: nothing to replace
                self.training.use(outcome)
                self._follow_model()  # the next run writes beside it
                stopped = True  # nothing to offer
        self._set_running(False)
        if outcome is not None and not outcome.cancelled and not stopped:
            # asked once this slot has returned: the engine finishes its book-keeping (idle, queued work) first
            QTimer.singleShot(0, self, lambda: self.offer(outcome))

    def offer(self, outcome: TrainingOutcome) -> None:
        """"Use this θ?" for a θ that passed the gate (used on Yes only); the gate's verdict for one that did not."""
        answer = self.ask(use_question(self, outcome, self.training.in_use))
        if outcome.ready and QMessageBox.StandardButton(answer) == QMessageBox.StandardButton.Yes:
            self.use()


def _rate(per_second: float) -> str:
    """Trajectories a second, or seconds a trajectory where that is the readable figure (a 1024-px model's)."""
    if per_second >= 0.1:
        return f"{per_second:.1f} trajectories/s"
    return f"{1 / max(per_second, 1e-9):.0f} s a trajectory"
