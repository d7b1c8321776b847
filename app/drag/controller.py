"""Run a drag edit on the document's result: ``core.drag.drag_job`` on the engine thread, live frames for the canvas,
and the outcome adopted as one undo step.

The drag starts from what the user sees: the adopted latent with its slider edits applied (the rule of
``core.photo_jobs.edited_latent``, the one slider previews follow), on the photo's model — the pivotal-tuned copy
when the result has one, so the drag moves this photo's face, not a look-alike. Every frame is composited into the
square's part of the display copy on the engine thread, as a slider preview is, so the GUI thread only draws.
The result is a w+ code; it enters the photo through the old result's change reference, so under "detail" only
what the drag changed is added to the photo.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.document.state import Adopted, OpenedPhoto
from app.engine import JobRequest
from app.views.drag_points import DragPair
from core.drag import DragPoint, DragProgress, DragResult, DragSettings, drag_job
from core.imageio import CropBox
from core.jobs import CancelToken
from core.photo_jobs import edited_latent
from core.placement import Placement
from core.sessions import Fill

NO_RESULT = "Invert the photo first (Run, Ctrl+Return): a drag moves the face the model found."
NOT_STYLE = ("Drag editing needs a StyleGAN-family model: choose FFHQ or a StyleGAN2 checkpoint in "
             "File → Choose Model…")
NO_POINTS = "Place points first: with the Drag tool (D) click a point on the face, then where it should go."
NO_MASK = "Brush the area that may move first (B), or untick “Only the brushed area may move”."
BUSY = "A run is in progress: wait for it to end or Stop it first."


@dataclass(frozen=True)
class DragFrame:
    """One progress report, ready to draw."""

    step: int
    steps: int
    distance: float  # mean handle-to-target distance, pixels of the 256-px drag grid
    handles: np.ndarray  # float [K, 2]: where the handles are now, photo pixels
    seconds: float  # since the drag began
    patch: np.ndarray | None = None  # uint8 display pixels of the square with the frame blended in
    box: CropBox | None = None  # where ``patch`` lies, photo pixels


@dataclass(frozen=True)
class DragOutcome:
    adopted: Adopted  # the dragged result, composited on the display copy
    result: DragResult
    handles: np.ndarray  # float [K, 2]: where the handles ended, photo pixels


@dataclass(frozen=True)
class _Scene:
    """What the engine thread needs to turn a frame into pixels of the photo on screen."""

    opened: OpenedPhoto
    adopted: Adopted
    feather: float
    fills: tuple[Fill, ...]
    detail: bool

    def frame(self, progress: DragProgress, started: float) -> DragFrame:
        handles = self.adopted.placement.from_square(np.array(progress.handles, np.float64))
        frame = DragFrame(progress.step, progress.steps, progress.distance, handles, time.perf_counter() - started)
        if progress.image is None:
            return frame
        patch, box = self.opened.patch_on_display(self.adopted.placement, progress.image, None, self.feather,
                                                  self.fills, reference=self.adopted.change_reference(self.detail),
                                                  detail=self.detail)
        return replace(frame, patch=patch, box=box)

    def outcome(self, result: DragResult) -> DragOutcome:
        old = self.adopted
        model_id, _space, inversion = old.record()
        reference = old.change_reference(True)  # kept under "replace" too: a later switch to "detail" needs it
        adopted = Adopted(None, old.placement, self.opened.display, result.latent, result.image, tuning=old.tuning,
                          space=result.space, label="drag edit", model_id=model_id, inversion=inversion,
                          reference=reference)
        handles = old.placement.from_square(np.array(result.handles, np.float64))
        return DragOutcome(adopted.redisplayed(self.opened, self.feather, self.detail), result, handles)


def square_points(placement: Placement, pairs: list[DragPair]) -> list[DragPoint]:
    """Complete photo-pixel pairs as fractions of the model's square (clipped: a point on its edge stays in)."""
    handles = np.clip(placement.to_square(np.array([h for h, _ in pairs], np.float64)), 0.0, 1.0)
    targets = np.clip(placement.to_square(np.array([t for _, t in pairs], np.float64)), 0.0, 1.0)
    return [DragPoint((float(h[0]), float(h[1])), (float(t[0]), float(t[1]))) for h, t in zip(handles, targets,
                                                                                             strict=True)]


