"""``python -m bench slice``: what a 65×65 loss-surface slice costs, in x and in z (through the shipped θ)."""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bench.common import machine_info
from core.device import pick_device
from core.evaluation import HELD_OUT_SEED
from core.generators import load_generator
from core.inversion import InversionConfig, invert
from core.jobs import run_job


def bench_slice(args: argparse.Namespace) -> dict[str, Any]:
    """A 65×65 slice around an inverted generated face, in x and in z (shipped θ), for the default objective
    (pixel + LPIPS) and for pixel loss only; seconds are the median of ``--repeats`` (at most 3) runs."""
    from core.landscape import SliceConfig, landscape_trajectory, latent_trajectory, slice_for_photo
    from core.theta import find_mapping

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
                                       "explained_variance": None if uses.explained_variance is None else
                                       [float(v) for v in uses.explained_variance]}
    return out
