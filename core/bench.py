"""Benchmarks (not tests): ``python -m core.bench NAME`` writes JSON figures into ``bench/results/``.

    python -m core.bench inversion [--faces 32] [--budgets 1,2,5,...] [--out FILE]
    python -m core.bench landscape [--faces 64] [--theta DIR] [--out FILE]

``inversion`` measures PSNR after each step budget for several direct-inversion settings on held-out generated
faces and on the bundled sample photos (a separate run per budget, since schedules depend on the budget), picks
the setting with the best mean PSNR over the budgets, and times one optimiser step at batch 1 and 8.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from core import __version__
from core.device import from_uint8_hwc, pick_device
from core.evaluation import HELD_OUT_SEED, held_out_faces
from core.generators import Generator, load_generator
from core.imageio import CropBox, crop_and_resize, load_photo
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.metrics import psnr
from core.resources import sample_face_crop, sample_photos

BUDGETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
BASE = InversionConfig(preview_every=10_000, warmup_steps=0).with_changes(loss_lpips=0.0)  # pixel loss, plain Adam
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


def machine_info(device: torch.device) -> dict[str, Any]:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": str(device), "python": platform.python_version(), "landscape_studio": __version__}


def sample_targets(G: Generator) -> tuple[list[str], torch.Tensor]:
    """The bundled photos cropped to their recorded face boxes: names and [P, 3, R, R]."""
    names, targets = [], []
    for path in sample_photos():
        photo = load_photo(path)
        crop = sample_face_crop(path)
        box = CropBox.from_dict(crop) if crop else CropBox.centered(photo.width, photo.height)
        names.append(path.name)
        targets.append(from_uint8_hwc(crop_and_resize(photo.pixels, box, G.resolution), G.device))
    return names, torch.cat(targets)


def psnr_after(G: Generator, targets: torch.Tensor, config: InversionConfig, steps: int) -> list[float]:
    """PSNR (dB) of each target's result after ``steps`` updates, one start per target, all in one batch."""
    result = run_job(invert(G, targets, config.with_changes(steps=steps, starts=len(targets))))
    return [float(v) for v in psnr(from_uint8_hwc(result.images, G.device), targets)]


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


def _budgets(args: argparse.Namespace, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(b) for b in args.budgets.split(",")) if args.budgets else default


def bench_inversion(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    budgets = _budgets(args, BUDGETS)
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

    score = {name: (mean(faces, name) + mean(photos, name)) / 2 for name in faces}
    budgets = next(iter(faces.values()))["psnr_mean"]
    return {"best_per_budget_faces": {b: max(faces, key=lambda k, b=b: faces[k]["psnr_mean"][b]) for b in budgets},
            "best_per_budget_photos": {b: max(photos, key=lambda k, b=b: photos[k]["psnr_mean"][b]) for b in budgets},
            "score_mean_psnr_faces_and_photos": {k: round(v, 3) for k, v in score.items()},
            "best_overall": max(score, key=score.get)}


LANDSCAPE_BUDGETS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500)


def steps_to_reach(curve: dict[str, float], level: float) -> int | None:
    """The smallest budget whose mean PSNR reaches ``level`` (None when none does)."""
    reached = [int(b) for b, v in curve.items() if v >= level]
    return min(reached) if reached else None


def bench_landscape(args: argparse.Namespace) -> dict[str, Any]:
    """direct (Adam lr 0.2; 10 plain descent steps then Adam) against landscape descent through θ."""
    from core.landscape.gate import identity_like, landscape_psnr
    from core.landscape.mapping import load_mapping
    from core.landscape.registry import shipped_mapping_dir

    device = pick_device(args.device)
    G = load_generator(args.model, device)
    folder = Path(args.theta) if args.theta else shipped_mapping_dir(G)
    theta, meta = load_mapping(folder)
    theta = theta.to(device).requires_grad_(False)
    budgets = _budgets(args, LANDSCAPE_BUDGETS)
    faces = held_out_faces(G, args.faces or 64)
    names, photos = sample_targets(G)
    plain = identity_like(theta, theta.config.step)
    out: dict[str, Any] = {"benchmark": "landscape", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "theta": str(folder),
                           "theta_ready": meta.get("ready"), "theta_step_size": round(float(theta.step_size), 4),
                           "budgets": list(budgets)}
    for label, targets in (("held_out_faces", faces), ("sample_photos", photos)):
        methods = {
            "direct_adam_lr0.2": {str(b): statistics.fmean(psnr_after(G, targets, BASE, b)) for b in budgets},
            "direct_gd10_then_adam": {str(b): statistics.fmean(landscape_psnr(G, plain, targets, b)) for b in budgets},
            "landscape": {str(b): statistics.fmean(landscape_psnr(G, theta, targets, b)) for b in budgets},
        }
        methods = {k: {b: round(v, 3) for b, v in curve.items()} for k, curve in methods.items()}
        direct = methods["direct_adam_lr0.2"]
        reach = {f"direct@{b}": steps_to_reach(methods["landscape"], direct[b]) for b in ("100", "500") if b in direct}
        out[label] = {"n": len(targets), "psnr_mean": methods, "landscape_steps_to_reach_direct": reach}
        print(f"[{label}] {methods}", file=sys.stderr)
    out["photos"] = names
    return out


BENCHMARKS = {"inversion": bench_inversion, "landscape": bench_landscape}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--faces", type=int, help="held-out generated faces (inversion: 32, landscape: 64)")
    parser.add_argument("--budgets", help="step budgets, comma-separated (default: the benchmark's own)")
    parser.add_argument("--configs", default="", help="subset of settings to run, comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (the median is reported)")
    parser.add_argument("--theta", help="θ folder for the landscape benchmark (default: the shipped θ)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/NAME.json)")
    args = parser.parse_args(argv)
    report = BENCHMARKS[args.name](args)
    out = args.out or RESULTS / f"{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
