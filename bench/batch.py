"""``python -m bench batch``: photos per minute of ``landscape-studio batch`` on this machine.

The default recipe (the editor's default inversion: pivotal, 100 pivot steps, LPIPS-AlexNet 0.5; aligned; no
edits; PNG) over the bundled samples and the public-domain portraits of ``bench quality``, into a fresh folder,
with the local engine. Reported: wall seconds for the batch, photos per minute, each photo's seconds, and the
per-photo overhead of the batch itself (wall time not spent inside a photo's own work: loading the model once,
hashing, the manifest and summary), then a re-run's seconds (everything skipped: the cost of resuming).
"""

from __future__ import annotations

import argparse
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
from core.device import pick_device
from core.resources import sample_photos


def bench_batch(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        photos = work / "photos"
        photos.mkdir()
        note = None
        try:
            extra = fetch()
        except Exception as exc:  # no network: the samples alone
            extra, note = [], f"portraits unavailable ({exc}); samples only"
        for path in [*sample_photos(), *extra]:
            shutil.copyfile(path, photos / path.name)
        recipe = Recipe()
        began = time.perf_counter()
        report = run_batch([str(photos)], recipe, work / "out", device=device)
        wall = time.perf_counter() - began
        began = time.perf_counter()
        again = run_batch([str(photos)], recipe, work / "out", device=device)
        resume = time.perf_counter() - began
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = [r["seconds"] for r in report.rows]
    done = sum(r["status"] == "done" for r in report.rows)
    return {"benchmark": "batch", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "engine": "local", "recipe": recipe.to_dict(), "photos": len(seconds),
            "done": done, "photos_note": note,
            "results": {"wall_s": round(wall, 1), "photos_per_minute": round(60 * len(seconds) / wall, 2),
                        "photo_s_median": round(statistics.median(seconds), 1),
                        "photo_s": [round(s, 1) for s in seconds],
                        "overhead_s_per_photo": round((wall - sum(seconds)) / len(seconds), 2),
                        "resume_all_skipped_s": round(resume, 2), "resume_skipped": again.skipped}}
