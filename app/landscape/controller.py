"""Loss surfaces for the editor: invert the current crop, then slice the loss around the result, in X and in Z.

One engine job does all of it: a direct inversion (its path gives the X trajectory), a slice of X streamed row
by row, then — when the model has a ready θ — a landscape inversion and a slice of Z the same way. Rows arrive
tagged with their space, so both heat maps fill in live.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.engine import JobRequest
from core.device import to_uint8_hwc
from core.errors import ModelLoadError
from core.generators import Generator as GeneratorModel
from core.inversion import InversionConfig
from core.jobs import CancelToken, call_as_job
from core.landscape import LandscapeSlice, SliceConfig, SliceRow, save_slice
from core.photo_jobs import PhotoSlice, slice_photo
from core.theta import LandscapeMapping, find_mapping


@dataclass(frozen=True)
class SliceStarted:
    space: str
    xs: np.ndarray
    ys: np.ndarray
    config: SliceConfig  # what the axes are (directions, space) and which loss the colours show


@dataclass(frozen=True)
class SliceDone:
    space: str
    slice: LandscapeSlice
    profile: tuple[np.ndarray, np.ndarray]  # (ts, loss) along axis 1 through the centre (the grid's middle row)


class LandscapeController(QObject):
    slice_started = Signal(object)  # SliceStarted
    row_ready = Signal(str, int, object)  # space, row index, values [grid]
    slice_done = Signal(object)  # SliceDone
    finished = Signal(object)  # dict space → LandscapeSlice (or None when the run failed)
    image_ready = Signal(object)  # uint8 [R, R, 3] the image of a clicked grid point

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.slices: dict[str, LandscapeSlice] = {}
        self._theta: LandscapeMapping | None = None
        doc.register_job("slice", self._done, lambda _m: self.finished.emit(None), on_steps=self._records)
        doc.register_job("slice-image", self.image_ready.emit)
        doc.model_changed.connect(self._model_changed)
        doc.landscape_changed.connect(lambda _folder: setattr(self, "_theta", None))  # a new session θ

    def _model_changed(self, _key: str) -> None:
        """Slices and the cached θ describe the previous model's latent space."""
        self.slices, self._theta = {}, None

    @property
    def running(self) -> bool:
        return self.doc.engine.running("slice")

    def compute(self, config: SliceConfig, steps: int, library: object = None, device: str = "auto") -> bool:
        """Invert the document's square in X (and in Z where θ is ready), slicing the loss around each result."""
        d = self.doc
        if d.opened is None or d.placement is None:
            d.error_raised.emit("Open a photo first.")
            return False
        opened, placement, mask, theta, token = d.opened, d.placement, d.run_mask(), d.landscape_dir, CancelToken()
        inversion = InversionConfig(steps=steps, starts=1).with_changes(loss_lpips=0.0)
        tuning = None if d.adopted is None else d.adopted.tuning  # plots of this photo use its tuned generator

        def job() -> Generator[object, None, dict[str, LandscapeSlice]]:
            G = d.photo_model(device, tuning)
            spaces: dict[str, LandscapeMapping | None] = {"x": None}
            try:
                spaces["z"] = find_mapping(G, theta)[0]
            except ModelLoadError as exc:  # no ready θ: the X map alone, and say why
                d.warning_raised.emit(f"No Z landscape: {exc}")
            found = {}
            for space, mapping in spaces.items():
                in_space = SliceConfig.from_dict({**config.to_dict(), "space": space})
                sliced = yield from _streamed(space, in_space, slice_photo(
                    G, opened.photo, placement=placement, inversion=inversion, config=in_space, mask=mask,
                    theta=theta, mapping=mapping, library=library, cancel=token))
                if token.cancelled:
                    break
                found[space] = sliced
            return found

        if not d.submit(JobRequest("slice", job, token)):
            return False
        self.slices = {}
        d.status_changed.emit("Computing the loss landscape…")
        return True

    def _records(self, records: list) -> None:
        for record in records:
            if isinstance(record, SliceStarted):
                self.slice_started.emit(record)
            elif isinstance(record, SliceDone):
                self.slices[record.space] = record.slice
                self.slice_done.emit(record)
            elif isinstance(record, tuple) and isinstance(record[1], SliceRow):
                self.row_ready.emit(record[0], record[1].index, record[1].values)

    def _done(self, found: dict[str, LandscapeSlice]) -> None:
        self.slices = dict(found)
        spaces = " and ".join(s.upper() for s in found) or "nothing"
        self.doc.status_changed.emit(f"Loss landscape computed in {spaces}.")
        self.finished.emit(found)

    def export(self, folder: Path) -> list[Path]:
        written = []
        for space, sliced in self.slices.items():
            written += list(save_slice(sliced, folder / space).values())
        return written

    def image_at(self, space: str, x: float, y: float, device: str = "auto") -> bool:
        """Render the latent at (x, y) of a computed slice (on the engine)."""
        sliced = self.slices.get(space)
        if sliced is None:
            return False
        latent = sliced.center + x * sliced.axes[0] + y * sliced.axes[1]
        tuning = None if self.doc.adopted is None else self.doc.adopted.tuning

        def job() -> np.ndarray:
            G = self.doc.photo_model(device, tuning)
            code = torch.from_numpy(np.ascontiguousarray(latent[None], dtype=np.float32)).to(G.device)
            with torch.no_grad():
                if space == "z":
                    theta = self._mapping(G)
                    code = theta(code)
                return to_uint8_hwc(G.synthesize(code))[0]

        return self.doc.submit(JobRequest("slice-image", lambda: call_as_job(job)))

    def _mapping(self, G: GeneratorModel) -> torch.nn.Module:
        if self._theta is None:
            self._theta = find_mapping(G, self.doc.landscape_dir)[0]
        return self._theta


def _streamed(space: str, config: SliceConfig, job: Generator[object, None, PhotoSlice]
              ) -> Generator[object, None, LandscapeSlice]:
    """The slice's rows tagged with their space, framed by ``SliceStarted`` and ``SliceDone`` (the inversion's own
    steps are not shown: its path is what the plot draws)."""
    started = False
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            result: LandscapeSlice = stop.value.slice
            break
        if not isinstance(record, SliceRow):
            continue
        if not started:
            started = True
            axis = np.linspace(-config.span, config.span, config.grid)
            yield SliceStarted(space, axis, axis, config)
        yield (space, record)
    yield SliceDone(space, result, (result.xs, result.loss[len(result.ys) // 2]))  # the row through the centre
    return result
