"""Rebuild the shipped direction library of the default model and its contact sheet.

    python packaging/make_directions.py   → resources/directions/dcgan-digiface/ and docs/directions.jpg

Supervised directions come from the hand labels in packaging/direction_labels.json (InterFaceGAN: a logistic
classifier on the labelled faces' z, its unit normal); "head turn" and "lighting" are unsupervised components
(SeFa, GANSpace PCA) named after looking at their strips. Deterministic: the same files every run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.directions import (  # noqa: E402
    DirectionLibrary,
    contact_sheet,
    pca_directions,
    sefa_directions,
    shipped_library_dir,
    supervised_direction,
)
from core.generators import load_generator  # noqa: E402

SHEET_SEEDS = (1_000_000_001, 1_000_000_002, 1_000_000_003)  # not among the labelled faces


def build_library() -> DirectionLibrary:
    G = load_generator("default", "cpu")
    spec = json.loads((ROOT / "packaging" / "direction_labels.json").read_text())
    z = G.sample_latent(spec["count"], spec["first_seed"]).cpu().numpy()
    library = DirectionLibrary()
    for name, positives in spec["positives"].items():
        labels = np.zeros(spec["count"], dtype=bool)
        labels[positives] = True
        direction = supervised_direction(G, z, labels, name)
        library.add(direction.replace(provenance={**direction.provenance, "first_seed": spec["first_seed"],
                                                  "labels_file": "packaging/direction_labels.json"}))
    found = {"sefa": sefa_directions(G, 10)[0], "pca": pca_directions(G, 10)[0]}
    for name, source in spec["unsupervised"].items():
        component = found[source["method"]][source["component"]]
        library.add(component.replace(name=name, provenance={**component.provenance, "looked": source["looked"]}))
    return library


def main() -> int:
    library = build_library()
    folder = library.save(shipped_library_dir("dcgan-digiface"))
    G = load_generator("default", "cpu")
    sheet = contact_sheet(G, list(library), seeds=SHEET_SEEDS, upscale=2)
    Image.fromarray(sheet).save(ROOT / "docs" / "directions.jpg", quality=85, optimize=True)
    print(f"{len(library)} directions → {folder}; contact sheet → docs/directions.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
