"""``python -m bench drag``: how far drag editing moves a face's points, and what a step costs.

On ``--faces`` generated faces (default 8, seeds 0…) of a StyleGAN-family model (``--model ffhq``), two drags
placed on landmarks that the face finder (MediaPipe's mesh) reads off each face:

- **turn**: the nose tip 16 px to the image's right (a head turn);
- **chin**: the chin 10 px down (a longer face, an open mouth).

Pixels are of the 256-px drag grid (1/256 of the face square; 4 px of a 1024-px render). For each drag: the
tracker's handle-to-target distance at the start and after at most ``--steps`` steps (mean ± standard error), how
many arrived (within 1 px), seconds per step, and an independent reading — the same landmark found again by the
face finder on the dragged image, and its distance to the target — so the figure does not rest on the tracker's
own word.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from bench.common import machine_info
from core.alignment.faces import find_faces
from core.device import pick_device, to_uint8_hwc
from core.drag import DragPoint, DragSettings, drag_job
from core.drag.motion import GRID
from core.errors import NoFaceFoundError
from core.generators import load_generator
from core.jobs import run_job

DRAGS = {"turn": (1, (16.0, 0.0)), "chin": (152, (0.0, 10.0))}  # mesh landmark, move in grid px
DEFAULT_FACES = 8


def _landmark(image: np.ndarray, index: int) -> np.ndarray | None:
    """The mesh landmark (x, y) as fractions of the image, or None when no face is found."""
    try:
        face = find_faces(image)[0]
    except NoFaceFoundError:
        return None
    return face.landmarks[index, :2].astype(np.float64) / image.shape[0]


def _mean_se(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": float("nan"), "se": float("nan"), "n": 0}
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return {"mean": round(statistics.fmean(values), 2), "se": round(se, 2), "n": len(values)}


def _one(G: Any, seed: int, name: str, settings: DragSettings) -> dict[str, Any] | None:
    latent = G.sample_latent(1, seed, G.default_space)
    with torch.no_grad():
        before = to_uint8_hwc(G.synthesize(latent))[0]
    index, (dx, dy) = DRAGS[name]
    handle = _landmark(before, index)
    if handle is None:
        return None
    target = np.clip(handle + np.array([dx, dy]) / GRID, 0.0, 1.0)
    point = DragPoint((float(handle[0]), float(handle[1])), (float(target[0]), float(target[1])))
    result = run_job(drag_job(G, latent[0].cpu().numpy(), G.default_space, [point], settings=settings))
    found = _landmark(result.image, index)
    return {"seed": seed, "drag": name, "steps": result.steps, "seconds": round(result.seconds, 2),
            "tracked_start_px": round(result.distances[0], 2), "tracked_end_px": round(result.distances[-1], 2),
            "arrived": result.arrived, "face_found_after": found is not None,
            "landmark_end_px": None if found is None else round(float(np.linalg.norm(found - target) * GRID), 2),
            "landmark_moved_px": None if found is None else round(float(np.linalg.norm(found - handle) * GRID), 2)}


def bench_drag(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    G = load_generator(args.model, device)
    settings = DragSettings(steps=args.steps) if args.steps else DragSettings()
    faces = args.faces or DEFAULT_FACES
    began = time.perf_counter()
    runs = [run for seed in range(faces) for name in DRAGS if (run := _one(G, seed, name, settings)) is not None]
    summary = {}
    for name in DRAGS:
        mine = [r for r in runs if r["drag"] == name]
        landmarks = [r["landmark_end_px"] for r in mine if r["landmark_end_px"] is not None]
        summary[name] = {
            "runs": len(mine), "arrived": sum(r["arrived"] for r in mine),
            "tracked_start_px": _mean_se([r["tracked_start_px"] for r in mine]),
            "tracked_end_px": _mean_se([r["tracked_end_px"] for r in mine]),
            "landmark_end_px": _mean_se(landmarks),
            "landmark_moved_px": _mean_se([r["landmark_moved_px"] for r in mine if r["landmark_moved_px"] is not None]),
            "face_found_after": sum(r["face_found_after"] for r in mine),
            "seconds_per_step_median": round(statistics.median(r["seconds"] / max(r["steps"], 1) for r in mine), 3)
            if mine else None}
    return {"benchmark": "drag", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "faces": faces, "settings": vars(settings),
            "drags": {k: {"landmark": v[0], "move_px": v[1]} for k, v in DRAGS.items()},
            "seconds": round(time.perf_counter() - began, 1), "summary": summary, "runs": runs}
