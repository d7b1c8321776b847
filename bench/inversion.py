"""``python -m bench inversion``: which direct-inversion setting is the default.

Measures PSNR after each step budget for several direct-inversion settings on held-out generated faces and on
the bundled sample photos (a separate run per budget, since schedules depend on the budget), picks the setting
with the best mean PSNR over the budgets, and times one optimiser step at batch 1 and 8.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import torch

from bench.common import BASE, budgets_from, machine_info, psnr_after, sample_targets
from core.device import pick_device
from core.evaluation import HELD_OUT_SEED, held_out_faces
from core.generators import Generator, load_generator
from core.inversion import InversionConfig, invert
from core.jobs import run_job

BUDGETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
CANDIDATES = {
    "adam_lr0.1": BASE.with_changes(lr=0.1),
    "adam_lr0.2": BASE.with_changes(lr=0.2),
    "adam_lr0.3": BASE.with_changes(lr=0.3),
    "adam_lr0.2_rampdown": BASE.with_changes(lr=0.2, schedule="rampdown"),
    "adam_lr0.1_rampdown_noise0.05": BASE.with_changes(lr=0.1, schedule="rampdown", noise=0.05),
    "adam_lr0.2_noise0.05": BASE.with_changes(lr=0.2, noise=0.05),
    "gd10_then_adam_lr0.2": BASE.with_changes(lr=0.2, warmup_steps=10),
    "gd20_then_adam_lr0.2": BASE.with_changes(lr=0.2, warmup_steps=20),
}


def sweep(G: Generator, targets: torch.Tensor, budgets: tuple[int, ...], configs: dict[str, InversionConfig],
          label: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, config in configs.items():
        began = time.perf_counter()
        per_budget = {str(b): psnr_after(G, targets, config, b) for b in budgets}
        out[name] = {"config": config.to_dict(),
                     "psnr_mean": {b: round(statistics.fmean(v), 3) for b, v in per_budget.items()},
                     "psnr_median": {b: round(statistics.median(v), 3) for b, v in per_budget.items()},
                     "psnr_per_target": {b: [round(x, 3) for x in v] for b, v in per_budget.items()},
                     "seconds": round(time.perf_counter() - began, 2)}
        print(f"[{label}] {name}: {out[name]['psnr_mean']}", file=sys.stderr)
    return out


def step_time_ms(G: Generator, batch: int, steps: int = 30, repeats: int = 5) -> float:
    """Median wall time of one inversion step (forward, backward, Adam) at ``batch`` starts."""
    target = G.sample(1, HELD_OUT_SEED)
    times = []
    for _ in range(repeats):
        job = invert(G, target, BASE.with_changes(steps=steps, starts=batch))
        began = time.perf_counter()
        run_job(job)
        times.append((time.perf_counter() - began) / steps * 1000)
    return round(statistics.median(times), 3)


def bench_inversion(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    budgets = budgets_from(args, BUDGETS)
    args.faces = args.faces or 32
    configs = {k: v for k, v in CANDIDATES.items() if not args.configs or k in args.configs.split(",")}
    faces = held_out_faces(G, args.faces)
    face_sweep = sweep(G, faces, budgets, configs, "faces")
    names, photos = sample_targets(G)
    photo_sweep = sweep(G, photos, budgets, configs, "photos")
    return {"benchmark": "inversion", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model_id": G.model_id, "budgets": list(budgets),
            "held_out_faces": {"n": args.faces, "seed": HELD_OUT_SEED, "results": face_sweep},
            "sample_photos": {"photos": names, "results": photo_sweep},
            **pick_default(face_sweep, photo_sweep),
            "step_time_ms": {f"batch_{b}": step_time_ms(G, b, repeats=args.repeats) for b in (1, 8)}}


def pick_default(faces: dict[str, Any], photos: dict[str, Any]) -> dict[str, Any]:
    """The setting with the highest mean PSNR over every budget, generated faces and real photos weighing
    the same (real photos are what people invert; generated faces are where the optimum is reachable)."""
    def mean(sweep: dict[str, Any], name: str) -> float:
        return statistics.fmean(sweep[name]["psnr_mean"].values())

    def best(sweep: dict[str, Any], budget: str) -> str:
        return max(sweep, key=lambda name: sweep[name]["psnr_mean"][budget])

    score = {name: (mean(faces, name) + mean(photos, name)) / 2 for name in faces}
    budgets = next(iter(faces.values()))["psnr_mean"]
    return {"best_per_budget_faces": {b: best(faces, b) for b in budgets},
            "best_per_budget_photos": {b: best(photos, b) for b in budgets},
            "score_mean_psnr_faces_and_photos": {k: round(v, 3) for k, v in score.items()},
            "best_overall": max(score, key=score.__getitem__)}
