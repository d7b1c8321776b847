"""Engine jobs that make directions for the GUI: discover (SeFa/PCA), faces to label, train, two photos.

Each runs on the engine thread through the document controller and answers with a signal carrying numpy
arrays and core dataclasses; the dialogs only draw them.
"""

from __future__ import annotations

from collections.abc import Generator as Job
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from app.document.controller import DocumentController
from app.document.state import open_photo_job
from app.engine import JobRequest
from core.device import from_uint8_hwc, to_uint8_hwc
from core.directions import (
    Direction,
    direction_from_two_latents,
    direction_strip,
    import_ganspace,
    import_interfacegan,
    pca_directions,
    sefa_directions,
    supervised_direction,
)
from core.directions.attributes import SMILE, attribute_directions, measure_edit
from core.inversion import InversionConfig, invert
from core.jobs import call_as_job

GALLERY_SEEDS = (1_000_000_001, 1_000_000_002)  # faces each discovered component is shown on
GALLERY_ALPHAS = (-3.0, 0.0, 3.0)


class DirectionMaker(QObject):
    components_ready = Signal(object)  # (list[Direction], list[np.ndarray] strips, list[str] notes)
    faces_ready = Signal(object)  # uint8 [N, R, R, 3]
    direction_made = Signal(object)  # Direction (trained or from two photos)
    imported = Signal(object)  # (file name, list[Direction]) read from an InterFaceGAN / GANSpace file
    failed = Signal(str)

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.components: list[Direction] = []
        for name, signal in (("discover", self._discovered), ("label-faces", self.faces_ready.emit),
                             ("train-direction", self.direction_made.emit),
                             ("two-photos", self.direction_made.emit), ("import-directions", self.imported.emit)):
            doc.register_job(name, signal, self.failed.emit)

    def discover(self, method: str, count: int, layers: tuple[int, int] | None = None) -> bool:
        def job() -> tuple[list[Direction], list[np.ndarray], list[str]]:
            G = self.doc.model("auto")
            if method == "sefa":
                found, values = sefa_directions(G, count, layers=layers)
                notes = [f"eigenvalue {v:.1f}" for v in values]
            elif method == "attributes":  # a 1024-px model renders ~0.5 s a face here: fewer labelled samples
                found, figures = attribute_directions(G, samples=1000 if G.render_resolution <= 256 else 300)
                effects = [measure_edit(G, d, 2.0, faces=32) for d in found]
                sources = ["the face mesh" if d.name == SMILE else "dlib's classifiers" for d in found]
                notes = [f"+2 on 32 held-out faces: {e.summary()}; labels from {source} (median age "
                         f"{figures['median_age']:.0f})" for e, source in zip(effects, sources, strict=True)]
            else:
                found, ratios = pca_directions(G, count)
                notes = [f"explains {100 * r:.1f} % of the activation variance" for r in ratios]
            strips = [direction_strip(G, d, GALLERY_SEEDS, GALLERY_ALPHAS) for d in found]
            return found, strips, notes

        return self.doc.submit(JobRequest("discover", lambda: call_as_job(job)))

    def _discovered(self, value: tuple[list[Direction], list[np.ndarray], list[str]]) -> None:
        self.components = value[0]
        self.components_ready.emit(value)

    def faces(self, first_seed: int, count: int) -> bool:
        def job() -> np.ndarray:
            G = self.doc.model("auto")
            with torch.no_grad():
                return to_uint8_hwc(G.synthesize(G.sample_latent(count, first_seed)))

        return self.doc.submit(JobRequest("label-faces", lambda: call_as_job(job)))

    def train(self, name: str, first_seed: int, labels: list[bool]) -> bool:
        def job() -> Direction:
            G = self.doc.model("auto")
            latents = G.sample_latent(len(labels), first_seed).cpu().numpy()
            direction = supervised_direction(G, latents, np.asarray(labels), name)
            return direction.replace(provenance={**direction.provenance, "first_seed": first_seed})

        return self.doc.submit(JobRequest("train-direction", lambda: call_as_job(job)))

    def import_file(self, path: Path) -> bool:
        """Read an InterFaceGAN ``.npy`` boundary or GANSpace ``.npz`` components for the loaded model."""
        def job() -> tuple[str, list[Direction]]:
            G = self.doc.model("auto")
            found = import_ganspace(path, G) if path.suffix.lower() == ".npz" else [import_interfacegan(path, G)]
            return path.name, found

        return self.doc.submit(JobRequest("import-directions", lambda: call_as_job(job)))

    def from_two_photos(self, name: str, first: Path, second: Path, steps: int) -> bool:
        def job() -> Job[object, None, Direction]:
            G = self.doc.model("auto")
            latents = []
            for path in (first, second):
                opened = open_photo_job(path)
                target = from_uint8_hwc(opened.placement.target(opened.photo.pixels, G.resolution), G.device)
                result = yield from invert(G, target, InversionConfig(steps=steps))
                latents.append(result.best_latent)
            direction = direction_from_two_latents(latents[0], latents[1], G, name)
            return direction.replace(provenance={**direction.provenance, "from": first.name, "to": second.name,
                                                 "steps": steps})

        return self.doc.submit(JobRequest("two-photos", job))
