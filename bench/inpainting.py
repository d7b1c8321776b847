"""``python -m bench inpainting``: diverse inpainting of a fixed centre box, and restoration (downsample ×4,
grayscale), on held-out generated faces.

Inpainting: masked-region PSNR of the best-fitting candidate, of the best of all (an oracle) and of a blur fill,
and the candidates' diversity, per latent prior weight; the wall time of one whole job (8 candidates, 100 steps).
Restoration: PSNR against the truth after each budget, against bicubic upsampling or the grey image itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from bench.common import machine_info, psnr_after
from core.device import from_uint8_hwc, pick_device
from core.evaluation import HELD_OUT_SEED, held_out_faces
from core.generators import Generator, load_generator
from core.inversion import invert
from core.jobs import run_job
from core.metrics import psnr

INPAINT_BOX = (20, 44)  # the fixed centre-box mask of the inpainting benchmark: rows and columns 20…43 of 64
RESTORE_BUDGETS = (100, 300)


def _stats(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 3), "median": round(statistics.median(values), 3)}


def inpaint_quality(G: Generator, faces: torch.Tensor, mask: torch.Tensor, prior: float) -> dict[str, Any]:
    """Masked-region PSNR of the best-fitting candidate (and of the best of all, an oracle), a blur fill's, and
    the diversity, over ``faces`` with the default inpainting settings but ``prior``."""
    from core.inpainting import InpaintConfig, blur_fill, inpaint

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
    out: dict[str, Any] = {k: _stats(v) for k, v in rows.items()}
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
    from core.inpainting import InpaintConfig, inpaint

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
    from core.inpainting import DEFAULT_PRIOR, InpaintConfig

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
