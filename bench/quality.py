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

from bench.common import machine_info, write_report
from bench.methods import METHOD_CONFIGS, _changes
from bench.portraits import portraits
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
VARIANTS: dict[str, dict[str, Any]] = {
    "pixel": {"loss_lpips": 0.0, "loss_identity": 0.0},
    "lpips": {"loss_lpips": 0.5, "loss_identity": 0.0},
    "lpips+identity": {"loss_lpips": 0.5, "loss_identity": IDENTITY_WEIGHT}}
# Cheaper candidates for a default within the time budget (``--variants``): the identity term alone, and LPIPS on
# AlexNet (a fraction of VGG's cost) with and without it.
EXTRA_VARIANTS: dict[str, dict[str, Any]] = {
    "identity": {"loss_lpips": 0.0, "loss_identity": IDENTITY_WEIGHT},
    "alex": {"loss_lpips": 0.5, "loss_lpips_net": "alex", "loss_identity": 0.0},
    "alex+identity": {"loss_lpips": 0.5, "loss_lpips_net": "alex", "loss_identity": IDENTITY_WEIGHT}}
ALL_VARIANTS = VARIANTS | EXTRA_VARIANTS
EDITS = ("smile", "age", "glasses")
AMOUNTS = (-2.0, 2.0)
FACE_SIDE = 256  # the face square the identity of a full-resolution photo is measured on
BUDGET_SECONDS = 20.0  # the editor's default must finish within this on the reference CPU
PSNR_SLACK_DB = 1.0  # a default may trade this much PSNR (beyond the noise) against the sharpest for likeness
Rows = dict[str, dict[str, list[dict[str, float]]]]  # method → variant → one row per target


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
    lpips, lpips_vgg = lpips_distance(image, target[None]), lpips_distance(image, target[None], net="vgg")
    identity = identity_distances(image, target[None], framing)
    nan = float("nan")
    return {"psnr": float(psnr(image, target[None])[0]), "lpips": nan if lpips is None else float(lpips[0]),
            "lpips_vgg": nan if lpips_vgg is None else float(lpips_vgg[0]),
            "identity": nan if identity is None else float(identity[0]), "seconds": seconds}


