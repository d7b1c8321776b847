""""Train landscape…": settings, live curves of the loss after each descent step over training time, ETA,
Start / Pause / Resume. Training runs on the engine thread; a paused run keeps its checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from platformdirs import user_data_dir
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document.controller import DocumentController
from app.landscape.training import TrainingController
from core.landscape import LandscapeTrainConfig, TrainingOutcome, TrainStep
from core.theta import DEFAULT_RECIPE, recipe_config

CURVE_POINTS = 2000  # kept per curve; older points are thinned
SMOOTHING = 0.1  # exponential moving average of the curves: one batch is a noisy estimate


def gate_summary(gate: dict) -> str:
    """"θ 20.50 vs baseline 18.22 dB at 10 steps; …" from the gate's figures (the best of the baselines it must beat:
    the identity mapping, and the direct method for a θ that descends its own way)."""
    figures = gate.get("psnr", {})
    theta = figures.get("theta", {})
    parts = []
    for budget, value in theta.items():
        baseline = max(v[budget] for k, v in figures.items() if k != "theta")
        parts.append(f"θ {value:.2f} vs baseline {baseline:.2f} dB at {budget} steps")
    return "; ".join(parts)


def default_output() -> Path:
    return Path(user_data_dir("Landscape Studio")) / "landscape" / "theta"


class LandscapeTrainDialog(QDialog):
    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train landscape θ")
        self.controller = controller
        self.training = TrainingController(controller)
        self._best: tuple[int, float] | None = None  # (iteration, validation margin) of the best θ so far
        self._began: float | None = None  # the training clock at the first step this run received
        self._budget_s = 0.0  # the run's time budget
        d = LandscapeTrainConfig()
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 10_000)
        self.minutes.setValue(d.minutes)
        self.inner_steps = QSpinBox()
        self.inner_steps.setRange(1, 100)
        self.inner_steps.setValue(d.inner_steps)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1024)
        self.batch.setValue(d.batch)
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
            "(docs/landscape.md). Computing A costs seconds to minutes before training begins.")
        self.precondition.setChecked(True)  # the shipped θ's recipe
        self.output = QLineEdit(str(default_output()))
        self.start_button, self.pause_button = QPushButton("Start"), QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.pause_button.setEnabled(False)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.pause_button.clicked.connect(self.training.stop)
        self.status = QLabel("Trains θ for the loaded model, then checks it against the identity mapping and the "
                             "direct method.")
        self.status.setWordWrap(True)
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

    def _layout(self) -> None:
        form = QFormLayout()
        for label, widget in [("Minutes", self.minutes), ("Descent steps T", self.inner_steps),
                              ("Batch", self.batch), ("θ learning rate", self.theta_lr),
                              ("MLP width", self.width_box), ("MLP depth", self.depth_box), ("", self.unroll),
                              ("", self.precondition),
                              ("Save to", self.output)]:
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self.resize(560, 640)

    def config(self) -> LandscapeTrainConfig:
        recipe = DEFAULT_RECIPE if self.precondition.isChecked() else "plain"
        mapping = recipe_config(recipe, width=self.width_box.value(), depth=self.depth_box.value())
        return LandscapeTrainConfig(mapping=mapping,
                                    inner_steps=self.inner_steps.value(), batch=self.batch.value(),
                                    theta_lr=self.theta_lr.value(), unroll=self.unroll.isChecked(),
                                    minutes=self.minutes.value())

    def start(self, resume: bool) -> None:
        if not resume:
            for curve in self.curves.values():
                self.plot.removeItem(curve)
            self.curves.clear()
            self.series.clear()
        if self.training.train(self.config(), Path(self.output.text()), resume):
            self._set_running(True)
            self._budget_s = self.minutes.value() * 60
            self._began = None
            if not resume:
                self._best = None

    def _set_running(self, running: bool) -> None:
        for widget in (self.start_button, self.resume_button):
            widget.setEnabled(not running)
        self.pause_button.setEnabled(running)

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
            if record.validation is not None and (self._best is None or record.validation["margin"] > self._best[1]):
                self._best = (record.iteration, record.validation["margin"])
        left = max(0.0, self._budget_s - (last.seconds - began))
        best = "" if self._best is None else f" · best θ so far: iteration {self._best[0]} ({self._best[1]:+.3f} dB)"
        self.status.setText(f"iteration {last.iteration} · PSNR after step T {last.psnr_last:.2f} dB · "
                            f"step size η {last.step_size:.2f} · {last.samples_per_s:.1f} trajectories/s · "
                            f"about {left / 60:.1f} min left{best}")

    def show_outcome(self, outcome: TrainingOutcome | None) -> None:
        self._set_running(False)
        if outcome is None:
            self.status.setText("Training failed (see the message).")
        elif outcome.cancelled:
            self.status.setText(f"Paused after {outcome.iterations} iterations. Resume continues from the checkpoint.")
        else:
            verdict = ("passed the gate: the landscape method now uses it" if outcome.ready
                       else "did not pass the gate, so the product keeps using the direct method")
            chosen = "" if outcome.selected == outcome.iterations else f", θ of iteration {outcome.selected} kept"
            self.status.setText(f"θ {verdict} ({gate_summary(outcome.gate)}; {outcome.iterations} iterations"
                                f"{chosen}).")
