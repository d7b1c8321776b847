"""``landscape-studio inpaint``: fill a masked region of a photo with several candidates, ranked by fit.

Writes each candidate composited into the photo at its own resolution as well as the model's raw images.
Ctrl-C stops at the next step and still writes what was found.
"""

from __future__ import annotations

import argparse
import sys
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
from core.device import pick_device
from core.imageio import load_mask, load_photo, save_image
from core.inpainting import InpaintConfig
from core.inversion.report import save_npy
from core.photo_jobs import FILL_FEATHER, PhotoInpainting, inpaint_photo
from core.result_folder import result_folder


def add_inpaint_parser(sub: argparse._SubParsersAction) -> None:
    d = InpaintConfig()
    p = sub.add_parser("inpaint", help="fill a masked region with several candidates, ranked by fit")
    p.add_argument("photo", type=Path)
    p.add_argument("--mask", type=Path, required=True, help="PNG the size of the photo; non-zero = region to fill")
    p.add_argument("--candidates", type=int, default=d.candidates, help="K starts in one batch (≤ 16 on the CPU)")
    p.add_argument("--out", type=Path, required=True, help="folder for candidates, raw images and report.json")
    p.add_argument("--steps", type=int, default=d.steps)
    add_placement_args(p, align_help="fill the face aligned to the model's framing (not --crop)")
    p.add_argument("--seed", type=seed_arg, default=d.seed, help="candidate k starts from seed + k")
    p.add_argument("--prior", type=float, default=d.prior, help="latent prior weight")
    p.add_argument("--lpips", type=float, default=d.lpips, help="LPIPS weight on the known pixels (0 = off)")
    p.add_argument("--feather", type=float, default=FILL_FEATHER, help="ramp inside the mask, fraction of the "
                                                                       "square's side")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_composite_arg(p)
    add_model_args(p)


def cmd_inpaint(args: argparse.Namespace) -> int:
    check_feather(args.feather)
    config = InpaintConfig(candidates=args.candidates, steps=args.steps, seed=args.seed, prior=args.prior,
                           lpips=args.lpips)
    config.validate(pick_device(args.device))
    began = time.perf_counter()
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)
    full_mask = load_mask(args.mask, photo.width, photo.height)  # float32 [H, W], 1 = fill
    with result_folder(args.out) as out:  # one complete run in --out, or the previous one untouched
        loaded = time.perf_counter()
        G = load_model(args)
        model_ready = time.perf_counter()
        placement = photo_placement(args, photo, G)
        done: PhotoInpainting = drive_inversion(
            lambda token: inpaint_photo(G, photo, placement=placement, mask=full_mask, config=config,
                                        feather=args.feather, composite=args.composite, cancel=token), config.steps,
            args.quiet, "inpainting")
        result = done.result
        files = [save_image(done.target, out / "target.png"), save_npy(out / "latents.npy", result.latents)]
        for rank, candidate in enumerate(result.candidates):
            files.append(save_image(candidate, out / f"raw_{rank:02d}.png"))
            filled = done.photo if rank == 0 else done.filled(rank)
            files.append(save_image(filled, out / f"candidate_{rank:02d}.png", exif=photo.exif))
        for warning in done.warnings[len(result.warnings):]:
            print(f"warning: {warning}", file=sys.stderr)
        summary = result.summary()
        summary["warnings"] = list(done.warnings)
        summary["timings"].update(load_photo=round(loaded - began, 4), load_model=round(model_ready - loaded, 4))
        report = {"schema_version": SCHEMA_VERSION, "command": "inpaint", "model_id": G.model_id,
                  "photo": str(args.photo), "photo_size": [photo.width, photo.height], **placement.to_dict(),
                  "mask": str(args.mask), "masked_fraction": round(done.masked_fraction, 6), "device": str(G.device),
                  "settings": config.to_dict(), "space": result.inversion.space, "composite": args.composite, **summary,
                  "files_note": "candidate_NN.png: rank NN composited into the photo; raw_NN.png: the model's image",
                  "loss_history": result.inversion.history}
        write_report(out, report, files)
        state = "cancelled after" if result.cancelled else "after"
        print(f"{len(result.candidates)} candidates {state} {result.inversion.steps_done} steps: best fit "
              f"{result.fit_psnr[0]:.2f} dB on the known pixels, diversity {result.diversity:.4f} "
              f"({result.diversity_metric}) ({result.timings['total']:.1f} s). Results in {args.out.resolve()}")
        return EXIT_INTERRUPTED if result.cancelled else 0