def _paired(a: list[dict[str, float]], b: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean per-target difference a − b and its standard error, per figure."""
    return {k: _stats([x[k] - y[k] for x, y in zip(a, b, strict=True)]) for k in a[0] if k in b[0]}


def run_methods(G: Generator, targets: torch.Tensor, methods: list[str], framing: Framing,
                args: argparse.Namespace) -> tuple[dict[str, Any], Rows]:
    """Every method under every chosen variant on ``targets`` [T, 3, R, R]: summaries with paired differences
    against "pixel", and the per-target rows (for paired comparisons between methods)."""
    variants = chosen_variants(args)
    out: dict[str, Any] = {}
    all_rows: Rows = {}
    for method in methods:
        base = METHOD_CONFIGS[method].with_changes(**_changes(args, method))
        rows = {name: [_row(G, base.with_changes(**ALL_VARIANTS[name]), t, framing) for t in targets]
                for name in variants}
        summary: dict[str, Any] = {name: {k: _stats([r[k] for r in rs]) for k in rs[0]} for name, rs in rows.items()}
        for name in variants:
            if name != "pixel" and "pixel" in rows:
                summary[f"{name}_minus_pixel"] = _paired(rows[name], rows["pixel"])
        out[method], all_rows[method] = summary, rows
        for name in variants:
            after = summary[name]
            print(f"  {method} {name}: identity {after['identity']['mean']}, LPIPS {after['lpips']['mean']}, "
                  f"{after['psnr']['mean']} dB, {after['seconds']['mean']} s", file=sys.stderr)
    return out, all_rows


def chosen_variants(args: argparse.Namespace) -> list[str]:
    """``--variants`` (default: the three of :data:`VARIANTS`), each checked against :data:`ALL_VARIANTS`."""
    names = [v for v in (getattr(args, "variants", "") or ",".join(VARIANTS)).split(",") if v]
    unknown = [v for v in names if v not in ALL_VARIANTS]
    if unknown or not names:
        raise SystemExit(f"error: unknown loss variant(s) {unknown}; choose from {', '.join(ALL_VARIANTS)}")
    return names


def choose_default(rows: Rows, budget: float = BUDGET_SECONDS) -> dict[str, Any]:
    """The method and loss variant with the best likeness on the real photos among those whose mean time is within
    ``budget`` seconds, with the paired difference of every other candidate against it.

    A loss term games the network it is built on: the identity term lowers the dlib distance while the image blurs
    (4 dB of PSNR on the photos), and LPIPS on AlexNet lowers AlexNet's LPIPS. So, in order: (1) a candidate
    whose PSNR is below the best candidate's by more than ``PSNR_SLACK_DB`` beyond two standard errors of their
    paired difference is out (the image no longer matches the photo); (2) the lowest mean identity distance wins,
    and every candidate whose paired difference from it is inside two standard errors ties with it; (3) among the
    tied, the lowest LPIPS on VGG (when measured; no in-budget candidate trains on it), else on AlexNet."""
    mean = statistics.fmean
    candidates = [(m, v) for m, variants in rows.items() for v, rs in variants.items()
                  if mean(r["seconds"] for r in rs) <= budget]
    if not candidates:
        return {"budget_seconds": budget, "chosen": None, "reason": "no method finished within the budget"}
    sharpest = max(candidates, key=lambda c: mean(r["psnr"] for r in rows[c[0]][c[1]]))
    faithful = [c for c in candidates if not _below(rows[c[0]][c[1]], rows[sharpest[0]][sharpest[1]], "psnr",
                                                    PSNR_SLACK_DB)]
    likest = min(faithful, key=lambda c: mean(r["identity"] for r in rows[c[0]][c[1]]))
    tied = [c for c in faithful if not _below(rows[likest[0]][likest[1]], rows[c[0]][c[1]], "identity", 0.0)]
    perceptual = "lpips_vgg" if all("lpips_vgg" in r for c in tied for r in rows[c[0]][c[1]]) else "lpips"
    method, variant = min(tied, key=lambda c: mean(r[perceptual] for r in rows[c[0]][c[1]]))
    best = rows[method][variant]
    others = {f"{m} {v}": _paired(rows[m][v], best) for m, v in candidates if (m, v) != (method, variant)}
    return {"budget_seconds": budget, "chosen": {"method": method, "variant": variant},
            "rule": f"within the budget; PSNR not below the best's by over {PSNR_SLACK_DB} dB beyond 2 SE; lowest "
                    f"identity distance, ties within 2 SE broken by the lowest {perceptual}",
            "tied_on_identity": [f"{m} {v}" for m, v in tied],
            "out_on_psnr": [f"{m} {v}" for m, v in candidates if (m, v) not in faithful],
            "others_minus_chosen": others}


def _below(a: list[dict[str, float]], b: list[dict[str, float]], key: str, slack: float) -> bool:
    """Whether ``a``'s ``key`` is below ``b``'s by more than ``slack`` beyond two standard errors of the paired
    difference (higher is better for the caller's reading: pass PSNR as is, identity as (best, other))."""
    differences = [x[key] - y[key] for x, y in zip(a, b, strict=True)]
    se = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0
    return statistics.fmean(differences) + 2 * se < -slack


def _face(placement: Placement, pixels: np.ndarray) -> np.ndarray:
    return placement.target(pixels, FACE_SIDE)


def run_edits(G: Generator, photo: Photo, placement: Placement, config: InversionConfig, framing: Framing,
              library: DirectionLibrary) -> dict[str, Any]:
    """One photo: the unedited composite's bytes, then each edit under both composites."""
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


def benchmark_photos(G: Generator, framing: Framing, samples_only: bool
                     ) -> tuple[list[tuple[str, Photo, Placement]], str | None]:
    """The bundled samples at their recorded face crops, then the extra public-domain portraits (see
    ``bench.portraits``) at the squares our face finder frames."""
    out = [(p.source.name if p.source else str(i), p, Placement.default_for(p))
           for i, p in enumerate(load_photo(path) for path in sample_photos())]
    if samples_only:
        return out, "extra portraits left out (--samples-only)"
    extra, note = portraits(framing, G.resolution)
    return out + [(e.photo.source.name if e.photo.source else "", e.photo, Placement.default_for(e.photo, e.crop))
                  for e in extra], note


def bench_quality(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    framing, library = framing_for(G), DirectionLibrary.load(shipped_library_dir(G.name))
    methods = args.configs.split(",") if args.configs else list(METHOD_CONFIGS)
    faces_n = args.faces or 12
    photos, note = benchmark_photos(G, framing, args.samples_only)
    squares = torch.cat([from_uint8_hwc(placement.target(photo.pixels, G.resolution), device)
                         for _, photo, placement in photos])
    out: dict[str, Any] = {"benchmark": "quality", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id,
                           "variants": {name: ALL_VARIANTS[name] for name in chosen_variants(args)},
                           "photos": [name for name, _, _ in photos], "photos_note": note}
    print(f"[photos: {len(photos)}]", file=sys.stderr)
    out["photos_results"], photo_rows = run_methods(G, squares, methods, framing, args)
    out["default"] = choose_default(photo_rows)
    write_report(out | {"partial": "photos only so far"}, "quality", args.out)  # a long run keeps what it has
    if not args.photos_only:
        print("[held_out_faces]", file=sys.stderr)
        results, _ = run_methods(G, held_out_faces(G, faces_n), methods, framing, args)
        out["held_out_faces"] = {"n": faces_n, "seed": HELD_OUT_SEED, "results": results}
        write_report(out | {"partial": "no edits yet"}, "quality", args.out)
    if args.no_edits:
        return out
    chosen = out["default"]["chosen"] or {"method": "pivotal", "variant": "lpips+identity"}
    editor = METHOD_CONFIGS[chosen["method"]].with_changes(**ALL_VARIANTS[chosen["variant"]],
                                                          **_changes(args, chosen["method"]))
    print("[edits]", file=sys.stderr)
    per_photo = {name: run_edits(G, photo, placement, editor, framing, library) for name, photo, placement in photos}
    out["edits"] = {"config": editor.to_dict(), "per_photo": per_photo, "summary": _edit_summary(per_photo)}
    return out


def _edit_summary(per_photo: dict[str, Any]) -> dict[str, Any]:
    """Over all photos and edits, per composite: identity (mean ± SE, worst) and detail kept (mean ± SE, least)."""
    out: dict[str, Any] = {}
    for mode in ("detail", "replace"):
        rows = [row[mode] for photo in per_photo.values() for row in photo["edits"].values()]
        identity, kept = [r["identity"] for r in rows], [r["detail_kept"] for r in rows]
        out[mode] = {"identity": _stats(identity) | {"max": max(identity)},
                     "detail_kept": _stats(kept) | {"min": min(kept)}}
    out["unedited_detail_is_the_photo"] = all(p["unedited_detail_is_the_photo"] for p in per_photo.values())
    return out
