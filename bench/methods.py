"""``python -m bench methods``: the five inversion methods side by side, on real photos and generated faces.

For each method, each target is inverted on its own (batch 1, as a person inverts a photo) with the product's
defaults for that method (pixel + LPIPS, falling back to pixel loss only where the shipped LPIPS weights are
damaged, which the report records). Figures per method: PSNR, the final loss, seconds, and edit survival: for a shipped
direction d at strength α, the change G'(x + α·σ·d) − G'(x) the edit makes on the generator the result uses (the
tuned copy for "pivotal") compared with the change G(x + α·σ·d) − G(x) on the original model: the cosine between
the two change images and the ratio of their norms (1 and 1: the edit behaves exactly as on the original). The
encoder's own forward time at batch 1 is timed separately (median of 200 passes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any, TypedDict

import numpy as np
import torch

from bench.common import machine_info, sample_targets
from core.device import from_uint8_hwc, pick_device
from core.directions import DirectionLibrary, apply_directions, shipped_library_dir
from core.errors import ModelLoadError
from core.evaluation import HELD_OUT_SEED, held_out_faces
from core.generators import Generator, load_generator
from core.generators.tuning import tuned_copy
from core.inversion import InversionConfig, invert
from core.inversion.encoder import find_encoder
from core.jobs import run_job
from core.metrics import psnr

METHOD_CONFIGS = {  # the product's defaults per method; the steps are what the GUI offers first
    "direct": InversionConfig(method="direct", steps=300),
    "landscape": InversionConfig(method="landscape", steps=300),
    "encoder": InversionConfig(method="encoder"),
    "hybrid": InversionConfig(method="hybrid", steps=100),
    "pivotal": InversionConfig(method="pivotal", steps=100),
}
EDITS = (("smile", 2.0), ("age", 2.0))


def edit_survival(G: Generator, tuned: Generator, latent: np.ndarray, library: DirectionLibrary) -> dict[str, float]:
    """Mean cosine and norm ratio of the edit's change image on ``tuned`` vs on ``G`` over :data:`EDITS`."""
    cosines, ratios = [], []
    with torch.no_grad():
        for name, amount in EDITS:
            edited = apply_directions(latent, [(library.get(name), amount)])
            codes = torch.from_numpy(np.stack([latent, edited]).astype(np.float32)).to(G.device)
            before, after = G.synthesize(codes), tuned.synthesize(codes)
            change, tuned_change = (before[1] - before[0]).flatten(), (after[1] - after[0]).flatten()
            cosines.append(float(torch.nn.functional.cosine_similarity(change, tuned_change, dim=0)))
            ratios.append(float(tuned_change.norm() / change.norm().clamp_min(1e-12)))
    return {"cosine": round(statistics.fmean(cosines), 4), "norm_ratio": round(statistics.fmean(ratios), 4)}


class TargetRow(TypedDict):
    """One target's figures in ``run_method``."""

    psnr: float
    loss: float
    seconds: float
    edit: dict[str, float]
    warnings: list[str]
    uses_lpips: bool
    tuning_steps: Any


def run_method(G: Generator, name: str, config: InversionConfig, targets: torch.Tensor,
               library: DirectionLibrary) -> dict[str, Any]:
    rows: list[TargetRow] = []
    for target in targets:
        began = time.perf_counter()
        result = run_job(invert(G, target[None], config))
        seconds = time.perf_counter() - began
        tuned = tuned_copy(G, result.tuning) if result.tuning is not None else G
        survival = edit_survival(G, tuned, result.best_latent, library)
        rows.append({"psnr": float(psnr(from_uint8_hwc(result.images[:1], G.device), target[None])[0]),
                     "loss": float(result.losses.min()), "seconds": seconds, "edit": survival,
                     "warnings": result.warnings, "uses_lpips": result.uses_lpips,
                     "tuning_steps": None if result.tuning is None else result.tuning.info.get("steps")})
        del tuned
    out = {"config": config.to_dict(), "psnr_per_target": [round(r["psnr"], 3) for r in rows],
           "psnr_mean": round(statistics.fmean(r["psnr"] for r in rows), 3),
           "loss_mean": round(statistics.fmean(r["loss"] for r in rows), 6),
           "seconds_per_target": [round(r["seconds"], 3) for r in rows],
           "seconds_mean": round(statistics.fmean(r["seconds"] for r in rows), 3),
           "edit_cosine_mean": round(statistics.fmean(r["edit"]["cosine"] for r in rows), 4),
           "edit_norm_ratio_mean": round(statistics.fmean(r["edit"]["norm_ratio"] for r in rows), 4),
           "uses_lpips": rows[0]["uses_lpips"], "warnings": sorted({w for r in rows for w in r["warnings"]})}
    if name == "pivotal":
        out["tuning_steps"] = [r["tuning_steps"] for r in rows]
    print(f"  {name}: {out['psnr_mean']} dB, {out['seconds_mean']} s, edit cosine {out['edit_cosine_mean']}",
          file=sys.stderr)
    return out


def encoder_time_ms(G: Generator, repeats: int = 200) -> float | None:
    """Median time of one encoder pass at batch 1 (the "encoder" method's own cost), or None without one."""
    try:
        encoder, _ = find_encoder(G)
    except ModelLoadError:  # no encoder: the figure is simply absent
        return None
    image = G.sample(1, HELD_OUT_SEED)
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            began = time.perf_counter()
            encoder(image)
            times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 3)


def bench_methods(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    library = DirectionLibrary.load(shipped_library_dir(G.name))
    chosen = args.configs.split(",") if args.configs else list(METHOD_CONFIGS)
    faces_n = args.faces or 16
    names, photos = sample_targets(G)
    faces = held_out_faces(G, faces_n)
    out: dict[str, Any] = {"benchmark": "methods", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "edits": [list(e) for e in EDITS],
                           "encoder_ms_batch1": encoder_time_ms(G), "targets": {"pivotal_psnr_db": 30.0,
                                                                              "pivotal_seconds": 20.0,
                                                                              "encoder_ms": 20.0}}
    for label, targets, extra in (("sample_photos", photos, {"photos": names}),
                                  ("held_out_faces", faces, {"n": faces_n, "seed": HELD_OUT_SEED})):
        print(f"[{label}]", file=sys.stderr)
        results = {m: run_method(G, m, METHOD_CONFIGS[m].with_changes(**_changes(args, m)), targets, library)
                   for m in chosen}
        out[label] = {**extra, "results": results}
    return out


def _changes(args: argparse.Namespace, method: str) -> dict[str, int]:
    """``--budgets`` replaces the steps and ``--tune-steps`` the pivotal tuning steps (quick runs, tests)."""
    changes = {"steps": int(args.budgets)} if args.budgets else {}
    return changes | ({"tune_steps": args.tune_steps} if args.tune_steps is not None else {})
