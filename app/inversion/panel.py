"""Inversion settings and the Run/Stop button. The panel only edits an ``InversionConfig``; it runs nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

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

from app.widgets.vertical_scroll import VerticalScrollArea
from core.device import available_devices
from core.errors import CoreError
from core.generators.ffhq_install import FFHQ_MODEL
from core.inversion import METHODS, InversionConfig
from core.inversion.config import PIVOT_METHODS, REFINE_METHODS
from core.inversion.schedules import SCHEDULES
from core.objectives.identity import unavailable_reason as identity_unavailable_reason
from core.objectives.perceptual import NETS, unavailable_reason

RESTORE_MODES = [  # (label, operator): the photo crop is what the model's image looks like through the operator
    ("None: match the photo", None), ("Super-resolution ×2", "downsample2"), ("Super-resolution ×4", "downsample4"),
    ("Super-resolution ×8", "downsample8"), ("Colorization", "grayscale"),
    ("Super-resolution ×4 + colorization", "downsample4+grayscale")]
METHOD_HELP = {
    "direct": "Plain gradient steps, then Adam, on the generator's own latent from K random starts. Reliable.",
    "landscape": "Descent in a learned space Z (x = θ(z)) with the model's curvature built in: on the model's own "
                 "faces 10 steps reach what direct reaches in 100; on photos it gains less. θ in use: {theta}. "
                 "{learned}",
    "encoder": "One pass of a network trained to predict the latent from an image: instant (about a millisecond), "
               "but only roughly right. Good for a quick look.",
    "hybrid": "The encoder's guess as the start, then optimisation steps from there: near the answer from the "
              "first step, so fewer steps are needed. The usual choice.",
    "pivotal": "Finds a pivot latent (with the pivot method), then fine-tunes a copy of the generator so the pivot "
               "reproduces this photo closely. Edits and inpainting of this photo then use the tuned copy; "
               "\"Reset to original model\" undoes it.",
}
SPACE_HELP = ("The latent space the inversion optimises. z: the Gaussian input. w: StyleGAN's mapped space, one "
              "code for all layers; results stay natural and edit well. w+: one w per layer; reconstructs more "
              "closely but may edit less cleanly.")
# The editor starts on what `python -m bench quality` chose by rule on 6 real photos (best likeness within 20 s on the
# 2-core CPU; bench/results/quality_candidates.json): pivotal tuning from a 100-step hybrid pivot with pixel loss and
# LPIPS 0.5 on AlexNet, 13.3 s. Against pixel loss alone (6.5 s) it keeps PSNR and identity (inside the noise) and
# lowers LPIPS-VGG by 0.009 ± 0.003; edits from it stay closer to the person (identity −0.045 ± 0.010 over 36
# edits). The identity term would score better on its own network while blurring the face (−4.0 dB), and LPIPS on
# VGG takes 34 s. The command line keeps direct: scripts must not change under them.
EDITOR_DEFAULTS = InversionConfig(method="pivotal", steps=100).with_changes(loss_lpips=0.5, loss_lpips_net="alex")
# The FFHQ model costs ≈ 0.47 s an exact step here and ≈ 0.13 s a step on its coarse image (bench ffhq), and has no
# encoder until the user trains one: its editor default pivots from w_avg with 60 steps on the coarse image and 30 on
# the exact one, then tunes 30 steps without the locality term (which would render a second image each tuning step),
# with the identity term at 0.1 — 50 s on 6 real photos (bench likeness), 56 s in the editor with its previews. Paired
# against the 50 + 25 exact steps it had before (45 s; 50 s in the editor): +1.43 ± 0.52 dB, LPIPS-AlexNet −0.037 ±
# 0.014, LPIPS-VGG −0.032 ± 0.016, identity level; against the DCGAN's default, closer in identity and LPIPS-AlexNet,
# level in LPIPS-VGG, behind in PSNR, where the DCGAN's 64-px blur scores well (README, likeness).
FFHQ_DEFAULTS = InversionConfig(method="pivotal", steps=90, coarse_steps=60).with_changes(
    pivot="direct", tune_steps=30, tune_locality=0.0, loss_lpips=0.5, loss_lpips_net="alex", loss_identity=0.1)
MODEL_DEFAULTS = {FFHQ_MODEL: FFHQ_DEFAULTS}


def editor_defaults(model_key: str) -> InversionConfig:
    """The settings the editor offers for a catalog model (the embedded model's for any other)."""
    return MODEL_DEFAULTS.get(model_key, EDITOR_DEFAULTS)
IDENTITY_HELP = ("Weight of the identity loss: the distance between the face-recognition embeddings (dlib) of the "
                 "result and the photo, so the result stays recognisably the same person (below 0.6 means the "
                 "same person). Off while a restore mode degrades the result before comparing.")
COARSE_HELP = ("The first N of the steps descend on a cheaper, softer image of the face (FFHQ: its 128-px block "
               "through a to-image layer fitted on this machine, ≈ 3× faster a step); the rest, and the result, on "
               "the exact image. Finds the face quickly, then fits the detail.")
HYBRID_ROWS = ("Refine with", "Encoder term")
PIVOTAL_ROWS = ("Pivot from", "Tuning steps", "Tuning lr", "Locality weight", "Stop at loss")


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
    reset_model_requested = Signal()  # drop the photo's pivotal-tuned generator copy
    compare_requested = Signal()  # "Compare methods…": the same settings, several methods side by side
    face_chosen = Signal(int)  # the user picked another of the photo's faces to align (0 = largest)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = InversionConfig()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.method_help = QLabel()
        self.method_help.setWordWrap(True)
        self.method_help.setStyleSheet("color: palette(mid);")
        # a wrapped label in a crowded dock gets squeezed below its text: keep room for three lines
        self.method_help.setMinimumHeight(3 * self.method_help.fontMetrics().lineSpacing())
        self.steps = _int_spin(0, 100_000, d.steps)
        self.lr = _spin(0.001, 10.0, d.lr, 3, 0.05)
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        self.warmup_steps = _int_spin(0, 10_000, d.warmup_steps)
        self.warmup_steps.setToolTip("Plain gradient-descent steps before Adam takes over (faster at the start)")
        self.warmup_step = _spin(0.01, 1000.0, d.warmup_step, 2, 1.0)
        self.coarse_steps = _int_spin(0, 100_000, d.coarse_steps)
        self.coarse_steps.setToolTip(COARSE_HELP)
        self._coarse_available = False
        self.pixel = _spin(0.0, 100.0, d.loss.pixel)
        self.lpips = _spin(0.0, 100.0, d.loss.lpips)
        self.lpips_net = QComboBox()
        self.lpips_net.addItems(list(NETS))
        self.lpips_net.currentTextChanged.connect(lambda _net: self._lpips_changed())
        self.identity = _spin(0.0, 100.0, d.loss.identity, 3, 0.05)
        self.prior = _spin(0.0, 100.0, d.loss.prior, 4, 0.001)
        self.starts = _int_spin(1, 64, d.starts)
        self.seed = _int_spin(0, 2**31 - 1, d.seed)
        self.device = QComboBox()
        self.device.addItems(["auto", *available_devices()])
        self._method_widgets(d)
        self._action_widgets()
        self._running = False
        self._theta = ""
        self.theta_note: Callable[[], str] = str  # what training added to the θ in use, from its gate (the window
        # sets the document's; read whenever the landscape method's help is shown)
        self._layout()
        self.method.currentTextChanged.connect(self._method_changed)
        self.set_theta(None)
        self.set_config(EDITOR_DEFAULTS)
        self._lpips_changed()

    def _method_widgets(self, d: InversionConfig) -> None:
        """The settings that only some methods use (shown for those methods)."""
        self.space = QComboBox()
        self.space.setToolTip(SPACE_HELP)
        self.space.addItem("model default", None)  # until the model has been described
        self._default_space: str | None = None
        self._wanted_space: str | None = None  # a space asked for (settings, project) before the list was known
        self.restore = QComboBox()
        for label, operator in RESTORE_MODES:
            self.restore.addItem(label, operator)
        self.restore.setToolTip("Restore mode: treat the photo as a low-resolution or grey observation of a face "
                                "and find the full-resolution colour face that explains it")
        self.refine = QComboBox()
        self.refine.addItems(list(REFINE_METHODS))
        self.refine.setToolTip("Hybrid: the method that refines the encoder's start. auto: landscape where the "
                               "model has a ready θ, direct otherwise")
        self.consistency = _spin(0.0, 100.0, d.consistency, 3, 0.01)
        self.consistency.setToolTip("Hybrid: weight of idinvert's term ‖x − E(G(x))‖², which keeps the latent "
                                    "where the encoder can reach it (0 = off)")
        self.pivot = QComboBox()
        self.pivot.addItems(list(PIVOT_METHODS))
        self.pivot.setCurrentText(d.pivot)
        self.pivot.setToolTip("Pivotal: the method that finds the pivot latent (it runs 'Steps' steps)")
        self.tune_steps = _int_spin(0, 100_000, d.tune_steps)
        self.tune_steps.setToolTip("Pivotal: at most this many updates of the generator copy's weights")
        self.tune_lr = _spin(1e-6, 0.1, d.tune_lr, 6, 1e-4)
        self.tune_locality = _spin(0.0, 1000.0, d.tune_locality, 3, 0.1)
        self.tune_locality.setToolTip("Pivotal: how strongly faces near the pivot must keep their look, so edits "
                                      "still work on the tuned generator")
        self.tune_target = _spin(0.0, 1.0, d.tune_target, 6, 1e-4)
        self.tune_target.setToolTip("Pivotal: stop tuning once the reconstruction loss is below this")

    def _action_widgets(self) -> None:
        """Run, Compare, Reset to original model and the face picker."""
        self.tuned_label = QLabel("This photo uses a generator copy tuned for it (pivotal).")
        self.tuned_label.setWordWrap(True)
        self.reset_model = QPushButton("Reset to original model")
        self.reset_model.setToolTip("Drop the tuned copy: the result, edits and fills use the original generator "
                                    "again (undo brings the tuning back)")
        self.reset_model.clicked.connect(self.reset_model_requested)
        self.set_tuned(False)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the inversion (Ctrl+Return); while it runs, Stop keeps the best result")
        self.run_button.setMinimumHeight(34)
        self.run_button.clicked.connect(self._clicked)
        self.compare_button = QPushButton("Compare methods…")
        self.compare_button.setToolTip("Run several methods with these settings on the crop and compare them")
        self.compare_button.clicked.connect(self.compare_requested)
        self.face = QComboBox()
        self.face.setToolTip("The photo has several faces: the one aligned to the model's framing")
        self.face.activated.connect(self.face_chosen)

    def _method_changed(self, method: str) -> None:
        """Show the method's explanation and only the settings that apply to it."""
        self.method_help.setText(METHOD_HELP.get(method, "").format(
            theta=self._theta, learned=self.theta_note() if method == "landscape" else "").strip())
        for label, widget in self._method_rows.items():
            shown = (label in HYBRID_ROWS and method == "hybrid") or (label in PIVOTAL_ROWS and method == "pivotal")
            self.form.setRowVisible(widget, shown)

    def _layout(self) -> None:
        form = self.form = QFormLayout()
        self._method_rows = dict(zip(HYBRID_ROWS + PIVOTAL_ROWS, (
            self.refine, self.consistency, self.pivot, self.tune_steps, self.tune_lr, self.tune_locality,
            self.tune_target), strict=True))
        rows = [("Method", self.method), ("", self.method_help), ("Space", self.space), *self._method_rows.items(),
                ("Steps", self.steps), ("Learning rate", self.lr),
                ("Schedule", self.schedule), ("Plain steps first", self.warmup_steps),
                ("Plain step size", self.warmup_step), ("Coarse steps first", self.coarse_steps),
                ("Pixel weight", self.pixel), ("LPIPS weight", self.lpips),
                ("LPIPS network", self.lpips_net), ("Identity weight", self.identity), ("Prior weight", self.prior),
                ("Starts", self.starts),
                ("Seed", self.seed), ("Device", self.device), ("Restore", self.restore)]
        for label, widget in rows:
            form.addRow(label, widget)
        form.insertRow(0, "Face", self.face)
        form.setRowVisible(self.face, False)
        form.setRowVisible(self.coarse_steps, False)  # until a model with a coarse image is loaded
        settings = QVBoxLayout()
        settings.setContentsMargins(0, 0, 0, 0)
        settings.addLayout(form)
        settings.addStretch(1)
        self.settings_scroll = VerticalScrollArea(settings)  # the form scrolls; Run and Compare stay in sight
        outer = QVBoxLayout(self)
        outer.addWidget(self.settings_scroll, 1)
        outer.addWidget(self.run_button)
        outer.addWidget(self.compare_button)
        outer.addWidget(self.tuned_label)
        outer.addWidget(self.reset_model)

    def config(self) -> InversionConfig:
        """The settings as a validated-on-run config (the engine validates again)."""
        return InversionConfig(method=self.method.currentText(), steps=self.steps.value(), lr=self.lr.value(),
                               schedule=self.schedule.currentText(), starts=self.starts.value(),
                               seed=self.seed.value(), space=self.space_name(),
                               warmup_steps=self.warmup_steps.value(), warmup_step=self.warmup_step.value(),
                               coarse_steps=self.coarse_steps.value(),
                               operator=self.restore.currentData(), refine=self.refine.currentText(),
                               consistency=self.consistency.value(), pivot=self.pivot.currentText(),
                               tune_steps=self.tune_steps.value(), tune_lr=self.tune_lr.value(),
                               tune_locality=self.tune_locality.value(),
                               tune_target=self.tune_target.value()).with_changes(
            loss_pixel=self.pixel.value(), loss_lpips=self.lpips.value(), loss_prior=self.prior.value(),
            loss_lpips_net=self.lpips_net.currentText(), loss_identity=self.identity.value())

    def device_name(self) -> str:
        return self.device.currentText()

    def space_name(self) -> str | None:
        """The chosen space, or None for the model's default (the landscape and encoder methods work in the
        default space only, so they are never handed an explicit one they would refuse)."""
        chosen = self.space.currentData()
        return None if chosen == self._default_space else chosen

    def set_spaces(self, spaces: dict[str, tuple[int, ...]], default: str) -> None:
        """List the loaded model's latent spaces (name → per-sample shape) and select ``default``, or the space a
        restored setting asked for when the model has it."""
        wanted, self._wanted_space = self._wanted_space, None
        self._default_space = default
        self.space.clear()
        for name, shape in spaces.items():
            dims = " × ".join(str(d) for d in shape)
            self.space.addItem(f"{name}  [{dims}]" + ("  (default)" if name == default else ""), name)
        index = self.space.findData(wanted if wanted in spaces else default)
        self.space.setCurrentIndex(max(index, 0))

    def set_config(self, config: InversionConfig) -> None:
        self.method.setCurrentText(config.method)
        self.steps.setValue(config.steps)
        self.lr.setValue(config.lr)
        self.schedule.setCurrentText(config.schedule)
        self.warmup_steps.setValue(config.warmup_steps)
        self.warmup_step.setValue(config.warmup_step)
        self.coarse_steps.setValue(config.coarse_steps)
        self.pixel.setValue(config.loss.pixel)
        self.lpips.setValue(config.loss.lpips)
        self.lpips_net.setCurrentText(config.loss.lpips_net)
        self.identity.setValue(config.loss.identity)
        self.prior.setValue(config.loss.prior)
        self.starts.setValue(config.starts)
        self.seed.setValue(config.seed)
        index = self.space.findData(config.space or self._default_space)
        if index >= 0:
            self.space.setCurrentIndex(index)
        else:
            self._wanted_space = config.space
        self.refine.setCurrentText(config.refine)
        self.consistency.setValue(config.consistency)
        self.pivot.setCurrentText(config.pivot)
        self.tune_steps.setValue(config.tune_steps)
        self.tune_lr.setValue(config.tune_lr)
        self.tune_locality.setValue(config.tune_locality)
        self.tune_target.setValue(config.tune_target)
        index = self.restore.findData(config.operator)
        self.restore.setCurrentIndex(max(index, 0))

    def set_coarse_available(self, available: bool) -> None:
        """Show "Coarse steps first" only for a model that has a coarse image (elsewhere the setting does nothing)."""
        self._coarse_available = available
        self.form.setRowVisible(self.coarse_steps, available)

    def coarse_steps_in_use(self) -> int:
        """The steps a run of these settings takes on the coarse image: none on a model that has none."""
        return min(self.coarse_steps.value(), self.steps.value()) if self._coarse_available else 0

    def set_faces(self, labels: list[str]) -> None:
        """List the photo's faces (largest first); the picker shows only when there is a choice."""
        self.face.clear()
        self.face.addItems(labels)
        self.form.setRowVisible(self.face, len(labels) > 1)

    def show_face(self, index: int) -> None:
        """Select the face in use (-1: none, the manual crop) without emitting ``face_chosen``."""
        self.face.setCurrentIndex(index if index < self.face.count() else -1)

    def set_tuned(self, tuned: bool) -> None:
        """Show the tuned-generator note and its reset button only while the photo's result uses one."""
        self.tuned_label.setVisible(tuned)
        self.reset_model.setVisible(tuned)

    def set_theta(self, folder: str | None) -> None:
        """Name the θ the landscape method uses: the model's shipped one, or one trained in this editor."""
        self._theta = (f"yours, from '{Path(folder).name}'" if folder else
                       "the one shipped with the model (a model without one runs direct and says so)")
        self._method_changed(self.method.currentText())

    def _lpips_changed(self) -> None:
        """An LPIPS weight that cannot apply (its weights file missing or damaged) is shown as off, with the reason
        on hover."""
        reason = unavailable_reason(self.lpips_net.currentText())
        self.lpips.setSuffix("  (off: pixel loss only)" if reason else "")
        self.lpips.setEnabled(reason is None and not self._running)
        self.lpips.setToolTip(reason or "Weight of the perceptual (LPIPS) loss")
        reason = identity_unavailable_reason()
        self.identity.setSuffix("  (off: model missing)" if reason else "")
        self.identity.setEnabled(reason is None and not self._running)
        self.identity.setToolTip(reason or IDENTITY_HELP)

    def set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setText("Stop" if running else "Run")
        for widget in (self.method, self.steps, self.lr, self.schedule, self.warmup_steps, self.warmup_step,
                       self.coarse_steps,
                       self.pixel, self.lpips, self.lpips_net, self.identity, self.prior, self.starts, self.seed,
                       self.device, self.space, self.restore, *self._method_rows.values()):
            widget.setEnabled(not running)
        self._lpips_changed()

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
