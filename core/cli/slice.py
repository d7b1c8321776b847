"""``landscape-studio slice``: invert a photo (or a generated face of a known seed), then write the loss
landscape around the result (see ``core.landscape.slicing``; the centre rule is ``core.photo_jobs.slice``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from core.cli.common import add_model_args, add_placement_args, load_model, photo_placement, seed_arg
from core.cli.progress import first_ctrl_c_cancels
from core.device import to_uint8_hwc
from core.errors import InvalidInputError
from core.imageio import load_photo, save_image
from core.inversion import InversionConfig
from core.jobs import CancelToken, run_job
from core.landscape import SliceConfig, SliceRow, save_slice
from core.photo_jobs import PhotoSlice, slice_photo
from core.result_folder import result_folder


def add_slice_parser(sub: argparse._SubParsersAction) -> None:
    d = SliceConfig()
    p = sub.add_parser("slice", help="invert, then plot the loss landscape around the result (2-D slice)")
    p.add_argument("photo", type=Path, nargs="?", help="photo to invert (or --seed for a generated face)")
    p.add_argument("--seed", type=seed_arg, help="target = the model's face of this seed (its latent is known)")
    p.add_argument("--dirs", default=d.dirs, help="trajectory, random or edit:NAME,NAME")
    p.add_argument("--grid", type=int, default=d.grid, help="points per side (odd, 3..257)")
    p.add_argument("--span", type=float, default=d.span, help="half-width of the grid in axis units")
    p.add_argument("--space", default=d.space, choices=("x", "z"), help="x: the latent; z: θ's learned space")
    p.add_argument("--term", default=d.term, choices=("total", "pixel", "lpips", "prior"))
    p.add_argument("--axes-seed", type=seed_arg, default=d.seed, help="seed of random axes")
    p.add_argument("--batch", type=int, default=d.batch, help="latents per forward pass")
    p.add_argument("--steps", type=int, default=100, help="inversion steps run first (its path and result)")
    p.add_argument("--lpips", type=float, default=InversionConfig().loss.lpips, help="LPIPS weight (0 = off)")
    p.add_argument("--landscape", help="θ folder for --space z (default: the model's shipped θ)")
    p.add_argument("--library", type=Path, help="direction library for edit axes (default: the shipped one)")
    add_placement_args(p, align_help="slice around the face aligned to the model's framing (not --crop)")
    p.add_argument("--out", type=Path, required=True, help="folder for slice.npz/.csv/.json/.png and result.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(p)


def cmd_slice(args: argparse.Namespace) -> int:
    config = SliceConfig(dirs=args.dirs, grid=args.grid, span=args.span, space=args.space, term=args.term,
                         seed=args.axes_seed, batch=args.batch)
    config.validate()
    if args.steps < 2:
        raise InvalidInputError(f"--steps must be at least 2, so the inversion has a path (got {args.steps}).")
    if (args.photo is None) == (args.seed is None):
        raise InvalidInputError("Give either a PHOTO or --seed S (not both).")
    inversion = InversionConfig(steps=args.steps).with_changes(loss_lpips=args.lpips)
    inversion.validate()
    with result_folder(args.out) as out:  # one complete run in --out, or the previous one untouched
        G = load_model(args)
        photo = placement = target = None
        if args.seed is not None:
            with torch.no_grad():
                target = to_uint8_hwc(G.sample(1, args.seed))[0]  # uint8 [R, R, 3]: a face whose latent is known
        else:
            photo = load_photo(args.photo)
            placement = photo_placement(args, photo, G)
        library = None
        if config.dirs.startswith("edit:"):
            from core.directions import DirectionLibrary, shipped_library_dir

            library = DirectionLibrary.load(args.library or shipped_library_dir(G.name))
        token = CancelToken()
        bar = tqdm(total=config.grid, desc="slicing", unit="row", file=sys.stderr, disable=args.quiet)
        with first_ctrl_c_cancels(token):
            done: PhotoSlice = run_job(
                slice_photo(G, photo, placement=placement, inversion=inversion, config=config, target=target,
                            theta=args.landscape, library=library, cancel=token),
                lambda record: bar.update(1) if isinstance(record, SliceRow) else None)
        bar.close()
        landscape = done.slice
        save_slice(landscape, out)
        save_image(done.inversion.best_image, out / "result.png")
        save_image(done.target, out / "target.png")
        explained = ("" if landscape.explained_variance is None else
                     f", axes explain {100 * landscape.explained_variance.sum():.1f} % of the path")
        state = "cancelled, partial" if landscape.cancelled else f"{config.grid}×{config.grid}"
        print(f"{state} slice in {config.space} of '{config.term}' (centre {landscape.center_loss:.4g}, "
              f"{landscape.seconds:.1f} s{explained}). Written to {args.out.resolve()}")
        return 130 if landscape.cancelled else 0
