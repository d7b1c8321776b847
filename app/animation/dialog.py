"""File → Export Animation…: what moves (the sliders' edits, a walk from the photo's face through seeds, or the
last run's progress), how (frame rate, length, easing, loop, size) and where to; a progress bar with Stop.

The dialog only asks and draws: :class:`~app.animation.presenter.AnimationPresenter` runs the export on the engine
thread and reports :class:`~core.animation.AnimationProgress` records back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.animation import EASINGS, ClipTiming, check_max_side, clip_format
from core.animation.timing import MAX_FPS, MAX_SECONDS
from core.errors import CoreError

KINDS = {"edit": "The sliders' edits, swept", "walk": "A walk through latents and seeds",
         "inversion": "The last run's progress"}
SIZES = {"The photo's resolution": None, "1920 px": 1920, "1280 px": 1280, "720 px": 720, "512 px": 512, "256 px": 256}
CLIP_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"


@dataclass(frozen=True, kw_only=True)
class AnimationRequest:
    """What the user asked for, as plain data the presenter turns into an engine job."""

    kind: str  # "edit" | "walk" | "inversion"
    path: Path
    timing: ClipTiming
    max_side: int | None
    from_opposite: bool = False  # edit: from −amount (else from no edit) to the sliders' amounts
    seeds: int = 3  # walk: how many seeds it passes through
    first_seed: int = 0
    from_photo: bool = True  # walk: start on the photo's face and composite into the photo
    latent_files: tuple[Path, ...] = ()  # walk: inverted photos' latent.npy files, visited before the seeds


class AnimationDialog(QDialog):
    export_requested = Signal(object)  # AnimationRequest
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Animation")
        self.kind = QComboBox()
        for key, label in KINDS.items():
            self.kind.addItem(label, key)
        self.options = QStackedWidget()
        self.options.addWidget(self._edit_options())
        self.options.addWidget(self._walk_options())
        self.inversion_note = QLabel()
        self.inversion_note.setWordWrap(True)
        self.options.addWidget(self.inversion_note)
        self.kind.currentIndexChanged.connect(self._show_options)
        self.progress = QProgressBar()
        self.message = QLabel("Choose what moves and a file (.mp4 or .gif), then Export.")
        self.message.setWordWrap(True)
        self.export_button, self.stop_button = QPushButton("Export"), QPushButton("Stop")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._export)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.export_button, self.stop_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Animate", self.kind)
        form.addRow("", self.options)
        self._clip_rows(form)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.set_running(False)
        self._show_options(0)

    def _show_options(self, index: int) -> None:
        """Only the chosen kind's options take room (a stack would keep the tallest page's height)."""
        for i in range(self.options.count()):
            shown = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page = self.options.widget(i)
            if page is not None:
                page.setSizePolicy(shown, shown)
        self.options.setCurrentIndex(index)
        self.options.adjustSize()

    def _edit_options(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.edits_label = QLabel()
        self.edits_label.setWordWrap(True)
        self.from_edit = QComboBox()
        self.from_edit.addItems(["No edit (the photo as it is)", "The opposite edit (−amount)"])
        form.addRow("Edits", self.edits_label)
        form.addRow("From", self.from_edit)
        return box

    def _walk_options(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.seeds, self.first_seed = QSpinBox(), QSpinBox()
        self.seeds.setRange(0, 50)
        self.seeds.setValue(3)
        self.first_seed.setRange(0, 2**31 - 1)
        self.from_photo = QCheckBox("Start on the photo's face, in the photo")
        self.from_photo.setChecked(True)
        self.latent_files: list[Path] = []
        self.latents_label = QLabel("none")
        choose_latents = QPushButton("Latent Files…")
        choose_latents.setToolTip("Latents saved by File → Save Latent… or `invert` (latent.npy): other photos' faces")
        choose_latents.clicked.connect(self._choose_latents)
        latents_row = QHBoxLayout()
        latents_row.addWidget(self.latents_label, 1)
        latents_row.addWidget(choose_latents)
        form.addRow("Through", latents_row)
        form.addRow("Seeds", self.seeds)
        form.addRow("First seed", self.first_seed)
        form.addRow("", self.from_photo)
        return box

    def _clip_rows(self, form: QFormLayout) -> None:
        d = ClipTiming()
        self.fps, self.seconds = QSpinBox(), QDoubleSpinBox()
        self.fps.setRange(1, MAX_FPS)
        self.fps.setValue(round(d.fps))
        self.fps.setSuffix(" fps")
        self.seconds.setRange(0.2, MAX_SECONDS)
        self.seconds.setValue(d.seconds)
        self.seconds.setSuffix(" s")
        self.easing = QComboBox()
        self.easing.addItems(list(EASINGS))
        self.loop = QCheckBox("Loop: end where it began (an edit goes there and back)")
        self.clip_size = QComboBox()
        for label, side in SIZES.items():
            self.clip_size.addItem(label, side)
        self.path = QLineEdit()
        self.path.setPlaceholderText("clip.mp4 or clip.gif")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_path)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(choose)
        form.addRow("Frame rate", self.fps)
        form.addRow("Length", self.seconds)
        form.addRow("Easing", self.easing)
        form.addRow("", self.loop)
        form.addRow("Size", self.clip_size)
        form.addRow("File", file_row)

    # -- what the document offers -------------------------------------------------------------------------------
    def set_state(self, *, edits: str, has_result: bool, recorded_steps: int) -> None:
        """What can be animated now: the sliders' edits (described), whether a result exists, the steps of the
        last run recorded this session."""
        self.edits_label.setText(edits or "No edits: move a slider in the Directions panel first.")
        self.from_photo.setEnabled(has_result)
        self.from_photo.setChecked(has_result)
        self.inversion_note.setText(
            f"The latent's path over the last run's {recorded_steps} steps, pasted into the photo." if recorded_steps
            else "Run an inversion first: its steps are recorded for this.")

    def set_latent_files(self, paths: list[Path]) -> None:
        self.latent_files = list(paths)
        self.latents_label.setText(", ".join(p.name for p in paths) if paths else "none")

    def _choose_latents(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Latents to walk through", "", "Latents (*.npy)")
        if paths:
            self.set_latent_files([Path(p) for p in paths])

    def _choose_path(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export animation", self.path.text() or "clip.mp4",
                                                   CLIP_FILTER)
        if path:
            suffix = ".gif" if "gif" in chosen.lower() else ".mp4"
            self.path.setText(path if Path(path).suffix.lower() in (".mp4", ".gif") else path + suffix)

    def request(self) -> AnimationRequest:
        """The request the controls describe; a CoreError says what is wrong with it."""
        if not self.path.text().strip():
            raise CoreError("Choose a file for the animation (.mp4 or .gif).")
        path = Path(self.path.text().strip()).expanduser()
        clip_format(path)
        timing = ClipTiming(fps=self.fps.value(), seconds=self.seconds.value(), easing=self.easing.currentText(),
                            loop=self.loop.isChecked())
        timing.validate()
        max_side = self.clip_size.currentData()
        check_max_side(max_side)
        return AnimationRequest(kind=self.kind.currentData(), path=path, timing=timing, max_side=max_side,
                                from_opposite=self.from_edit.currentIndex() == 1, seeds=self.seeds.value(),
                                first_seed=self.first_seed.value(),
                                from_photo=self.from_photo.isEnabled() and self.from_photo.isChecked(),
                                latent_files=tuple(self.latent_files))

    def _export(self) -> None:
        try:
            request = self.request()
        except CoreError as exc:
            self.message.setText(str(exc))
            return
        self.export_requested.emit(request)

    # -- what the engine reports ------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setValue(0)
            self.message.setText("Rendering frames…")

    def show_progress(self, frame: int, frames: int) -> None:
        self.progress.setMaximum(max(frames, 1))
        self.progress.setValue(frame)
        self.message.setText(f"Rendering frame {frame} of {frames}…")

    def show_done(self, text: str) -> None:
        self.set_running(False)
        self.message.setText(text)

    def show_failure(self, message: str) -> None:
        self.set_running(False)
        self.message.setText(f"The animation was not written: {message}")