class DragController(QObject):
    frame_ready = Signal(object)  # DragFrame: the newest of a batch, with the newest preview patch among them
    finished = Signal(object)  # DragOutcome, after it was adopted (or found to move nothing)
    failed = Signal(str)

    def __init__(self, doc: DocumentController, edits: EditController) -> None:
        super().__init__(doc)
        self.doc, self.edits = doc, edits
        doc.register_job("drag", self._done, self.failed.emit, on_steps=self._steps)

    @property
    def running(self) -> bool:
        return self.doc.engine.running("drag")

    def refusal(self, pairs: list[DragPair], masked: bool) -> str | None:
        """Why a drag cannot start now (None: it can)."""
        d = self.doc
        if d.opened is None or d.placement is None:
            return "Open a photo first."
        if d.running:
            return BUSY
        if d.adopted is None:
            return NO_RESULT
        loaded = d.loaded_generators()
        if loaded and loaded[0].drag_space is None:
            return NOT_STYLE
        if not pairs:
            return NO_POINTS
        for number, (_handle, target) in enumerate(pairs, 1):
            if target is None:
                return (f"Point {number} has no target yet: click where its handle (red) should go, or remove it "
                        "(Backspace).")
        if masked and not d.adopted.placement.touches(d.mask):
            return NO_MASK
        return None

    def run(self, pairs: list[DragPair], steps: int, masked: bool = False, device: str = "auto") -> bool:
        """Drag the handles of ``pairs`` (photo pixels) to their targets in at most ``steps`` steps; ``masked``:
        only the brushed area may move. False, with a message, when refused."""
        why = self.refusal(pairs, masked)
        if why is not None:
            self.doc.error_raised.emit(why)
            return False
        d = self.doc
        adopted = d.adopted
        assert adopted is not None and d.opened is not None  # refusal() checked both
        scene = _Scene(d.opened, adopted, d.feather, d.fills, d.detail)
        points, brush, token = square_points(adopted.placement, pairs), d.mask.copy() if masked else None, CancelToken()
        pairs_edited, settings = self.edits.pairs(self.edits.edits), DragSettings(steps=steps)

        def job() -> Generator[DragFrame, None, DragOutcome]:
            G = d.photo_model(device, adopted.tuning)
            latent, space = edited_latent(G, adopted.latent, pairs_edited, adopted.space)
            mask = None if brush is None else adopted.placement.mask(brush, G.resolution)
            started = time.perf_counter()
            run = drag_job(G, latent, space, points, settings=settings, mask=mask, cancel=token)
            while True:
                try:
                    progress = next(run)
                except StopIteration as stop:
                    return scene.outcome(stop.value)
                yield scene.frame(progress, started)

        if not d.submit(JobRequest("drag", job, token)):
            return False
        d.status_changed.emit(f"Dragging {len(points)} point{'s' if len(points) > 1 else ''}…")
        return True

    def _steps(self, records: list[DragFrame]) -> None:
        last = records[-1]
        if last.patch is None:
            with_patch = [r for r in records if r.patch is not None]
            if with_patch:
                last = replace(last, patch=with_patch[-1].patch, box=with_patch[-1].box)
        self.frame_ready.emit(last)

    def _done(self, outcome: DragOutcome) -> None:
        result = outcome.result
        if result.steps > 0:
            self.doc.adopt(outcome.adopted, "Drag Points", keep_fills=True)
        self.doc.status_changed.emit(summary(result))
        self.finished.emit(outcome)


def summary(result: DragResult) -> str:
    """What the drag did, for the status bar: arrived, stopped, or out of steps (and how far it still is)."""
    left = result.distances[-1] if result.distances else 0.0
    took = f"{result.steps} step{'s' if result.steps != 1 else ''} in {result.seconds:.1f} s"
    if result.steps == 0:
        return "Nothing to drag: the handles are already at their targets." if result.arrived else \
            "Stopped before the first step: nothing changed."
    if result.arrived:
        return f"Drag done: the handles arrived after {took} (Ctrl+Z undoes it)."
    if result.stopped:
        return f"Drag stopped after {took}, {left:.1f} px to go; the face so far is kept (Ctrl+Z undoes it)."
    return f"Drag used all {took}, {left:.1f} px to go: press Drag to continue, or move the targets."
