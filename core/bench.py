"""Benchmarks (not tests): ``python -m core.bench NAME`` writes JSON figures into ``bench/results/``.

    python -m core.bench inversion [--faces 32] [--budgets 1,2,5,...] [--out FILE]
    python -m core.bench landscape [--faces 64] [--theta DIR] [--out FILE]
    python -m core.bench inpainting [--faces 16] [--priors 0,0.001,0.003,0.01,0.03,0.1] [--repeats 5] [--out FILE]
    python -m core.bench slice [--repeats 3] [--device cpu] [--out FILE]
    python -m core.bench methods [--faces 16] [--configs direct,hybrid,...] [--budgets STEPS] [--tune-steps N]
    python -m core.bench stylegan2 [--resolutions 64,256,1024] [--repeats 5] [--device cpu] [--tiny]
    python -m core.bench alignment [--repeats 5] [--model default]

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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
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
    """direct (Adam lr 0.2; 10 plain descent steps then Adam) against landscape descent through θ, and, when θ
    descends its own way (keep-radius, hand-over Adam), the identity mapping with that same descent (the gate's
    baseline)."""
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
    plain = identity_like(theta, theta.config.step, same_descent=False)  # = the direct method's default
    gated = identity_like(theta, theta.config.step)  # the gate's baseline: θ's own descent recipe, no mapping
    same_recipe = gated.config == plain.config
    out: dict[str, Any] = {"benchmark": "landscape", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "theta": str(folder),
                           "theta_ready": meta.get("ready"), "theta_step_size": round(float(theta.step_size), 4),
                           "budgets": list(budgets)}
    for label, targets in (("held_out_faces", faces), ("sample_photos", photos)):
        methods = {
            "direct_adam_lr0.2": {str(b): statistics.fmean(psnr_after(G, targets, BASE, b)) for b in budgets},
            "direct_gd10_then_adam": {str(b): statistics.fmean(landscape_psnr(G, plain, targets, b)) for b in budgets},
            **({} if same_recipe else {"identity_same_descent": {
                str(b): statistics.fmean(landscape_psnr(G, gated, targets, b)) for b in budgets}}),
            "landscape": {str(b): statistics.fmean(landscape_psnr(G, theta, targets, b)) for b in budgets},
        }
        methods = {k: {b: round(v, 3) for b, v in curve.items()} for k, curve in methods.items()}
        direct = methods["direct_adam_lr0.2"]
        reach = {f"direct@{b}": steps_to_reach(methods["landscape"], direct[b]) for b in ("100", "500") if b in direct}
        out[label] = {"n": len(targets), "psnr_mean": methods, "landscape_steps_to_reach_direct": reach}
        print(f"[{label}] {methods}", file=sys.stderr)
    out["photos"] = names
    return out


INPAINT_BOX = (20, 44)  # the fixed centre-box mask of the inpainting benchmark: rows and columns 20…43 of 64
RESTORE_BUDGETS = (100, 300)


def _stats(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 3), "median": round(statistics.median(values), 3)}


def inpaint_quality(G: Generator, faces: torch.Tensor, mask: torch.Tensor, prior: float) -> dict[str, Any]:
    """Masked-region PSNR of the best-fitting candidate (and of the best of all, an oracle), a blur fill's, and
    the diversity, over ``faces`` with the default inpainting settings but ``prior``."""
    from core.inpainting.diverse import InpaintConfig, blur_fill, inpaint

    region = mask[None, None]
    rows: dict[str, list[float]] = {"best_fit": [], "oracle": [], "blur_fill": [], "diversity": [], "seconds": []}
    for face in faces:
        target = face[None]
        result = run_job(inpaint(G, target, mask, InpaintConfig(prior=prior, preview_every=10_000)))
        per_candidate = psnr(from_uint8_hwc(result.candidates, G.device), target.expand(len(result.candidates),
                                                                                        -1, -1, -1), region)
        rows["best_fit"].append(float(per_candidate[0]))
        rows["oracle"].append(float(per_candidate.max()))
        rows["blur_fill"].append(float(psnr(blur_fill(target, mask), target, region)))
        rows["diversity"].append(result.diversity)
        rows["seconds"].append(result.timings["total"])
    out = {k: _stats(v) for k, v in rows.items()}
    out["masked_psnr_best_fit_per_face"] = [round(v, 3) for v in rows["best_fit"]]
    out["diversity_metric"] = result.diversity_metric
    print(f"[inpainting] prior {prior}: {out['best_fit']} (blur {out['blur_fill']}, diversity {out['diversity']})",
          file=sys.stderr)
    return out


def restore_quality(G: Generator, faces: torch.Tensor, operator: str, budgets: tuple[int, ...]) -> dict[str, Any]:
    """PSNR against the truth after each budget with the restoration defaults (as ``restore`` runs: one job per
    face, its best start kept), with one start and no prior (all faces in one batch), and the baseline's:
    bicubic upsampling of the low-res observation, or the grey image itself."""
    import torch.nn.functional as F

    from core.inversion import restoration_config
    from core.objectives.operators import parse_operator

    op = parse_operator(operator)
    observed = op(faces)
    baseline = observed if op.scale == 1 else F.interpolate(observed, size=G.resolution, mode="bicubic",
                                                            align_corners=False).clamp(-1, 1)
    ours: dict[str, Any] = {}
    for steps in budgets:
        config = restoration_config(operator, steps=steps, preview_every=10_000)
        best = [run_job(invert(G, face[None], config)).best_image for face in faces]
        ours[str(steps)] = _stats([float(v) for v in psnr(from_uint8_hwc(np.stack(best), G.device), faces)])
    plain = restoration_config(operator, starts=len(faces), preview_every=10_000, loss_prior=0.0)
    one_start = {str(b): _stats(psnr_after(G, faces, plain, b)) for b in budgets}
    theirs = _stats([float(v) for v in psnr(baseline, faces)])
    name = "bicubic" if op.scale > 1 else "grey"
    print(f"[{operator}] ours {ours}, one start without prior {one_start}, {name} {theirs}", file=sys.stderr)
    return {"psnr": ours, "settings": restoration_config(operator).to_dict(), "psnr_one_start_no_prior": one_start,
            "baseline": name, "baseline_psnr": theirs}


def inpaint_time_s(G: Generator, repeats: int, candidates: int = 8, steps: int = 100) -> float:
    """Median wall time of one whole inpainting job (K candidates in one batch), after a warm-up run."""
    from core.inpainting.diverse import InpaintConfig, inpaint

    target, mask = G.sample(1, HELD_OUT_SEED), torch.zeros(G.resolution, G.resolution)
    mask[INPAINT_BOX[0]:INPAINT_BOX[1], INPAINT_BOX[0]:INPAINT_BOX[1]] = 1
    config = InpaintConfig(candidates=candidates, steps=steps)
    run_job(inpaint(G, target, mask, replace(config, steps=5)))  # one-time set-up costs stay out of the figure
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run_job(inpaint(G, target, mask, config))
        times.append(time.perf_counter() - began)
    return round(statistics.median(times), 3)


def bench_inpainting(args: argparse.Namespace) -> dict[str, Any]:
    from core.inpainting.diverse import DEFAULT_PRIOR, InpaintConfig

    device = pick_device(args.device)
    G = load_generator(args.model, device)
    faces = held_out_faces(G, args.faces or 16)
    mask = torch.zeros(G.resolution, G.resolution, device=device)
    mask[INPAINT_BOX[0]:INPAINT_BOX[1], INPAINT_BOX[0]:INPAINT_BOX[1]] = 1
    seconds = inpaint_time_s(G, args.repeats)
    priors = [float(p) for p in (args.priors or "0,0.001,0.003,0.01,0.03,0.1").split(",")]
    sweep = {str(p): inpaint_quality(G, faces, mask, p) for p in priors}
    best_prior = max(sweep, key=lambda p: sweep[p]["best_fit"]["mean"])
    restore = {op: restore_quality(G, faces, op, RESTORE_BUDGETS) for op in ("downsample4", "grayscale")}
    first, end = INPAINT_BOX
    masked = f"centre box, rows and columns {first}…{end - 1} of {G.resolution} ({float(mask.mean()):.1%})"
    return {"benchmark": "inpainting", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model_id": G.model_id,
            "held_out_faces": {"n": len(faces), "seed": HELD_OUT_SEED},
            "settings": InpaintConfig().to_dict(), "mask": masked,
            "time_8_candidates_100_steps_s": seconds, "time_target_s": 10.0,
            "inpainting_by_prior": sweep, "best_prior_by_masked_psnr": float(best_prior),
            "default_prior": DEFAULT_PRIOR,
            "masked_psnr_note": "PSNR (dB) inside the mask against the true face; best_fit = the candidate ranked "
                                "first by its fit to the known pixels, oracle = the best of the 8 (needs the truth)",
            "restoration": restore, "restoration_budgets": list(RESTORE_BUDGETS)}


def bench_slice(args: argparse.Namespace) -> dict[str, Any]:
    """A 65×65 slice around an inverted generated face, in x and in z (shipped θ), for the default objective
    (pixel + LPIPS) and for pixel loss only; seconds are the median of ``--repeats`` (at most 3) runs."""
    from core.landscape.registry import find_mapping
    from core.landscape.slicing import SliceConfig, landscape_trajectory, latent_trajectory, slice_for_photo

    device = pick_device(args.device)
    G = load_generator(args.model, device)
    target = G.sample(1, HELD_OUT_SEED)
    theta, _ = find_mapping(G)
    out: dict[str, Any] = {"benchmark": "slice", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "grid": 65, "target_seconds": 10}
    from core.errors import PerceptualUnavailableError
    from core.objectives.perceptual import perceptual_loss

    try:
        perceptual_loss("vgg", device)
        out["uses_lpips"] = True
    except PerceptualUnavailableError:
        out["uses_lpips"] = False  # "total" is then the pixel loss alone (the objective's visible fallback)
    for label, lpips in (("total", 0.5), ("pixel_only", 0.0))[:2 if out["uses_lpips"] else 1]:
        for space in ("x", "z"):
            config = InversionConfig(method="landscape" if space == "z" else "direct", steps=50,
                                     preview_every=10_000).with_changes(loss_lpips=lpips)
            steps: list[Any] = []
            result = run_job(invert(G, target, config), steps.append)
            path = landscape_trajectory(steps) if space == "z" else np.concatenate(
                [latent_trajectory(steps), result.best_latent[None]])
            seconds, uses = [], None
            for _ in range(max(1, min(args.repeats, 3))):
                s = run_job(slice_for_photo(G, target, None, config, SliceConfig(space=space), path, theta=theta))
                seconds.append(s.seconds)
                uses = s
            assert uses is not None
            out[f"{label}_{space}"] = {"seconds": statistics.median(seconds), "points": int(uses.loss.size),
                                       "center_loss": uses.center_loss, "min_loss": float(np.nanmin(uses.loss)),
                                       "explained_variance": [float(v) for v in uses.explained_variance]}
    return out


def bench_methods(args: argparse.Namespace) -> dict[str, Any]:
    from core.bench_methods import bench_methods as run

    return run(args)


def bench_stylegan2(args: argparse.Namespace) -> dict[str, Any]:
    from core.bench_stylegan2 import bench_stylegan2 as run

    return run(args)


def bench_alignment(args: argparse.Namespace) -> dict[str, Any]:
    from core.bench_alignment import bench_alignment as run

    return run(args)


BENCHMARKS = {"inversion": bench_inversion, "landscape": bench_landscape, "inpainting": bench_inpainting,
              "slice": bench_slice, "methods": bench_methods, "stylegan2": bench_stylegan2,
              "alignment": bench_alignment}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--faces", type=int,
                        help="held-out generated faces (inversion: 32, landscape: 64, inpainting: 16)")
    parser.add_argument("--budgets", help="step budgets, comma-separated (default: the benchmark's own)")
    parser.add_argument("--configs", default="", help="subset of settings to run, comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (the median is reported)")
    parser.add_argument("--theta", help="θ folder for the landscape benchmark (default: the shipped θ)")
    parser.add_argument("--priors", help="inpainting: latent prior weights to compare, comma-separated")
    parser.add_argument("--tune-steps", type=int, help="methods: pivotal tuning steps (default: the method's)")
    parser.add_argument("--resolutions", help="stylegan2: output sizes, comma-separated (default 64,256,1024)")
    parser.add_argument("--tiny", action="store_true", help="stylegan2: 32-channel smoke-test nets (no real figures)")
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
