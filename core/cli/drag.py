"""``landscape-studio drag``: move points of a face to targets (drag editing) on a latent, with or without its
photo, and write the result (the photo with the change composited, or the model's image) and the new w+ code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.atomic_files import atomic_write_bytes
from core.cli.common import (
    EXIT_INTERRUPTED,
    add_composite_arg,
    add_model_args,
    add_placement_args,
    check_feather,
    load_model,
    photo_placement,
)
from core.cli.edit import load_one_latent
from core.cli.progress import first_ctrl_c_cancels
from core.drag import DragProgress, DragResult, DragSettings, drag_job, read_points_file
from core.generators import Generator
from core.imageio import Photo, load_photo, save_image
from core.inversion.report import save_npy
from core.jobs import CancelToken, run_job
from core.photo_jobs import edit_photo, render_latent
from core.placement import Placement


def add_drag_parser(sub: argparse._SubParsersAction) -> None:
    d = DragSettings()
    p = sub.add_parser("drag", help="drag points of a face to targets (DragGAN-style; StyleGAN-family models)")
    p.add_argument("photo", type=Path, nargs="?", help="the photo the latent was inverted from (optional: without "
                                                       "it the model's image is written)")
    p.add_argument("--latent", type=Path, required=True, help="the face's latent (.npy from invert or render)")
    p.add_argument("--space", help="the latent's space (default: the model's, e.g. w; w+ for a dragged code)")
    p.add_argument("--points", type=Path, required=True,
                   help='JSON: {"points": [{"handle": [x, y], "target": [x, y]}], "units": "pixels" (of the '
                        'model\'s image) | "fraction" | "photo", "mask": "may_move.png" (optional)}')
    p.add_argument("--steps", type=int, default=d.steps, help=f"the most optimisation steps (default {d.steps})")
    p.add_argument("--rows", type=int, default=d.rows, help=f"w+ rows that may change, from the coarsest "
                                                            f"(default {d.rows})")
    p.add_argument("--out", type=Path, required=True, help="PNG or JPEG: the photo (at its resolution) or the "
                                                           "model's image")
    p.add_argument("--save-latent", type=Path, help="also write the dragged w+ code as .npy")
    p.add_argument("--report", type=Path, help="also write the run's figures as JSON")
    add_placement_args(p, align_help="the latent was inverted with invert --align: map points and paste back "
                                     "through the same face alignment")
    p.add_argument("--feather", type=float, default=0.08, help="seam width as a fraction of the crop (0..0.5)")
    add_composite_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(p)


def cmd_drag(args: argparse.Namespace) -> int:
    check_feather(args.feather)
    G = load_model(args)
    space = args.space or G.default_space
    latent = load_one_latent(args.latent, G.space(space).shape)
    photo = load_photo(args.photo) if args.photo is not None else None
    placement = photo_placement(args, photo, G) if photo is not None else None
    points, mask = read_points_file(args.points, G.render_resolution,
                                    placement.to_square if placement is not None else None)
    settings = DragSettings(steps=args.steps, rows=args.rows)
    token = CancelToken()
    bar = tqdm(total=args.steps, unit="step", disable=args.quiet, file=sys.stderr)

    def on_step(progress: DragProgress) -> None:
        bar.n = progress.step
        bar.set_postfix_str(f"{progress.distance:.1f} px to go")

    with first_ctrl_c_cancels(token):
        result = run_job(drag_job(G, latent, space, points, settings=settings, mask=mask, cancel=token), on_step)
    bar.close()
    _write_outputs(args, G, latent, space, result, photo, placement)  # a stopped drag keeps what it reached
    return EXIT_INTERRUPTED if result.stopped else 0


def _write_outputs(args: argparse.Namespace, G: Generator, latent: np.ndarray, space: str, result: DragResult,
                   photo: Photo | None, placement: Placement | None) -> None:
    """The image (the photo with the drag's change composited, or the model's render), the w+ code, the report."""
    if photo is not None and placement is not None:
        full = G.render_resolution != G.resolution
        reference = render_latent(G, latent, space, full=full) if args.composite == "detail" else None
        done = run_job(edit_photo(G, photo, placement=placement, latent=result.latent, edits=[], space=result.space,
                                  feather=args.feather, composite=args.composite, reference=reference))
        path = save_image(done.photo, args.out, exif=photo.exif)
    else:
        path = save_image(render_latent(G, result.latent, result.space, full=True), args.out)
    if args.save_latent is not None:
        save_npy(args.save_latent, result.latent)
    figures = {"model": G.model_id, "steps": result.steps, "seconds": round(result.seconds, 2),
               "seconds_per_step": round(result.seconds / max(result.steps, 1), 4),
               "distance_start_px": round(result.distances[0], 2), "distance_end_px": round(result.distances[-1], 2),
               "arrived": result.arrived, "stopped": result.stopped, "handles_end": [list(h) for h in result.handles]}
    if args.report is not None:
        atomic_write_bytes(args.report, (json.dumps(figures, indent=2) + "\n").encode())
    verdict = "stopped by Ctrl-C" if result.stopped else "arrived" if result.arrived else "stopped short"
    print(f"handles {verdict}: {result.distances[0]:.1f} → {result.distances[-1]:.1f} px (of a 256-px grid) in "
          f"{result.steps} steps, {result.seconds:.1f} s; written to {path.resolve()}")
