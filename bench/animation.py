"""``python -m bench animation``: how long ``landscape-studio animate`` takes for a clip on this machine.

- **walk**: a looping walk through 4 seeds, ``--seconds`` long (10 by default) at 25 fps and 512 px — the clip
  the issue sizes — as MP4 (H.264, crf 18) and as GIF: wall seconds (median of ``--repeats``), milliseconds a
  frame, file size.
- **edit**: the age direction swept from −2 to +2 and back on each bundled sample photo, composited into the
  photo at its own resolution with the "detail" composite (as Export writes it), MP4: the same figures.

Every clip is rendered from the model's full-resolution image (a 1024-px model's render for each frame).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import machine_info
from core.animation import ClipTiming, Sweep, backdrop_for, sweep_latents, walk_latents, write_animation
from core.device import pick_device
from core.directions.recipes import standard_libraries
from core.generators import Generator, load_generator
from core.imageio import load_photo
from core.jobs import run_job
from core.photo_jobs import placement_for
from core.resources import sample_photos

FPS = 25.0
SIDE = 512
SEEDS = (0, 1, 2, 3)


def bench_animation(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    seconds = getattr(args, "seconds", None) or 10.0
    timing = ClipTiming(fps=FPS, seconds=seconds, loop=True)
    with tempfile.TemporaryDirectory(prefix="bench-animation-") as work:
        keys = [G.sample_latent(1, s)[0].cpu().numpy() for s in SEEDS]
        walk = walk_latents(G, keys, None, timing)
        results = {kind: _timed(G, walk, None, Path(work) / f"walk.{kind}", args.repeats, max_side=SIDE)
                   for kind in ("mp4", "gif")}
        edits = {path.name: _edit(G, path, timing, Path(work), args.repeats) for path in sample_photos()}
    return {"benchmark": "animation", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "render_px": G.render_resolution,
            "clip": {"seconds": seconds, "fps": FPS, "frames": timing.frames, "side_px": SIDE, "loop": True,
                     "easing": timing.easing},
            "walk": results, "edit": edits}


def _edit(G: Generator, path: Path, timing: ClipTiming, work: Path, repeats: int) -> dict[str, Any]:
    photo = load_photo(path)
    placement = placement_for(photo, G)
    latent = G.sample_latent(1, 7)[0].cpu().numpy()
    age = standard_libraries(G, None)[0].get("age")
    latents, space = sweep_latents(G, latent, None, [Sweep(age, -2.0, 2.0)], timing)
    backdrop = backdrop_for(G, photo.pixels, placement, latent=latent, space=space, composite="detail",
                            feather=0.08)
    figures = _timed(G, latents, space, work / f"{path.stem}.mp4", repeats, compose=backdrop.compose,
                     source_size=backdrop.size)
    return {"photo_px": [photo.width, photo.height], **figures}


def _timed(G: Generator, latents: list[np.ndarray], space: str | None, out: Path, repeats: int,
           **options: Any) -> dict[str, Any]:
    times = []
    for _ in range(max(1, repeats)):
        began = time.perf_counter()
        result = run_job(write_animation(G, latents, space, path=out, fps=FPS, **options))
        times.append(time.perf_counter() - began)
    wall = statistics.median(times)
    return {"seconds": round(wall, 3), "seconds_all": [round(t, 3) for t in times],
            "ms_per_frame": round(1000 * wall / len(latents), 2), "size_px": list(result.size),
            "file_bytes": out.stat().st_size, "realtime_factor": round(len(latents) / FPS / wall, 2)}
