"""Diverse inpainting in the editor: run K candidates on the brushed photo, preview one, apply it (undoable).

A candidate fills only the brushed pixels: every other pixel stays the photo's own, on screen and in the export.
Previews are blended into the crop's part of the display copy (a small patch), so browsing the gallery with the
arrow keys never redraws the whole photo.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from app.commands import ValueCommand
from app.controller import Adopted, DocumentController
from app.placement import model_mask, model_target, place_in_display, placed_patch
from app.workers import JobRequest
from core.alignment import Alignment
from core.device import from_uint8_hwc
from core.imageio import CropBox
from core.inpainting.diverse import InpaintConfig, InpaintResult, inpaint, more_different, starts_like
from core.inversion import InversionStep
from core.jobs import CancelToken


class InpaintController(QObject):
    candidates_changed = Signal(object, object)  # (uint8 [K, R, R, 3], labels) live during a run and after it
    finished = Signal(object)  # InpaintResult

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.result: InpaintResult | None = None
        self.config = InpaintConfig()
        self._mask: np.ndarray | None = None  # full-resolution mask of the current run (255 = fill)
        self._crop: CropBox | None = None
        self._alignment: Alignment | None = None  # the aligned square of the current run (None: the crop)
        doc.register_job("inpaint", self._done, self._failed)
        doc.steps_received.connect(self._steps)

    @property
    def running(self) -> bool:
        return self.doc.engine.busy and self.doc._job == "inpaint"

    # -- running ---------------------------------------------------------------------------------------------
    def run(self, config: InpaintConfig, mask: np.ndarray, device: str = "auto",
            near: np.ndarray | None = None) -> bool:
        """K candidates for the brushed pixels; with ``near`` (a latent), the starts are drawn around it."""
        d = self.doc
        if d.opened is None or d.crop is None:
            d.error_raised.emit("Open a photo first.")
            return False
        opened, crop, alignment, token = d.opened, d.crop, d.alignment, CancelToken()
        tuning = None if d.adopted is None else d.adopted.tuning  # a tuned generator serves this photo's fills too
        if alignment is None:
            inside = mask[crop.y:crop.y + crop.size, crop.x:crop.x + crop.size]
        else:  # what the model's square sees of the mask
            inside = model_mask(mask, crop, alignment, alignment.resolution) > 0
        if not inside.any():
            d.error_raised.emit("Brush the region to fill inside the crop first (B selects the brush).")
            return False
        mask = mask.copy()

        def job() -> Generator[InversionStep, None, InpaintResult]:
            G = d.photo_model(device, tuning)
            target = from_uint8_hwc(model_target(opened.photo.pixels, crop, alignment, G.resolution), G.device)
            small = torch.from_numpy(model_mask(mask, crop, alignment, G.resolution))
            start = None if near is None else starts_like(G, near, config.candidates, seed=config.seed,
                                                          keep_chosen=True)
            return (yield from inpaint(G, target, small, config, start, token))

        if not d.submit(JobRequest("inpaint", job, token)):
            return False
        self.config, self._mask, self._crop, self.result, self._tuning = config, mask, crop, None, tuning
        self._alignment = alignment
        d.run_state_changed.emit(True)
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
        if self.doc._job != "inpaint":
            return
        with_preview = [r for r in records if r.preview is not None]
        if with_preview:
            last = with_preview[-1]
            losses = last.start_losses
            self.candidates_changed.emit(last.preview, [f"loss {v:.4f}" for v in losses])

    def _done(self, result: InpaintResult) -> None:
        self.result = result
        self.doc.run_state_changed.emit(False)
        labels = [f"#{rank + 1} · {psnr:.1f} dB" for rank, psnr in enumerate(result.fit_psnr)]
        self.candidates_changed.emit(result.candidates, labels)
        state = "Stopped" if result.cancelled else "Done"
        self.doc.status_changed.emit(
            f"{state}: {len(result.candidates)} candidates, ranked by fit to the known pixels; diversity "
            f"{result.diversity:.3f} ({result.diversity_metric.replace('_', ' ')}).")
        self.finished.emit(result)

    def _failed(self, _message: str) -> None:
        self.doc.run_state_changed.emit(False)

    # -- preview and apply -----------------------------------------------------------------------------------
    def preview_patch(self, index: int) -> tuple[np.ndarray, CropBox] | None:
        """Candidate ``index`` blended into the crop on screen: (patch, crop in photo pixels)."""
        d = self.doc
        if self.result is None or d.opened is None or not 0 <= index < len(self.result.candidates):
            return None
        return placed_patch(d.opened, self.result.candidates[index], self._crop, self._alignment, self._mask,
                            d.feather)

    def apply(self, index: int) -> bool:
        """Make candidate ``index`` the document's result (one undo step)."""
        d = self.doc
        if self.result is None or d.opened is None or not 0 <= index < len(self.result.candidates):
            return False
        opened, crop, mask = d.opened, self._crop, self._mask
        image, latent = self.result.candidates[index], self.result.latents[index]
        display = place_in_display(opened, image, crop, self._alignment, mask, d.feather)
        inversion = replace(self.result.inversion)
        adopted = Adopted(inversion, crop, display, latent.copy(), image, mask, self._tuning, inversion.space,
                          self._alignment)
        d.undo_stack.push(ValueCommand(f"Apply inpainting candidate #{index + 1}", d._apply_result, d.adopted,
                                       adopted, False))
        d.status_changed.emit(f"Applied candidate #{index + 1}: only the brushed pixels changed.")
        return True
