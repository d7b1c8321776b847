"""Inversion settings and the Run/Stop button. The panel only edits an ``InversionConfig``; it runs nothing."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.device import available_devices
from core.errors import CoreError
from core.inversion import METHODS, InversionConfig
from core.inversion.schedules import SCHEDULES
from core.objectives.perceptual import NETS

RESTORE_MODES = [  # (label, operator): the photo crop is what the model's image looks like through the operator
    ("None: match the photo", None), ("Super-resolution ×2", "downsample2"), ("Super-resolution ×4", "downsample4"),
    ("Super-resolution ×8", "downsample8"), ("Colorization", "grayscale"),
    ("Super-resolution ×4 + colorization", "downsample4+grayscale")]
METHOD_HELP = {
    "direct": "Plain gradient steps, then Adam, on the generator's own latent from K random starts. Reliable.",
    "landscape": "Gradient descent in a learned space Z (x = θ(z)) meant to need far fewer steps. Uses the θ "
                 "trained for this model; without a ready θ it runs the direct method and says so.",
}


def _spin(low: float, high: float, value: float, decimals: int = 3, step: float = 0.05) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


def _int_spin(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


class InversionPanel(QWidget):
    """Method, steps, learning rate, loss weights, starts, seed, device; Run becomes Stop while running."""

    run_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = InversionConfig()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method_help = QLabel()
        self.method_help.setWordWrap(True)
        self.method_help.setStyleSheet("color: palette(mid);")
        self.steps = _int_spin(0, 100_000, d.steps)
        self.lr = _spin(0.001, 10.0, d.lr, 3, 0.05)
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        self.warmup_steps = _int_spin(0, 10_000, d.warmup_steps)
        self.warmup_steps.setToolTip("Plain gradient-descent steps before Adam takes over (faster at the start)")
        self.warmup_step = _spin(0.01, 1000.0, d.warmup_step, 2, 1.0)
        self.pixel = _spin(0.0, 100.0, d.loss.pixel)
        self.lpips = _spin(0.0, 100.0, d.loss.lpips)
        self.lpips_net = QComboBox()
        self.lpips_net.addItems(list(NETS))
        self.prior = _spin(0.0, 100.0, d.loss.prior, 4, 0.001)
        self.starts = _int_spin(1, 64, d.starts)
        self.seed = _int_spin(0, 2**31 - 1, d.seed)
        self.device = QComboBox()
        self.device.addItems(["auto", *available_devices()])
        self.restore = QComboBox()
        for label, operator in RESTORE_MODES:
            self.restore.addItem(label, operator)
        self.restore.setToolTip("Restore mode: treat the photo as a low-resolution or grey observation of a face "
                                "and find the full-resolution colour face that explains it")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the inversion (Ctrl+Return); while it runs, Stop keeps the best result")
        self.run_button.setMinimumHeight(34)
        self.run_button.clicked.connect(self._clicked)
        self.method.currentTextChanged.connect(lambda m: self.method_help.setText(METHOD_HELP.get(m, "")))
        self.method_help.setText(METHOD_HELP[self.method.currentText()])
        self._running = False
        self._layout()

    def _layout(self) -> None:
        form = QFormLayout()
        rows = [("Method", self.method), ("", self.method_help), ("Steps", self.steps), ("Learning rate", self.lr),
                ("Schedule", self.schedule), ("Plain steps first", self.warmup_steps),
                ("Plain step size", self.warmup_step), ("Pixel weight", self.pixel), ("LPIPS weight", self.lpips),
                ("LPIPS network", self.lpips_net), ("Prior weight", self.prior), ("Starts", self.starts),
                ("Seed", self.seed), ("Device", self.device), ("Restore", self.restore)]
        for label, widget in rows:
            form.addRow(label, widget)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(self.run_button)
        outer.addStretch(1)

    def config(self) -> InversionConfig:
        """The settings as a validated-on-run config (the engine validates again)."""
        return InversionConfig(method=self.method.currentText(), steps=self.steps.value(), lr=self.lr.value(),
                               schedule=self.schedule.currentText(), starts=self.starts.value(),
                               seed=self.seed.value(), warmup_steps=self.warmup_steps.value(),
                               warmup_step=self.warmup_step.value(),
                               operator=self.restore.currentData()).with_changes(
            loss_pixel=self.pixel.value(), loss_lpips=self.lpips.value(), loss_prior=self.prior.value(),
            loss_lpips_net=self.lpips_net.currentText())

    def device_name(self) -> str:
        return self.device.currentText()

    def set_config(self, config: InversionConfig) -> None:
        self.method.setCurrentText(config.method)
        self.steps.setValue(config.steps)
        self.lr.setValue(config.lr)
        self.schedule.setCurrentText(config.schedule)
        self.warmup_steps.setValue(config.warmup_steps)
        self.warmup_step.setValue(config.warmup_step)
        self.pixel.setValue(config.loss.pixel)
        self.lpips.setValue(config.loss.lpips)
        self.lpips_net.setCurrentText(config.loss.lpips_net)
        self.prior.setValue(config.loss.prior)
        self.starts.setValue(config.starts)
        self.seed.setValue(config.seed)
        index = self.restore.findData(config.operator)
        self.restore.setCurrentIndex(max(index, 0))

    def set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setText("Stop" if running else "Run")
        for widget in (self.method, self.steps, self.lr, self.schedule, self.warmup_steps, self.warmup_step,
                       self.pixel, self.lpips, self.lpips_net, self.prior, self.starts, self.seed, self.device,
                       self.restore):
            widget.setEnabled(not running)

    def _clicked(self) -> None:
        (self.stop_requested if self._running else self.run_requested).emit()

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("inversion/config", self.config().to_dict())
        settings.setValue("inversion/device", self.device_name())

    def load_settings(self, settings: QSettings) -> None:
        stored = settings.value("inversion/config")
        if isinstance(stored, dict):
            with contextlib.suppress(TypeError, ValueError, CoreError):  # another version's settings: keep defaults
                self.set_config(InversionConfig.from_dict(stored))
        device = settings.value("inversion/device")
        if isinstance(device, str) and self.device.findText(device) >= 0:
            self.device.setCurrentText(device)
