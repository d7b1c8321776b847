"""The Inpainting panel: brush a region, run K candidates at once, pick one from a gallery that fills live.

The panel edits an ``InpaintConfig`` and shows candidates; the inpainting controller runs and applies them.
Click a candidate (or use ←/→ on the gallery) to preview it on the canvas; Apply makes it an undoable result.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.widgets.qimage import numpy_to_qimage
from app.widgets.vertical_scroll import VerticalScrollArea
from core.inpainting import MAX_CPU_CANDIDATES, InpaintConfig

THUMB_PX = 96
HINT = ("Brush the region to fill (B), then Run: K starts are inverted on the pixels left, and each fills the "
        "brushed region its own way.")


class CandidateGallery(QListWidget):
    """Candidate thumbnails in a wrapping grid; ←/→ move the selection (and so the canvas preview)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setSpacing(4)
        self.setGridSize(QSize(THUMB_PX + 14, THUMB_PX + 26))  # room for the rank and fit under each face
        self.setWordWrap(False)
        self.setMinimumHeight(THUMB_PX + 26 + 12)  # one row in sight; more rows where the dock has room

    def show_images(self, images: np.ndarray, labels: list[str]) -> None:
        """uint8 [K, R, R, 3]: replace the thumbnails in place (the selection stays where it was)."""
        while self.count() < len(images):
            self.addItem(QListWidgetItem())
        while self.count() > len(images):
            self.takeItem(self.count() - 1)
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            pixmap = QPixmap.fromImage(numpy_to_qimage(image)).scaled(
                THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
            self.item(i).setIcon(QIcon(pixmap))
            self.item(i).setText(label)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps: dict[int, int] = {Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1, Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1}
        step = steps.get(event.key())
        if step is not None and self.count():
            row = self.currentRow()
            self.setCurrentRow((row + step) % self.count() if row >= 0 else 0)
            return
        super().keyPressEvent(event)


class InpaintingPanel(QWidget):
    run_requested = Signal()
    stop_requested = Signal()
    candidate_chosen = Signal(int)  # gallery index (-1: none)
    apply_requested = Signal(int)
    more_like_requested = Signal(int)
    more_different_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = InpaintConfig()
        self.candidates = QSpinBox()
        self.candidates.setRange(1, MAX_CPU_CANDIDATES)
        self.candidates.setValue(d.candidates)
        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(d.steps)
        self.prior = QDoubleSpinBox()
        self.prior.setDecimals(4)
        self.prior.setRange(0.0, 10.0)
        self.prior.setSingleStep(0.001)
        self.prior.setValue(d.prior)
        self.prior.setToolTip("Latent Gaussian prior weight (BRGM): higher keeps fills closer to typical faces")
        self.colinearity = QDoubleSpinBox()
        self.colinearity.setDecimals(3)
        self.colinearity.setRange(0.0, 10.0)
        self.colinearity.setSingleStep(0.01)
        self.colinearity.setValue(d.colinearity)
        self.colinearity.setToolTip("BRGM colinearity weight: pulls the per-layer codes of a W+ latent together. "
                                    "Models with a single latent (the default DCGAN) ignore it, with a notice.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2_000_000_000)
        self.run_button = QPushButton("Run")
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.gallery = CandidateGallery()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Composite the chosen candidate into the photo (undoable)")
        self.more_like = QPushButton("More like this")
        self.more_like.setToolTip("New starts near the chosen candidate's latent")
        self.more_different = QPushButton("More different")
        self.more_different.setToolTip("New random starts (the next seeds)")
        self._layout()
        self._running = False
        self.run_button.clicked.connect(lambda: self.stop_requested.emit() if self._running else
                                        self.run_requested.emit())
        self.gallery.currentRowChanged.connect(self.candidate_chosen)
        self.gallery.currentRowChanged.connect(lambda _row: self._sync())
        self.apply_button.clicked.connect(lambda: self.apply_requested.emit(self.gallery.currentRow()))
        self.more_like.clicked.connect(lambda: self.more_like_requested.emit(self.gallery.currentRow()))
        self.more_different.clicked.connect(self.more_different_requested)
        self._sync()

    def _layout(self) -> None:
        """The settings scroll; Run, the gallery (one row at least) and Apply stay in sight."""
        form = QFormLayout()
        for label, widget in (("Candidates", self.candidates), ("Steps", self.steps), ("Prior weight", self.prior),
                              ("Colinearity weight", self.colinearity), ("Seed", self.seed)):
            form.addRow(label, widget)
        actions = QHBoxLayout()
        for button in (self.apply_button, self.more_like, self.more_different):
            actions.addWidget(button)
        settings = QVBoxLayout()
        settings.setContentsMargins(0, 0, 0, 0)
        settings.addWidget(self.hint)
        settings.addLayout(form)
        settings.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(VerticalScrollArea(settings))
        layout.addWidget(self.run_button)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(self.status)
        layout.addLayout(actions)

    def config(self) -> InpaintConfig:
        return InpaintConfig(candidates=self.candidates.value(), steps=self.steps.value(), prior=self.prior.value(),
                             colinearity=self.colinearity.value(), seed=self.seed.value())

    def set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setText("Stop" if running else "Run")
        self._sync()

    def _sync(self) -> None:
        chosen = self.gallery.currentRow() >= 0 and not self._running
        for button in (self.apply_button, self.more_like):
            button.setEnabled(chosen)
        self.more_different.setEnabled(not self._running and self.gallery.count() > 0)
        for widget in (self.candidates, self.steps, self.prior, self.colinearity, self.seed):
            widget.setEnabled(not self._running)

    def show_candidates(self, images: np.ndarray, labels: list[str]) -> None:
        self.gallery.show_images(images, labels)
        self._sync()

    def clear(self) -> None:
        self.gallery.clear()
        self._sync()
