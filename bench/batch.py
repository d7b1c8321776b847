"""``python -m bench batch``: photos per minute of ``landscape-studio batch`` on this machine, locally and on Ray.

The photos: the bundled samples and the public-domain portraits of ``bench quality``, into fresh folders.
- **local**: the default recipe (the editor's default inversion: pivotal, 100 pivot steps, LPIPS-AlexNet 0.5;
  aligned; no edits; PNG) with the local engine: wall seconds, photos per minute, each photo's seconds, the
  per-photo overhead of the batch itself (wall time not inside a photo's own work), and a re-run's seconds
  (everything skipped: the cost of resuming).
- **ray**: the same recipe with ``--engine ray`` and 2 workers (one CPU thread each) on a Ray started here;
  Ray's start (``ray.init`` and the workers loading their models) on its own, and the per-photo overhead of Ray
  (worker time not inside a photo: start, transfers, scheduling, the idle tail) — what a projection to N
  machines adds to each photo.
- **grouping**: a direct-method recipe (100 steps, LPIPS-AlexNet 0.5) one photo at a time vs all photos
  inverted together, alternated ``--repeats`` times: the speed-up with its standard error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import machine_info
from bench.portraits import fetch
from core.batch import Recipe
from core.batch.local import run_batch
from core.batch.photo import WarmModel
from core.batch.plan import BatchReport
from core.batch.ray_engine import RaySettings, import_ray, run_batch_ray, start_workers
from core.batch.recipe import FORMAT, VERSION
from core.device import pick_device
from core.resources import sample_photos

RAY_WORKERS = 2
MACHINES = (1, 2, 4, 8, 16, 64)
DIRECT = {"method": "direct", "steps": 100, "loss": {"lpips": 0.5, "lpips_net": "alex"}}


def bench_batch(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        photos, note = _photos(work)
        recipe = Recipe()
        local = _local(photos, recipe, work / "local", device)
        ray = _ray(photos, recipe, work / "ray")
        grouping = _grouping(photos, work, device, getattr(args, "repeats", 3))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"benchmark": "batch", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "recipe": recipe.to_dict(), "photos": local["photos"],
            "photos_note": note, "results": local, "ray": ray, "grouping": grouping,
            "projection": _projection(ray)}


def _photos(work: Path) -> tuple[Path, str | None]:
    photos = work / "photos"
    photos.mkdir()
    note = None
    try:
        extra = fetch()
    except Exception as exc:  # no network: the samples alone
        extra, note = [], f"portraits unavailable ({exc}); samples only"
    for path in [*sample_photos(), *extra]:
        shutil.copyfile(path, photos / path.name)
    return photos, note


def _figures(report: BatchReport, wall: float, workers: int) -> dict[str, Any]:
    seconds = [r["seconds"] for r in report.rows]
    return {"photos": len(seconds), "done": sum(r["status"] == "done" for r in report.rows),
            "wall_s": round(wall, 1), "photos_per_minute": round(60 * len(seconds) / wall, 2),
            "photo_s_median": round(statistics.median(seconds), 1), "photo_s": [round(s, 1) for s in seconds],
            "overhead_s_per_photo": round((wall * workers - sum(seconds)) / len(seconds), 2)}


def _local(photos: Path, recipe: Recipe, out: Path, device: Any) -> dict[str, Any]:
    began = time.perf_counter()
    report = run_batch([str(photos)], recipe, out, device=device)
    wall = time.perf_counter() - began
    began = time.perf_counter()
    again = run_batch([str(photos)], recipe, out, device=device)
    return {**_figures(report, wall, 1), "engine": "local",
            "resume_all_skipped_s": round(time.perf_counter() - began, 2), "resume_skipped": again.skipped}


def _ray(photos: Path, recipe: Recipe, out: Path) -> dict[str, Any]:
    ray = import_ray()
    settings = RaySettings(workers=RAY_WORKERS)
    began = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        actors = start_workers(ray, recipe, settings, "cpu", RAY_WORKERS)
        start = time.perf_counter() - began
        for actor in actors:
            ray.kill(actor)
        began = time.perf_counter()
        report = run_batch_ray([str(photos)], recipe, out, settings=settings, device="cpu")
        wall = time.perf_counter() - began
    finally:
        ray.shutdown()
    return {**_figures(report, wall, RAY_WORKERS), "engine": "ray", "workers": RAY_WORKERS, "cpus_per_worker": 1,
            "start_s": round(start, 1), "retried": report.retried}


def _grouping(photos: Path, work: Path, device: Any, repeats: int) -> dict[str, Any]:
    recipe = Recipe.from_dict({"format": FORMAT, "version": VERSION, "inversion": DIRECT})
    model = WarmModel.load(recipe, device)
    count = len(list(photos.iterdir()))
    alone: list[float] = []
    together: list[float] = []
    for repeat in range(repeats):
        for group, times in ((1, alone), (count, together)):
            began = time.perf_counter()
            run_batch([str(photos)], recipe, work / f"group{group}_{repeat}", model=model, group=group)
            times.append(time.perf_counter() - began)
    ratios = [a / t for a, t in zip(alone, together, strict=True)]
    spread = statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else None
    return {"recipe": recipe.to_dict(), "photos": count, "group": count, "repeats": repeats,
            "one_at_a_time_s": [round(t, 1) for t in alone], "together_s": [round(t, 1) for t in together],
            "speedup": round(statistics.mean(ratios), 2), "speedup_se": None if spread is None else round(spread, 2)}


def _projection(ray: dict[str, Any]) -> list[dict[str, Any]]:
    """Photos per minute on N machines like this one, each with ``RAY_WORKERS`` workers: every worker spends a
    photo's median seconds plus the per-photo overhead measured here; Ray's start is paid once per batch."""
    per_photo = ray["photo_s_median"] + max(0.0, ray["overhead_s_per_photo"])
    rows = []
    for machines in MACHINES:
        rate = machines * RAY_WORKERS * 60 / per_photo
        rows.append({"machines": machines, "workers": machines * RAY_WORKERS, "photos_per_minute": round(rate, 1),
                     "hours_for_10000_photos": round((10_000 / rate + ray["start_s"] / 60) / 60, 2)})
    return rows
