"""Diverse inpainting in the editor: run K candidates on the brushed photo, preview one, apply it (undoable).

The run is ``core.photo_jobs.inpaint_photo`` (the CLI's ``inpaint`` runs the same job) on the photo as the
document shows it — the adopted result with its edits and the fills before — so a fill matches what surrounds it.
A candidate fills only the brushed pixels and is applied as one more fill layer over everything (one undo step):
every other pixel stays as it was, on screen and in the export. Previews are blended into the square's part of
what the run started from (a small patch), so browsing the gallery never redraws the photo.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from core.generators.tuning import WeightDelta
from core.imageio import CropBox
from core.inpainting import InpaintConfig, InpaintResult, more_different
from core.inversion import InversionStep
from core.jobs import CancelToken
from core.photo_jobs import FILL_FEATHER, PhotoInpainting, inpaint_photo
from core.placement import Placement
from core.sessions import Fill


@dataclass(frozen=True)
class InpaintRun:
    """A finished run and what it started from: the document's "after" at the display copy's size."""

    done: PhotoInpainting
    base: np.ndarray  # uint8 display-sized: the result, its edits and earlier fills, as the run saw them


class InpaintController(QObject):
    candidates_changed = Signal(object, object)  # (uint8 [K, R, R, 3], labels) live during a run and after it
    finished = Signal(object)  # InpaintResult
    steps_received = Signal(object)  # list[InversionStep]: the run's progress (the progress view shows it)

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.result: InpaintResult | None = None
        self.config = InpaintConfig()
        self._mask: np.ndarray | None = None  # full-resolution mask of the current run (255 = fill)
        self._placement: Placement | None = None  # the square of the current run
        self._tuning: WeightDelta | None = None
        self._base: np.ndarray | None = None  # the display-sized "after" the current candidates were made on
        doc.register_job("inpaint", self._done, on_steps=self._steps)

    @property
    def running(self) -> bool:
        return self.doc.engine.running("inpaint")

    # -- running ---------------------------------------------------------------------------------------------
    def run(self, config: InpaintConfig, mask: np.ndarray | None = None, device: str = "auto",
            near: np.ndarray | None = None) -> bool:
        """K candidates for the brushed pixels (``mask``: default the document's); with ``near`` (a latent), the
        starts are drawn around it."""
        d = self.doc
        if d.opened is None or d.placement is None:
            d.error_raised.emit("Open a photo first.")
            return False
        mask = d.mask if mask is None else mask
        opened, placement, token = d.opened, d.placement, CancelToken()
        tuning = None if d.adopted is None else d.adopted.tuning  # a tuned generator serves this photo's fills too
        if not placement.touches(mask):
            d.error_raised.emit("Brush the region to fill inside the crop first (B selects the brush).")
            return False
        mask, composite, composite_mode = mask.copy(), d.composite_photo(), d.composite
        assert composite is not None  # a photo is open

        def job() -> Generator[InversionStep, None, InpaintRun]:
            G = d.photo_model(device, tuning)
            shown = replace(opened.photo, pixels=composite())  # what the user sees, at full resolution
            done = yield from inpaint_photo(G, shown, placement=placement, mask=mask, config=config, near=near,
                                            composite=composite_mode, cancel=token)
            return InpaintRun(done, opened.to_display(shown.pixels))

        if not d.submit(JobRequest("inpaint", job, token)):
            return False
        self.config, self._mask, self._placement, self.result, self._tuning = config, mask, placement, None, tuning
        self._base = None
        d.status_changed.emit(f"Inpainting: {config.candidates} candidates…")
        return True

    def more_like(self, index: int, device: str = "auto") -> bool:
        """K new starts around candidate ``index`` (the chosen one kept as start 0, refined further)."""
        if self.result is None or self._mask is None:
            return False
        return self.run(self.config, self._mask, device, self.result.latents[index].copy())

    def more_different(self, device: str = "auto") -> bool:
        if self._mask is None:
            return False
        return self.run(more_different(self.config), self._mask, device)

    def _steps(self, records: list[InversionStep]) -> None:
        self.steps_received.emit(records)
        with_preview = [r for r in records if r.preview is not None]
        if with_preview:
            last = with_preview[-1]
            losses = last.start_losses
            self.candidates_changed.emit(last.preview, [f"loss {v:.4f}" for v in losses])

    def _done(self, run: InpaintRun) -> None:
        done, self._base = run.done, run.base
        result = self.result = done.result
        for warning in done.warnings[len(result.warnings):]:
            self.doc.warning_raised.emit(warning)
        labels = [f"#{rank + 1} · {psnr:.1f} dB" for rank, psnr in enumerate(result.fit_psnr)]
        self.candidates_changed.emit(result.candidates, labels)
        state = "Stopped" if result.cancelled else "Done"
        self.doc.status_changed.emit(
            f"{state}: {len(result.candidates)} candidates, ranked by fit to the known pixels; diversity "
            f"{result.diversity:.3f} ({result.diversity_metric.replace('_', ' ')}).")
        self.finished.emit(result)

    # -- preview and apply -----------------------------------------------------------------------------------
    def preview_patch(self, index: int) -> tuple[np.ndarray, CropBox] | None:
        """Candidate ``index`` blended into the square on screen: (patch, where it lies in photo pixels)."""
        d = self.doc
        placement = self._placement  # set with the run, so never None once there is a result
        if (self.result is None or placement is None or d.opened is None
                or not 0 <= index < len(self.result.candidates)):
            return None
        candidate, base = self.result.candidates[index], self._base
        reference = None if base is None else d.opened.fill_reference(placement, base, candidate.shape[0], d.detail)
        return d.opened.patch_on_display(placement, candidate, self._mask, FILL_FEATHER, base=base,
                                         reference=reference)

    @property
    def base(self) -> np.ndarray | None:
        """The display-sized "after" the candidates were made on (None before a run ends)."""
        return self._base

    def apply(self, index: int) -> bool:
        """Stack candidate ``index`` as a fill over what the document shows (one undo step)."""
        d = self.doc
        placement, mask = self._placement, self._mask  # set with the run, so never None once there is a result
        if (self.result is None or placement is None or mask is None or d.opened is None
                or not 0 <= index < len(self.result.candidates)):
            return False
        label = f"inpainting candidate #{index + 1}"
        d.add_fill(Fill(self.result.candidates[index], mask, placement, FILL_FEATHER, label), f"Apply {label}")
        d.status_changed.emit(f"Applied candidate #{index + 1}: only the brushed pixels changed.")
        return True
