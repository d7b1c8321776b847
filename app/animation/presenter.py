"""The editor's side of animations: records each run's latent path, builds the export job the dialog asks for and
feeds the dialog its progress. Frames are composited exactly as File → Export composites the photo (the result,
its fills, the document's composite mode), only with the face of each frame."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Generator as JobGenerator
from dataclasses import dataclass

import numpy as np
from PySide6.QtWidgets import QWidget

from app.animation.dialog import AnimationDialog, AnimationRequest
from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.document.state import Adopted, composite_photo
from app.engine import JobRequest
from app.inversion.controller import InversionController
from core.animation import (
    AnimationProgress,
    AnimationResult,
    Sweep,
    progress_latents,
    sweep_latents,
    walk_latents,
    write_animation,
)
from core.cli.render import load_latents
from core.errors import InvalidInputError
from core.generators import Generator
from core.inversion import InversionStep
from core.jobs import CancelToken
from core.photo_jobs import render_latent

Frames = tuple[list[np.ndarray], str | None]
Compose = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Plan:
    """How to make one clip, each part called on the engine thread."""

    generator: Callable[[], Generator]  # the model the frames are rendered with (a pivotal result's tuned copy)
    frames: Callable[[Generator], Frames]  # the latent of each frame, and their space
    composer: Callable[[Generator], Compose] | None  # a frame's face → the whole photo (None: the face alone)
    full: Callable[[Generator], bool]  # render at the model's full resolution


class AnimationPresenter:
    def __init__(self, doc: DocumentController, edits: EditController, inversion: InversionController,
                 parent: QWidget) -> None:
        self.doc, self.edits, self.parent = doc, edits, parent
        self.dialog: AnimationDialog | None = None
        self.path: list[np.ndarray] = []  # [K, *shape] latents of each step of the last run
        self._token: CancelToken | None = None
        doc.register_job("animate", self._done, self._failed, on_steps=self._steps)
        inversion.steps_received.connect(self._record)
        doc.photo_opened.connect(lambda _opened: self.path.clear())
        doc.model_changed.connect(lambda _key: self.path.clear())

    def _record(self, records: list[InversionStep]) -> None:
        for record in records:
            if record.step == 0:
                self.path.clear()  # a new run
            self.path.append(record.latent)

    # -- File → Export Animation… ---------------------------------------------------------------------------------
    def show_dialog(self) -> AnimationDialog:
        if self.dialog is None:
            self.dialog = AnimationDialog(self.parent)
            self.dialog.export_requested.connect(self.export)
            self.dialog.stop_requested.connect(self.stop)
        described = ", ".join(f"{name} {amount:+.1f}" for name, amount in self.edits.edits.items() if amount)
        self.dialog.set_state(edits=described, has_result=self.doc.adopted is not None,
                              recorded_steps=max(len(self.path) - 1, 0))
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def export(self, request: AnimationRequest) -> bool:
        """Start the export ``request`` describes on the engine thread; False (and a message) when refused."""
        try:
            plan = self._plan(request)
        except InvalidInputError as exc:
            self._failed(str(exc))
            return False
        token = CancelToken()
        opened = self.doc.opened
        size = None if opened is None else (opened.photo.width, opened.photo.height)

        def job() -> JobGenerator[AnimationProgress, None, AnimationResult]:
            G = plan.generator()
            latents, space = plan.frames(G)
            return (yield from write_animation(G, latents, space, path=request.path, fps=request.timing.fps,
                                               compose=plan.composer(G) if plan.composer else None,
                                               source_size=size, full=plan.full(G), max_side=request.max_side,
                                               cancel=token))

        if not self.doc.submit(JobRequest("animate", job, token)):
            return False
        self._token = token
        if self.dialog is not None:
            self.dialog.set_running(True)
        return True

    def stop(self) -> None:
        if self._token is not None:
            self._token.cancel()

    def _plan(self, request: AnimationRequest) -> Plan:
        """The clip ``request`` asks for; a clear error when the document has nothing of that kind to animate."""
        adopted, timing = self.doc.adopted, request.timing
        if request.kind == "edit":
            pairs = [(d, a) for d, a in self.edits.pairs(self.edits.edits) if a]
            if adopted is None or not pairs:
                raise InvalidInputError("Invert the photo and move at least one slider first: the animation "
                                        "sweeps the sliders' edits.")
            sweeps = [Sweep(d, -a if request.from_opposite else 0.0, a) for d, a in pairs]
            return Plan(lambda: self.doc.photo_model("auto", adopted.tuning),
                        lambda G: sweep_latents(G, adopted.latent, adopted.space, sweeps, timing),
                        self._composer(adopted), lambda G: _full(G, adopted))
        if request.kind == "walk":
            return self._walk_plan(request, adopted if request.from_photo else None)
        return self._progress_plan(request)

    def _walk_plan(self, request: AnimationRequest, start: Adopted | None) -> Plan:
        """From the photo's face (``start``; None: from the first keyframe) through the latent files, then the
        seeds."""
        def walk(G: Generator) -> Frames:
            space = None if start is None else start.space
            shape = G.space(space).shape
            keys = [] if start is None else [np.asarray(start.latent, np.float32)]
            for path in request.latent_files:
                keys.extend(load_latents(path, shape))
            keys += [G.sample_latent(1, request.first_seed + i, space)[0].cpu().numpy() for i in range(request.seeds)]
            return walk_latents(G, keys, space, request.timing), space

        tuning = None if start is None else start.tuning
        return Plan(lambda: self.doc.photo_model("auto", tuning), walk,
                    None if start is None else self._composer(start), lambda G: start is None or _full(G, start))

    def _progress_plan(self, request: AnimationRequest) -> Plan:
        """The last run's path, each step's face pasted into the photo (a run's progress replaces: there is no
        finished face yet to take changes against)."""
        adopted, opened, path, feather = self.doc.adopted, self.doc.opened, list(self.path), self.doc.feather
        if adopted is None or adopted.result is None or opened is None or len(path) < 2:
            raise InvalidInputError("Run an inversion first: the animation replays its steps.")
        result, pixels = adopted.result, opened.photo.pixels
        steps = [p[result.best_index] if len(p) > result.best_index else p[0] for p in path]

        def paste(G: Generator) -> Compose:
            return lambda image: adopted.placement.composite(pixels, image, fill_mask=adopted.fill_mask,
                                                             feather=feather)

        return Plan(lambda: self.doc.model("auto"), lambda G: (progress_latents(steps, request.timing), result.space),
                    paste, lambda G: True)

    def _composer(self, adopted: Adopted) -> Callable[[Generator], Compose]:
        """For the engine thread: a function from one frame's face to the whole photo as Export would write it."""
        opened, fills, feather, detail = self.doc.opened, self.doc.fills, self.doc.feather, self.doc.detail
        assert opened is not None  # a result exists only on an open photo
        pixels = opened.photo.pixels

        def composer(G: Generator) -> Compose:
            if not _full(G, adopted):
                return lambda image: composite_photo(pixels, adopted, image, fills, feather, detail)
            reference = render_latent(G, adopted.latent, adopted.space, full=True)
            return lambda image: composite_photo(pixels, adopted, None, fills, feather, detail,
                                                 full=(image, reference))

        return composer

    # -- what the engine reports --------------------------------------------------------------------------------
    def _steps(self, records: list[AnimationProgress]) -> None:
        if self.dialog is not None:
            self.dialog.show_progress(records[-1].frame, records[-1].frames)

    def _done(self, result: AnimationResult) -> None:
        self._token = None
        if result.cancelled:
            text = f"Stopped after {result.frames} frames; no file was written."
        else:
            width, height = result.size
            text = f"{result.frames} frames ({width}×{height}) written to {result.path} in {result.seconds:.1f} s."
        if self.dialog is not None:
            self.dialog.show_done(text)
        self.doc.status_changed.emit(text)

    def _failed(self, message: str) -> None:
        self._token = None
        if self.dialog is not None:
            self.dialog.show_failure(message)
        else:
            self.doc.error_raised.emit(message)


def _full(G: Generator, adopted: Adopted) -> bool:
    """Render at the model's full resolution where it has one and the result is a plain inversion (restorations
    and inpaintings keep their square, as in Export)."""
    return G.render_resolution != G.resolution and adopted.reference is None and adopted.fill_mask is None
