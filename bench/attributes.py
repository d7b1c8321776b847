"""``python -m bench attributes``: what the classifier-made age and gender directions do, read by the classifiers.

For the model (``--model``): age and gender directions fitted on ``--faces`` labelled samples (default 1000; the
DCGAN's) and, on 128 held-out faces (``HELD_OUT_SEED``), the classifiers' readings before and after each edit of
±1 and ±2 std units: mean change with its standard error, for the edited attribute and for the other one.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import machine_info
from core.device import pick_device
from core.directions.attributes import attribute_directions, classifier_for, measure_edit
from core.generators import load_generator

AMOUNTS = (-2.0, -1.0, 1.0, 2.0)
HELD_OUT_FACES = 128


def bench_attributes(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    samples = args.faces or 1000
    began = time.perf_counter()
    directions, figures = attribute_directions(G, samples=samples)
    fitted = time.perf_counter() - began
    classifier = classifier_for(G)
    effects = {d.name: {f"{a:+g}": measure_edit(G, d, a, faces=HELD_OUT_FACES, classifier=classifier).to_dict()
                        for a in AMOUNTS} for d in directions}
    return {"benchmark": "attributes", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "labelled_samples": samples,
            "fit_seconds": round(fitted, 1), "labels": figures, "held_out_faces": HELD_OUT_FACES,
            "effects": effects}
