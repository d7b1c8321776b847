"""``python -m bench quality``: likeness per method before and after perceptual and identity losses, and what the
"detail" composite keeps of a photo under edits.

1. **Methods** (the five, at the product's per-method defaults from ``bench.methods``), each target inverted on its
   own: PSNR, LPIPS (AlexNet, the metric's usual backbone), dlib identity distance and seconds, under three loss
   variants — "pixel" (what every run got before LPIPS could load offline), "lpips" (pixel + LPIPS 0.5) and
   "lpips+identity" (+ the identity term). Targets: the bundled photos' face squares and held-out generated faces.
   Each variant is compared with "pixel" on the same targets: the mean paired difference and its standard error.
2. **Edits** on each photo (the editor's default method): smile, age and glasses at ±2, composited at the photo's
   resolution by "detail" and by "replace". Per edit: the identity distance between the photo's face and the
   edited photo's (both rendered at 256 px from full resolution; the same person below 0.6) and the detail kept
   (high-frequency energy inside the face box relative to the photo's, ``core.placement.detail_kept``). Also
   whether the unedited "detail" composite is the photo byte for byte.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from bench.common import machine_info
from bench.methods import METHOD_CONFIGS, _changes
from core.alignment import Framing, framing_for
from core.device import from_uint8_hwc, pick_device
from core.directions import DirectionLibrary, shipped_library_dir
from core.evaluation import HELD_OUT_SEED, held_out_faces
from core.generators import Generator, load_generator
from core.generators.tuning import tuned_copy
from core.imageio import Photo, load_photo
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.metrics import identity_distances, lpips_distance, psnr
from core.objectives.identity import identity_distance
from core.photo_jobs import edit_photo, invert_photo
from core.placement import Placement, detail_kept
from core.resources import sample_photos

IDENTITY_WEIGHT = 0.1  # the identity term's weight in the "lpips+identity" variant
VARIANTS = {"pixel": {"loss_lpips": 0.0, "loss_identity": 0.0},
            "lpips": {"loss_lpips": 0.5, "loss_identity": 0.0},
            "lpips+identity": {"loss_lpips": 0.5, "loss_identity": IDENTITY_WEIGHT}}
EDITS = ("smile", "age", "glasses")
AMOUNTS = (-2.0, 2.0)
FACE_SIDE = 256  # the face square the identity of a full-resolution photo is measured on


def _stats(values: list[float]) -> dict[str, float]:
    """Mean and its standard error (n − 1), rounded for JSON."""
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return {"mean": round(mean, 4), "se": round(se, 4), "n": len(values)}


def _row(G: Generator, config: InversionConfig, target: torch.Tensor, framing: Framing) -> dict[str, float]:
    began = time.perf_counter()
    result = run_job(invert(G, target[None], config))
    seconds = time.perf_counter() - began
    image = from_uint8_hwc(result.images[:1], G.device)
    lpips = lpips_distance(image, target[None])
    identity = identity_distances(image, target[None], framing)
    return {"psnr": float(psnr(image, target[None])[0]), "lpips": float("nan") if lpips is None else float(lpips[0]),
            "identity": float("nan") if identity is None else float(identity[0]), "seconds": seconds}


def run_methods(G: Generator, targets: torch.Tensor, methods: list[str], framing: Framing,
                args: argparse.Namespace) -> dict[str, Any]:
    """Every method under every variant on ``targets`` [T, 3, R, R], with paired differences against "pixel"."""
    out: dict[str, Any] = {}
    for method in methods:
        base = METHOD_CONFIGS[method].with_changes(**_changes(args, method))
        rows = {name: [_row(G, base.with_changes(**changes), t, framing) for t in targets]
                for name, changes in VARIANTS.items()}
        summary: dict[str, Any] = {name: {k: _stats([r[k] for r in rs]) for k in rs[0]} for name, rs in rows.items()}
        for name in list(VARIANTS)[1:]:
            summary[f"{name}_minus_pixel"] = {k: _stats([a[k] - b[k] for a, b in zip(rows[name], rows["pixel"],
                                                                                       strict=True)])
                                              for k in ("psnr", "lpips", "identity", "seconds")}
        out[method] = summary
        after = summary["lpips+identity"]
        print(f"  {method}: identity {after['identity']['mean']}, LPIPS {after['lpips']['mean']}, "
              f"{after['psnr']['mean']} dB, {after['seconds']['mean']} s", file=sys.stderr)
    return out


def _face(placement: Placement, pixels: np.ndarray) -> np.ndarray:
    return placement.target(pixels, FACE_SIDE)


def run_edits(G: Generator, photo: Photo, config: InversionConfig, framing: Framing,
              library: DirectionLibrary) -> dict[str, Any]:
    """One photo: the unedited composite's bytes, then each edit under both composites."""
    placement = Placement.default_for(photo)
    done = run_job(invert_photo(G, photo, placement=placement, config=config))
    model = G if done.result.tuning is None else tuned_copy(G, done.result.tuning)
    latent, face = done.result.best_latent, _face(placement, photo.pixels)
    out: dict[str, Any] = {"unedited_detail_is_the_photo": done.photo.tobytes() == photo.pixels.tobytes(),
                           "edits": {}}
    for name in EDITS:
        for amount in AMOUNTS:
            row = {}
            for mode in ("detail", "replace"):
                edited = run_job(edit_photo(model, photo, placement=placement, latent=latent,
                                            edits=[(library.get(name), amount)], composite=mode)).photo
                row[mode] = {"identity": round(identity_distance(face, _face(placement, edited), framing), 4),
                             "detail_kept": round(detail_kept(photo.pixels, edited, placement.crop), 4)}
            out["edits"][f"{name} {amount:+g}"] = row
    return out


def bench_quality(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    framing, library = framing_for(G), DirectionLibrary.load(shipped_library_dir(G.name))
    methods = args.configs.split(",") if args.configs else list(METHOD_CONFIGS)
    faces_n = args.faces or 8
    photos = [load_photo(path) for path in sample_photos()]
    squares = torch.cat([from_uint8_hwc(Placement.default_for(p).target(p.pixels, G.resolution), device)
                         for p in photos])
    out: dict[str, Any] = {"benchmark": "quality", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "variants": VARIANTS,
                           "photos": [p.source.name if p.source else "" for p in photos]}
    print("[sample_photos]", file=sys.stderr)
    out["sample_photos"] = run_methods(G, squares, methods, framing, args)
    print("[held_out_faces]", file=sys.stderr)
    out["held_out_faces"] = {"n": faces_n, "seed": HELD_OUT_SEED,
                             "results": run_methods(G, held_out_faces(G, faces_n), methods, framing, args)}
    editor = InversionConfig(method="pivotal", steps=100).with_changes(**VARIANTS["lpips+identity"],
                                                                        **_changes(args, "pivotal"))
    out["edits"] = {"config": editor.to_dict(), "per_photo": {
        p.source.name if p.source else str(i): run_edits(G, p, editor, framing, library)
        for i, p in enumerate(photos)}}
    return out
