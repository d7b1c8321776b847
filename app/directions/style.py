"""Directions → Style: add a truncation slider, or mix in the styles of a seed or of another photo's latent.

Each becomes one of the document's own directions (a slider from 0 to 1 that projects keep and undo covers,
``core.directions.style``), made on the engine thread from the model the result was made with, then set to a
first value as one undoable edit so the change shows at once.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Generator as Job
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.engine import JobRequest
from core.device import from_uint8_hwc
from core.directions import Direction, named_style_edit, seed_mix, style_mix, truncation
from core.errors import CoreError
from core.generators import Generator
from core.imageio import load_photo
from core.inversion import InversionConfig, invert
from core.photo_jobs import placement_for

LAYER_CHOICES = ["coarse", "middle", "fine"]
MIX_PHOTO_STEPS = 100  # direct inversion of the other photo: its styles, not a faithful likeness, are wanted
PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
FIRST_VALUE = {"truncation": 0.3, "style-mix": 1.0}  # ψ = 0.7, StyleGAN's usual; a mix shows whole


def photo_mix(G: Generator, path: Path, layers: str) -> Job[Any, None, Direction]:
    """Invert another photo (its face aligned to the model's framing where one is found; the direct method's
    defaults) and mix its styles into ``layers``."""
    photo = load_photo(path)
    try:
        placement = placement_for(photo, G, align=True)
    except CoreError:  # no face found, or a model whose framing cannot be measured: the centred square
        placement = placement_for(photo, G)
    target = from_uint8_hwc(placement.target(photo.pixels, G.resolution), G.device)
    result = yield from invert(G, target, InversionConfig(steps=MIX_PHOTO_STEPS))
    return style_mix(G, result.best_latent, result.space, layers, label=path.name)


class StyleEdits:
    def __init__(self, doc: DocumentController, edits: EditController, parent: QWidget) -> None:
        self.doc, self.edits, self.parent = doc, edits, parent
        doc.register_job("style-edit", self._made)

    def request(self, kind: str) -> bool:
        """``kind``: "truncation", "seed", "photo" or "latent"; asks what it needs, then makes the edit on the
        engine."""
        adopted = self.doc.adopted
        if adopted is None:
            self.doc.error_raised.emit("Invert a photo first: truncation and style mixing move its latent.")
            return False
        if kind == "truncation":
            return self.make(lambda G: truncation(G, adopted.space))
        if kind == "seed":
            seed, ok = QInputDialog.getInt(self.parent, "Mix styles from a seed", "Seed:", 0, 0, 2**31 - 1)
            layers = self._layers() if ok else None
            if layers is None:
                return False
            return self.make(lambda G: seed_mix(G, seed, layers))
        if kind == "photo":
            photo, _ = QFileDialog.getOpenFileName(self.parent, "Mix styles from another photo", "", PHOTO_FILTER)
            from_photo = self._layers() if photo else None
            if from_photo is None:
                return False
            return self.make(lambda G: (yield from photo_mix(G, Path(photo), from_photo)))
        path, _ = QFileDialog.getOpenFileName(self.parent, "Mix styles from a latent", "", "Latent (*.npy)")
        chosen = self._layers() if path else None
        if chosen is None:
            return False
        return self.make(lambda G: named_style_edit(f"mix:{chosen}:{path}", G))

    def _layers(self) -> str | None:
        layers, ok = QInputDialog.getItem(self.parent, "Mix styles", "Layers the other face supplies (coarse: pose "
                                          "and shape; middle: features; fine: colour and texture):", LAYER_CHOICES,
                                          0, False)
        return layers if ok else None

    def make(self, build: Callable[[Generator], Direction | Job[Any, None, Direction] | None]) -> bool:
        """Make the direction ``build(G)`` returns (or, a job, ends with) with the result's own model (its
        pivotal-tuned copy too)."""
        adopted = self.doc.adopted
        assert adopted is not None

        def job() -> Job[Any, None, Direction | None]:
            made = build(self.doc.photo_model("auto", adopted.tuning))
            if made is None or isinstance(made, Direction):
                return made
            return (yield from made)

        return self.doc.submit(JobRequest("style-edit", job))

    def _made(self, direction: Direction | None) -> None:
        if direction is None:
            return
        self.doc.own_directions[direction.name] = direction
        self.edits.library_changed.emit()  # the sliders now include it
        before = self.edits.edits
        self.edits.commit(before, {**before, direction.name: FIRST_VALUE[direction.method]}, f"Add {direction.name}")
