"""``python -m bench landscape``: direct inversion against landscape descent through θ, PSNR per step budget.

direct (Adam lr 0.2; 10 plain descent steps then Adam) against landscape descent through θ, and, when θ
descends its own way (keep-radius, hand-over Adam), the identity mapping with that same descent (the gate's
baseline), on held-out generated faces and the bundled sample photos.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import BASE, budgets_from, machine_info, psnr_after, sample_targets
from core.device import pick_device
from core.evaluation import held_out_faces
from core.generators import load_generator

LANDSCAPE_BUDGETS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500)


def steps_to_reach(curve: dict[str, float], level: float) -> int | None:
    """The smallest budget whose mean PSNR reaches ``level`` (None when none does)."""
    reached = [int(b) for b, v in curve.items() if v >= level]
    return min(reached) if reached else None


def bench_landscape(args: argparse.Namespace) -> dict[str, Any]:
    """See the module doc; ``--theta`` picks the θ folder (default: the model's shipped θ)."""
    from core.landscape.gate import identity_like, landscape_psnr
    from core.theta import load_mapping, shipped_mapping_dir

    device = pick_device(args.device)
    G = load_generator(args.model, device)
    folder = Path(args.theta) if args.theta else shipped_mapping_dir(G)
    theta, meta = load_mapping(folder)
    theta = theta.to(device).requires_grad_(False)
    budgets = budgets_from(args, LANDSCAPE_BUDGETS)
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
