"""``python -m bench alignment``: does automatic alignment help inversion, and what does it cost?

Targets: each bundled sample photo, and copies of it turned by +15° and −15° and shifted (Pillow, grey fill).
For every target, direct inversion with pixel loss (the product's direct settings, LPIPS off, one start) runs for
100 steps on (a) the face aligned to the model's framing and (b) the plain centred square crop; the PSNR of each
against its own target is reported (for the untouched photos also on the hand-recorded face crop). The detection
and alignment time per photo (face finder, framing lookup, warp to the model's resolution) is the median of
``--repeats`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from bench.common import machine_info, psnr_after
from core.alignment import align_faces, framing_for, warp_to_model
from core.device import from_uint8_hwc, pick_device
from core.errors import InvalidInputError
from core.generators import Generator, load_generator
from core.imageio import CropBox, crop_and_resize, load_photo
from core.inversion import InversionConfig
from core.resources import sample_face_crop, sample_photos

STEPS = 100
CONFIG = InversionConfig(method="direct", starts=1, preview_every=10_000).with_changes(loss_lpips=0.0)
VARIANTS = {"original": (0.0, (0, 0)), "rotated+15": (15.0, (25, -15)), "rotated-15": (-15.0, (-20, 20)),
            "offset": (0.0, (60, 40))}


def variants(pixels: np.ndarray) -> dict[str, np.ndarray]:
    """The photo and its turned / shifted copies (uint8 [H, W, 3] each)."""
    out = {}
    for name, (degrees, shift) in VARIANTS.items():
        out[name] = pixels if name == "original" else np.asarray(Image.fromarray(pixels).rotate(
            degrees, Image.Resampling.BICUBIC, translate=shift, fillcolor=(128, 128, 128)))
    return out


def align_seconds(pixels: np.ndarray, G: Generator, repeats: int) -> float:
    """Median seconds to find the faces, align the largest and render it at the model's resolution."""
    times = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        _, alignments = align_faces(pixels, framing_for(G, measure=False), G.resolution)
        warp_to_model(pixels, alignments[0].transform, G.resolution)
        times.append(time.perf_counter() - began)
    return statistics.median(times[1:])  # the first call loads the two TFLite models


def recorded_crop(photo: Path) -> CropBox:
    """The face crop recorded for a bundled sample photo."""
    crop = sample_face_crop(photo)
    if crop is None:
        raise InvalidInputError(f"No face crop is recorded for the sample photo '{photo.name}'.")
    return CropBox.from_dict(crop)


def bench_alignment(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(0)
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    framing = framing_for(G)
    rows: dict[str, Any] = {}
    targets: dict[str, list[np.ndarray]] = {"aligned": [], "centred": []}
    for path in sample_photos():
        photo = load_photo(path)
        for name, pixels in variants(photo.pixels).items():
            key = f"{path.name}:{name}"
            _, alignments = align_faces(pixels, framing, G.resolution)
            a = alignments[0]
            targets["aligned"].append(warp_to_model(pixels, a.transform, G.resolution))
            box = CropBox.centered(pixels.shape[1], pixels.shape[0])
            targets["centred"].append(crop_and_resize(pixels, box, G.resolution))
            rows[key] = {"faces": len(alignments), "angle_degrees": round(a.angle, 2), "scale": round(a.scale, 4),
                         "align_ms": round(1000 * align_seconds(pixels, G, args.repeats), 2)}
            print(f"[alignment] {key}: {rows[key]}", file=sys.stderr)
    recorded = [crop_and_resize(load_photo(p).pixels, recorded_crop(p), G.resolution) for p in sample_photos()]
    psnrs = {kind: psnr_after(G, from_uint8_hwc(np.stack(images), device), CONFIG, STEPS)
             for kind, images in {**targets, "recorded_crop": recorded}.items()}
    for i, key in enumerate(rows):
        rows[key]["psnr_aligned"] = round(psnrs["aligned"][i], 3)
        rows[key]["psnr_centred"] = round(psnrs["centred"][i], 3)
    for path, value in zip(sample_photos(), psnrs["recorded_crop"], strict=True):
        rows[f"{path.name}:original"]["psnr_recorded_crop"] = round(value, 3)
    mean = lambda k: round(statistics.fmean(r[k] for r in rows.values()), 3)  # noqa: E731
    return {"benchmark": "alignment", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model_id": G.model_id, "steps": STEPS, "config": CONFIG.to_dict(),
            "framing": framing.to_dict(), "variants": {k: {"degrees": d, "shift": list(s)}
                                                       for k, (d, s) in VARIANTS.items()},
            "results": rows,
            "summary": {"psnr_aligned_mean": mean("psnr_aligned"), "psnr_centred_mean": mean("psnr_centred"),
                        "align_ms_median": round(statistics.median(r["align_ms"] for r in rows.values()), 2)}}
