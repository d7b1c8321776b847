"""Live progress of an inversion: target beside the current reconstruction, loss curves, thumbnails, speed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.views.loss_plot import LossPlotView
from app.views.thumbnail_strip import ThumbnailStripView
from app.widgets.qimage import numpy_to_qimage
from app.widgets.vertical_scroll import VerticalScrollArea
from core.inversion import InversionStep

PREVIEW_PX = 160  # the previews' size with room to spare; they shrink to PREVIEW_MIN_PX in a short dock
PREVIEW_MIN_PX = 56
PLOT_MIN_HEIGHT = 100
PLOT_INTERVAL_MS = 250  # curves redraw at 4 Hz: drawing the plot is the GUI's most expensive work during a run


def run_phases(steps: int | None, tuning_steps: int, coarse_steps: int) -> list[tuple[int, str]]:
    """(first step, name) of each phase of a run worth marking on its loss plot."""
    if steps is None:
        return []
    phases = []
    if tuning_steps:
        phases.append((0, "pivot, coarse" if coarse_steps else "pivot"))
    elif coarse_steps:
        phases.append((0, "coarse image"))
    if coarse_steps:
        phases.append((coarse_steps, "exact" if tuning_steps else "exact image"))
    if tuning_steps:
        phases.append((steps, "weight tuning"))
    return phases


class PreviewImage(QLabel):
    """A square preview, PREVIEW_PX on a side where there is room and down to PREVIEW_MIN_PX where there is not;
    the image (kept at PREVIEW_PX: ``pixmap()``) is drawn scaled into the square it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(PREVIEW_MIN_PX, PREVIEW_MIN_PX)
        self.setMaximumSize(PREVIEW_PX, PREVIEW_PX)

    def sizeHint(self) -> QSize:
        return QSize(PREVIEW_PX, PREVIEW_PX)

    def minimumSizeHint(self) -> QSize:
        return QSize(PREVIEW_MIN_PX, PREVIEW_MIN_PX)

    def paintEvent(self, event: QPaintEvent) -> None:
        side = min(self.width(), self.height())
        box = QRect(0, 0, side, side)
        box.moveCenter(self.rect().center())
        painter = QPainter(self)
        painter.fillRect(box, QColor("#202020"))
        pixmap = self.pixmap()
        if not pixmap.isNull():
            shown = pixmap.size().scaled(box.size() - QSize(2, 2), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), shown.boundedTo(pixmap.size()))
            target.moveCenter(box.center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pixmap)
        painter.setPen(QColor("#444444"))
        painter.drawRect(box.adjusted(0, 0, -1, -1))


def _image_label(caption: str) -> tuple[PreviewImage, QLabel]:
    image = PreviewImage()
    text = QLabel(caption)
    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return image, text


def format_eta(seconds: float) -> str:
    if not np.isfinite(seconds) or seconds < 0:
        return "–"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


