"""``landscape-studio restore``: super-resolution or colorization — invert a photo's square through a degradation.

Writes the restored square, the photo with it composited at the photo's resolution, and report.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.cli.common import (
    EXIT_INTERRUPTED,
    add_composite_arg,
    add_model_args,
    add_placement_args,
    check_feather,
    load_model,
    photo_placement,
    seed_arg,
)
from core.cli.progress import drive_inversion
from core.cli.reports import SCHEMA_VERSION, write_report
from core.imageio import load_photo, save_image
from core.inversion import restoration_config
from core.inversion.report import save_npy
from core.objectives.operators import OPERATOR_NAMES, parse_operator
from core.photo_jobs import PhotoRestoration, restore_photo
from core.result_folder import result_folder


def add_restore_parser(sub: argparse._SubParsersAction) -> None:
    c = restoration_config("grayscale")
    r = sub.add_parser("restore", help="super-resolution or colorization: invert through a degradation")
    r.add_argument("photo", type=Path)
    r.add_argument("--op", required=True, help=f"{' | '.join(OPERATOR_NAMES)}, or several joined by '+'")
    r.add_argument("--out", type=Path, required=True, help="folder for the restored crop, the photo and report.json")
    r.add_argument("--steps", type=int, default=c.steps)
    r.add_argument("--starts", type=int, default=c.starts, help="random starts optimised together (best kept)")
    add_placement_args(r, align_help="restore the face aligned to the model's framing (not --crop)")
    r.add_argument("--seed", type=seed_arg, default=c.seed)
    r.add_argument("--prior", type=float, default=c.loss.prior, help="latent prior weight")
    r.add_argument("--lpips", type=float, default=c.loss.lpips, help="LPIPS weight (0 = off)")
    r.add_argument("--feather", type=float, default=0.08,
                   help="seam width when pasting back (fraction of the crop)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    add_composite_arg(r)
    add_model_args(r)


def cmd_restore(args: argparse.Namespace) -> int:
    check_feather(args.feather)
    operator = parse_operator(args.op)
    config = restoration_config(operator.name, steps=args.steps, starts=args.starts, seed=args.seed,
                                loss_prior=args.prior, loss_lpips=args.lpips)
    config.validate()
    began = time.perf_counter()
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)
    with result_folder(args.out) as out:  # one complete run in --out, or the previous one untouched
        loaded = time.perf_counter()
        G = load_model(args)
        model_ready = time.perf_counter()
        placement = photo_placement(args, photo, G)
        done: PhotoRestoration = drive_inversion(
            lambda token: restore_photo(G, photo, placement=placement, config=config, feather=args.feather,
                                        composite=args.composite, cancel=token),
            config.steps, args.quiet, f"restoring ({operator.name})")
        result = done.result
        files = [save_image(done.observation, out / "observation.png"),
                 save_image(result.best_image, out / "restored.png"),
                 save_image(done.photo, out / "photo_restored.png", exif=photo.exif),
                 save_npy(out / "latent.npy", result.best_latent)]
        fits = done.observation_psnr
        report = {"schema_version": SCHEMA_VERSION, "command": "restore", "operator": operator.name,
                  "model_id": G.model_id, "photo": str(args.photo), "photo_size": [photo.width, photo.height],
                  **placement.to_dict(), "device": str(G.device), "settings": config.to_dict(), "space": result.space,
                  "composite": args.composite, "observation_psnr": fits[result.best_index],
                  "observation_psnr_per_start": fits,
                  "best_start": result.best_index, "steps_done": result.steps_done, "cancelled": result.cancelled,
                  "uses_lpips": result.uses_lpips, "warnings": result.warnings,
                  "timings": {"load_photo": round(loaded - began, 4), "load_model": round(model_ready - loaded, 4),
                              "invert": round(result.seconds, 4)},
                  "metrics_note": "observation_psnr: the restored crop, degraded again, against the degraded photo",
                  "loss_history": result.history}
        write_report(out, report, files)
        state = f"cancelled after {result.steps_done} steps" if result.cancelled else f"{result.steps_done} steps"
        print(f"{operator.name}, {state}: {fits[result.best_index]:.2f} dB against the observation "
              f"({result.seconds:.1f} s). Results in {args.out.resolve()}")
        return EXIT_INTERRUPTED if result.cancelled else 0
