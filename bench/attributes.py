"""``python -m bench attributes``: what the age, gender and smile directions made from readings of the model's
faces do, read the same way.

For the model (``--model``): the directions fitted on ``--faces`` labelled samples (default 1000; the DCGAN's)
and, on 128 held-out faces (``HELD_OUT_SEED``), the readings before and after each edit of ±1 and ±2 std units:
mean change with its standard error of the predicted age, p(male), and the mouth's width and corner lift (% of
the eye distance). A model that renders at 1024 px (FFHQ: about a second a face here) is measured on 48 faces at
±2 only.

With ``--recipes`` the model's *recipe* directions (``resources/directions/<model>/recipes.json``; ``--configs``
names a subset, e.g. ``glasses``) are measured instead, on the same held-out faces and readings: what an edit
made from a person's labels or a SeFa component does to age, gender and the mouth besides its own attribute.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import machine_info
from core.device import pick_device
from core.directions.attributes import attribute_directions, classifier_for, held_out_readings, measure_edit
from core.directions.recipes import model_recipes_path, read_recipes, recipe_directions
from core.generators import load_generator

AMOUNTS = (-2.0, -1.0, 1.0, 2.0)
HELD_OUT_FACES = 128
LARGE_MODEL_FACES = 48


def bench_attributes(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    samples = args.faces or 1000
    began = time.perf_counter()
    figures: dict[str, Any]
    if args.recipes:
        recipes = read_recipes(model_recipes_path(G))
        chosen = [name for name in args.configs.split(",") if name]
        directions = recipe_directions(G, [r for r in recipes if not chosen or r["name"] in chosen])
        samples, figures = 0, {"recipes": [d.name for d in directions]}
    else:
        directions, figures = attribute_directions(G, samples=samples)
    fitted = time.perf_counter() - began
    classifier = classifier_for(G)
    large = G.render_resolution > 256
    faces, amounts = (LARGE_MODEL_FACES, (-2.0, 2.0)) if large else (HELD_OUT_FACES, AMOUNTS)
    before = held_out_readings(G, faces, classifier)
    effects = {d.name: {f"{a:+g}": measure_edit(G, d, a, faces=faces, classifier=classifier,
                                                before=before).to_dict()
                        for a in amounts} for d in directions}
    return {"benchmark": "attributes", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "labelled_samples": samples,
            "fit_seconds": round(fitted, 1), "labels": figures, "held_out_faces": faces,
            "effects": effects}