class ProgressPanel(QWidget):
    """Fed by the controller's ``steps_received``; keeps no engine state of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target, target_caption = _image_label("Target (crop)")
        self.current, self.current_caption = _image_label("Reconstruction")
        self.plot = LossPlotView()
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.thumbnails = ThumbnailStripView()
        self.speed = QLabel("–")
        grid = QGridLayout()
        grid.addWidget(self.target, 0, 0, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(self.current, 0, 1, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(target_caption, 1, 0)
        grid.addWidget(self.current_caption, 1, 1)
        content = QVBoxLayout()
        content.setContentsMargins(6, 4, 6, 4)
        content.setSpacing(4)
        grid.setVerticalSpacing(2)
        content.addLayout(grid, 1)  # the previews and the plot share the room above their least sizes
        content.addWidget(self.speed)
        content.addWidget(self.plot, 1)
        content.addWidget(self.thumbnails)
        # the previews and the plot shrink first; below their least size the whole view scrolls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(VerticalScrollArea(content))
        self.last_preview: np.ndarray | None = None
        self._pending: list[InversionStep] = []
        self._phases: list[tuple[int, str]] = []  # where a pivotal run's phases begin
        self._total: int | None = None  # the steps the axis spans (the whole run)
        self._last_progress: tuple[int, int] | None = None  # (step, steps) of the newest record
        self._plot_timer = QTimer(self)
        self._plot_timer.setInterval(PLOT_INTERVAL_MS)
        self._plot_timer.timeout.connect(self.flush_plot)

    def reset(self, target: np.ndarray | None = None, steps: int | None = None, tuning_steps: int = 0,
              coarse_steps: int = 0) -> None:
        """Start of a run: clear curves and thumbnails; show the target crop; fix the step axis to the whole run
        (``steps`` plus a pivotal run's ``tuning_steps``, its phases marked, and where the first ``coarse_steps``
        on the coarse image end: the loss jumps there, being measured on another image). Without a target (another
        photo or model) nothing of the last run stays: not its target, speed or ETA either."""
        self._pending.clear()
        self.plot.reset()
        self._total = None
        self._phases = run_phases(steps, tuning_steps, coarse_steps)
        if steps is not None:
            self._set_range(steps + tuning_steps)
        self.thumbnails.clear()
        self.last_preview = None
        self.current.clear()
        self.speed.setText("–")
        self._last_progress = None
        if target is not None:
            self._show(self.target, target)
        else:
            self.target.clear()

    def _set_range(self, total: int) -> None:
        """The axis spans ``total`` steps; a pivotal run's tuning begins after its ``steps`` pivot steps."""
        self._total = total
        self.plot.set_step_range(total, self._phases)

    def add_steps(self, records: list[InversionStep]) -> None:
        if records and self._total is not None and records[-1].steps > self._total:
            self._set_range(records[-1].steps)  # a run that planned more than the panel was told
        if records:
            self._last_progress = (records[-1].step, records[-1].steps)
        self._pending.extend(records)
        if not self._plot_timer.isActive():
            self._plot_timer.start()
        for record in records:
            if record.preview is not None:
                best = int(np.argmin(record.start_losses))
                self.last_preview = record.preview[best]
                self.thumbnails.add(record.step, self.last_preview)
                self._show(self.current, self.last_preview)
                self.current_caption.setText(f"Reconstruction · step {record.step}")

    def flush_plot(self) -> None:
        """Draw the steps received since the last flush (the timer stops itself when nothing is pending)."""
        if not self._pending:
            self._plot_timer.stop()
            return
        records, self._pending = self._pending, []
        self.plot.append([r.step for r in records], [{**r.losses, "best": r.best_loss} for r in records])

    def set_speed(self, step: int, steps: int, per_second: float) -> None:
        """Progress with the speed of the last few seconds and the time left at that speed."""
        eta = (steps - step) / per_second if per_second > 0 else float("inf")
        self.speed.setText(f"step {step}/{steps} · {per_second:.1f} steps/s · ETA {format_eta(eta)}")

    def finish(self, seconds: float | None = None) -> None:
        """The run ended: what it did replaces the speed and ETA (which would otherwise stay, stale)."""
        if self._last_progress is None:
            return
        step, steps = self._last_progress
        steps = max(steps, self._total or 0)  # a pivotal run whose tuning ended at once never reports its plan
        if step < steps and self._total is not None:
            self._set_range(step)  # the steps it did fill the axis; the phases stay marked where they began
        took = "" if seconds is None else f" in {seconds:.1f} s" if seconds < 60 else f" in {format_eta(seconds)}"
        early = f" of {steps} planned (ended early)" if step < steps else ""
        self.speed.setText(f"done · {step} steps{early}{took}")

    def show_result(self, image: np.ndarray) -> None:
        self.flush_plot()
        self._show(self.current, image)
        self.current_caption.setText("Reconstruction · best")

    @staticmethod
    def _show(label: QLabel, pixels: np.ndarray) -> None:
        pixmap = QPixmap.fromImage(numpy_to_qimage(pixels))
        label.setPixmap(pixmap.scaled(PREVIEW_PX, PREVIEW_PX, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation))
