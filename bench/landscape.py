"""``python -m bench landscape``: direct inversion against landscape descent through θ, PSNR per step budget,
compared paired.

On the same targets: the direct method (Adam lr 0.2), the direct method's default (10 plain descent steps then
Adam), the identity mapping descending as θ does (the gate's baseline, when θ descends its own way), the *same
θ untrained* (MLP zeroed, step and schedule at their start: what the recipe alone brings), θ from random starts
when its starts lean towards the encoder's guess (what the guess adds), and θ. Held-out
generated faces (``--faces``, default 256: a paired standard error near 0.1 dB at 10 steps) and the bundled sample
photos. Each comparison is the mean ± standard error of θ's per-target PSNR minus the contender's, so the learned
part's gain is stated with its noise.
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

LANDSCAPE_BUDGETS = (1, 3, 10, 30, 100)
FACES = 256


def steps_to_reach(curve: dict[str, float], level: float) -> int | None:
    """The smallest budget whose mean PSNR reaches ``level`` (None when none does)."""
    reached = [int(b) for b, v in curve.items() if v >= level]
    return min(reached) if reached else None


def bench_landscape(args: argparse.Namespace) -> dict[str, Any]:
    """See the module doc; ``--theta`` picks the θ folder (default: the model's shipped θ)."""
    from core.landscape.gate import identity_like, landscape_psnr, paired, untrained_recipe, without_encoder_start
    from core.theta import load_mapping, shipped_mapping_dir

    device = pick_device(args.device)
    G = load_generator(args.model, device)
    folder = Path(args.theta) if args.theta else shipped_mapping_dir(G)
    theta, meta = load_mapping(folder)
    theta = theta.to(device).requires_grad_(False)
    budgets = budgets_from(args, LANDSCAPE_BUDGETS)
    names, photos = sample_targets(G)
    plain = identity_like(theta, theta.config.step, same_descent=False)  # = the direct method's default
    gated = identity_like(theta, theta.config.step)  # the gate's baseline: θ's own descent recipe, no mapping
    mappings = {"direct_gd10_then_adam": plain, **({} if gated.config == plain.config else
                                                   {"identity_same_descent": gated}),
                "untrained_recipe": untrained_recipe(theta),
                **({"landscape_random_starts": without_encoder_start(theta)} if theta.config.encoder_start else {}),
                "landscape": theta}
    out: dict[str, Any] = {"benchmark": "landscape", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                           "machine": machine_info(device), "model_id": G.model_id, "theta": str(folder),
                           "theta_ready": meta.get("ready"), "theta_step_size": round(float(theta.step_size), 4),
                           "budgets": list(budgets)}
    for label, targets in (("held_out_faces", held_out_faces(G, args.faces or FACES)), ("sample_photos", photos)):
        per_target = {"direct_adam_lr0.2": {b: psnr_after(G, targets, BASE, b) for b in budgets},
                      **{name: {b: landscape_psnr(G, m, targets, b) for b in budgets} for name, m in mappings.items()}}
        means = {name: {str(b): round(statistics.fmean(v), 3) for b, v in runs.items()}
                 for name, runs in per_target.items()}
        versus = {name: {str(b): paired(per_target["landscape"][b], per_target[name][b]) for b in budgets}
                  for name in per_target if name != "landscape"}
        direct = means["direct_adam_lr0.2"]
        reach = {f"direct@{b}": steps_to_reach(means["landscape"], direct[b]) for b in ("100", "500") if b in direct}
        out[label] = {"n": len(targets), "psnr_mean": means, "landscape_minus": versus,
                      "learned_gain": versus["untrained_recipe"], "landscape_steps_to_reach_direct": reach,
                      **({"encoder_start_gain": versus["landscape_random_starts"]}
                         if "landscape_random_starts" in versus else {})}
        print(f"[{label}] {means}\n  learned part: {versus['untrained_recipe']}", file=sys.stderr)
    out["photos"] = names
    return out
