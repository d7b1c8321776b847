"""``python -m bench likeness``: the FFHQ model against the embedded DCGAN on every real photo we have.

For each photo (the bundled samples and the public-domain portraits of ``bench quality``), each model aligns the
face to its own measured framing (as the editor does on opening a photo) and inverts the square with each setting
below. The result is compared with the photo's square **at 256 px** — the DCGAN's 64-px result upscaled
(Lanczos), FFHQ's at its working resolution — by PSNR, LPIPS (AlexNet and VGG) and the dlib identity distance
(same person below 0.6), with the seconds the run took. Since the identity term optimises that same network,
``identity_unseen`` reads it where the term never looked: the mean over both images mirrored and both cropped 8
and 16 px off the top-left corner and scaled back (dlib's chip then falls elsewhere on the face). Each FFHQ
setting is paired with the DCGAN's default on the same photos: mean difference ± its standard error (n − 1).

Settings: ``dcgan:default`` is the editor's default (pivotal, 100 steps, LPIPS 0.5 on AlexNet); the FFHQ ones fit
a minute here (a 256-px step costs ≈ 0.5 s on this CPU, ``bench ffhq``). Needs the FFHQ model installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from bench.common import machine_info
from bench.quality import _paired, _stats, benchmark_photos
from core.alignment import framing_for
from core.device import from_uint8_hwc, pick_device
from core.errors import NoFaceFoundError
from core.generators import load_generator
from core.generators.ffhq_install import FFHQ_MODEL
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.metrics import identity_distances, lpips_distance, psnr
from core.photo_jobs.placing import placement_for

SIDE = 256  # the side every result is compared at
ALEX = {"loss_lpips": 0.5, "loss_lpips_net": "alex"}
SETTINGS: dict[str, tuple[str, InversionConfig]] = {
    "dcgan:default": ("default", InversionConfig(method="pivotal", steps=100).with_changes(**ALEX)),
    "ffhq:direct-40": (FFHQ_MODEL, InversionConfig(method="direct", steps=40).with_changes(**ALEX)),
    "ffhq:pivotal-30+20": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=30).with_changes(
        pivot="direct", tune_steps=20, **ALEX)),
    # the editor's FFHQ default until 2026-12-05, within a minute: without the locality term a tuning step renders
    # only the pivot
    "ffhq:pivotal-20+10-fast": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=20).with_changes(
        pivot="direct", tune_steps=10, tune_locality=0.0, **ALEX)),
    # the same with the identity term (dlib's embedding distance, the network the identity column reads: LPIPS-VGG
    # and PSNR are the columns it does not optimise); 0.1 is the editor's FFHQ default since 2026-12-05
    "ffhq:pivotal-20+10-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=20).with_changes(
        pivot="direct", tune_steps=10, tune_locality=0.0, loss_identity=0.1, **ALEX)),
    "ffhq:pivotal-20+10-id0.3": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=20).with_changes(
        pivot="direct", tune_steps=10, tune_locality=0.0, loss_identity=0.3, **ALEX)),
    # since the heap settings of core.allocator (2026-12-06) a step costs ≈ 0.5 s: what the minute now buys
    "ffhq:pivotal-40+20-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=40).with_changes(
        pivot="direct", tune_steps=20, tune_locality=0.0, loss_identity=0.1, **ALEX)),
    "ffhq:pivotal-50+25-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=50).with_changes(
        pivot="direct", tune_steps=25, tune_locality=0.0, loss_identity=0.1, **ALEX)),
    "ffhq:pivotal-60+30-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=60).with_changes(
        pivot="direct", tune_steps=30, tune_locality=0.0, loss_identity=0.1, **ALEX)),
    # the pivot's first steps on the coarse image (core/generators/coarse_head.py: ≈ 0.15 s a step instead of 0.5)
    "ffhq:pivotal-30c+20+25-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=50, coarse_steps=30)
                                     .with_changes(pivot="direct", tune_steps=25, tune_locality=0.0, loss_identity=0.1,
                                                   **ALEX)),
    "ffhq:pivotal-50c+30+25-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=80, coarse_steps=50)
                                     .with_changes(pivot="direct", tune_steps=25, tune_locality=0.0, loss_identity=0.1,
                                                   **ALEX)),
    "ffhq:pivotal-60c+30+30-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=90, coarse_steps=60)
                                     .with_changes(pivot="direct", tune_steps=30, tune_locality=0.0, loss_identity=0.1,
                                                   **ALEX)),
    "ffhq:pivotal-50c+40+25-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=90, coarse_steps=50)
                                     .with_changes(pivot="direct", tune_steps=25, tune_locality=0.0, loss_identity=0.1,
                                                   **ALEX)),
    "ffhq:pivotal-30+20-locality-id0.1": (FFHQ_MODEL, InversionConfig(method="pivotal", steps=30).with_changes(
        pivot="direct", tune_steps=20, loss_identity=0.1, **ALEX)),
}
REFERENCE = "dcgan:default"


def _at_side(image: np.ndarray) -> np.ndarray:
    if image.shape[0] == SIDE:
        return image
    return np.asarray(Image.fromarray(image).resize((SIDE, SIDE), Image.Resampling.LANCZOS))


def _rows(model: str, config: InversionConfig, samples_only: bool, device: torch.device) -> list[dict[str, Any]]:
    G = load_generator(model, device)
    framing = framing_for(G)
    photos, _note = benchmark_photos(G, framing, samples_only)
    rows = []
    for name, photo, given in photos:
        try:  # each model frames the face its own way, as the editor does after opening a photo
            placement = placement_for(photo, G, align=True)
        except NoFaceFoundError:
            placement = given
        target = from_uint8_hwc(placement.target(photo.pixels, G.resolution), device)
        began = time.perf_counter()
        result = run_job(invert(G, target, config))
        seconds = time.perf_counter() - began
        image = from_uint8_hwc(_at_side(result.images[0]), device)
        square = from_uint8_hwc(placement.target(photo.pixels, SIDE), device)
        lpips, vgg = lpips_distance(image, square), lpips_distance(image, square, net="vgg")
        identity = identity_distances(image, square, framing)
        unseen = _unseen_identity(image, square, framing)
        nan = float("nan")
        rows.append({"photo": name, "psnr": float(psnr(image, square)[0]),
                     "lpips": nan if lpips is None else float(lpips[0]),
                     "lpips_vgg": nan if vgg is None else float(vgg[0]),
                     "identity": nan if identity is None else float(identity[0]),
                     "identity_unseen": nan if unseen is None else unseen, "seconds": seconds})
        print(f"  {model} {name}: {rows[-1]}", file=sys.stderr)
    return rows


def _cropped(x: torch.Tensor, pixels: int) -> torch.Tensor:
    return F.interpolate(x[:, :, pixels:, pixels:], size=x.shape[-1], mode="bilinear", align_corners=False)


def _unseen_identity(image: torch.Tensor, square: torch.Tensor, framing: Any) -> float | None:
    """The identity distance read three ways the identity loss never reads it (mirrored; cropped 8 and 16 px)."""
    views = [(image.flip(-1), square.flip(-1)), (_cropped(image, 8), _cropped(square, 8)),
             (_cropped(image, 16), _cropped(square, 16))]
    readings = [identity_distances(a, b, framing) for a, b in views]
    if any(r is None for r in readings):
        return None
    return float(np.mean([float(r[0]) for r in readings if r is not None]))


def bench_likeness(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    names = args.configs.split(",") if args.configs else list(SETTINGS)
    names = [REFERENCE, *[n for n in names if n != REFERENCE]]
    per_setting = {}
    for name in names:
        print(f"[{name}]", file=sys.stderr)
        model, config = SETTINGS[name]
        per_setting[name] = _rows(model, config, args.samples_only, device)
    figures = ("psnr", "lpips", "lpips_vgg", "identity", "identity_unseen", "seconds")
    results = {name: {"config": SETTINGS[name][1].to_dict(), "model": SETTINGS[name][0],
                      **{k: _stats([r[k] for r in rows]) for k in figures},
                      "per_photo": rows} for name, rows in per_setting.items()}
    paired = {name: _paired([{k: r[k] for k in figures} for r in rows],
                            [{k: r[k] for k in figures} for r in per_setting[REFERENCE]])
              for name, rows in per_setting.items() if name != REFERENCE}
    return {"benchmark": "likeness", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "side": SIDE, "reference": REFERENCE, "results": results,
            "paired_vs_reference": paired}
