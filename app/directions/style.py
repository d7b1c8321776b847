"""Directions → Style: add a truncation slider, or mix in the styles of a seed or of another photo's latent.

Each becomes one of the document's own directions (a slider from 0 to 1 that projects keep and undo covers,
``core.directions.style``), made on the engine thread from the model the result was made with, then set to a
first value as one undoable edit so the change shows at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.engine import JobRequest
from core.directions import Direction, named_style_edit, seed_mix, truncation
from core.generators import Generator
from core.jobs import call_as_job

LAYER_CHOICES = ["coarse", "middle", "fine"]
FIRST_VALUE = {"truncation": 0.3, "style-mix": 1.0}  # ψ = 0.7, StyleGAN's usual; a mix shows whole


class StyleEdits:
    def __init__(self, doc: DocumentController, edits: EditController, parent: QWidget) -> None:
        self.doc, self.edits, self.parent = doc, edits, parent
        doc.register_job("style-edit", self._made)

    def request(self, kind: str) -> bool:
        """``kind``: "truncation", "seed" or "latent"; asks what it needs, then makes the edit on the engine."""
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

    def make(self, build: Callable[[Generator], Direction | None]) -> bool:
        """Make the direction ``build(G)`` returns with the result's own model (its pivotal-tuned copy too)."""
        adopted = self.doc.adopted
        assert adopted is not None

        def job() -> Direction | None:
            return build(self.doc.photo_model("auto", adopted.tuning))

        return self.doc.submit(JobRequest("style-edit", lambda: call_as_job(job)))

    def _made(self, direction: Direction | None) -> None:
        if direction is None:
            return
        self.doc.own_directions[direction.name] = direction
        self.edits.library_changed.emit()  # the sliders now include it
        before = self.edits.edits
        self.edits.commit(before, {**before, direction.name: FIRST_VALUE[direction.method]}, f"Add {direction.name}")
