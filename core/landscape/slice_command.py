"""``landscape-studio slice``: invert a photo (or a generated face of a known seed), then write the loss
landscape around the result (see ``core.landscape.slicing``). Registered by ``core.cli``, which owns the one-line
error handling (exit 2)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from core.cli_progress import first_ctrl_c_cancels
from core.device import from_uint8_hwc, pick_device, to_uint8_hwc
from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import CropBox, crop_and_resize, load_photo, save_image
from core.inversion import InversionConfig, InversionStep, invert
from core.jobs import CancelToken, run_job
from core.landscape.slicing import (
    SliceConfig,
    SliceRow,
    landscape_trajectory,
    latent_trajectory,
    save_slice,
    slice_for_photo,
)
from core.resources import sample_face_crop


def add_slice_parser(sub: argparse._SubParsersAction, add_model_args: Callable[[argparse.ArgumentParser], None],
                     crop_arg: Callable[[str], CropBox]) -> None:
    d = SliceConfig()
    p = sub.add_parser("slice", help="invert, then plot the loss landscape around the result (2-D slice)")
    p.add_argument("photo", type=Path, nargs="?", help="photo to invert (or --seed for a generated face)")
    p.add_argument("--seed", type=int, help="target = the model's face of this seed (its latent is known)")
    p.add_argument("--dirs", default=d.dirs, help="trajectory, random or edit:NAME,NAME")
    p.add_argument("--grid", type=int, default=d.grid, help="points per side (odd, 3..257)")
    p.add_argument("--span", type=float, default=d.span, help="half-width of the grid in axis units")
    p.add_argument("--space", default=d.space, choices=("x", "z"), help="x: the latent; z: θ's learned space")
    p.add_argument("--term", default=d.term, choices=("total", "pixel", "lpips", "prior"))
    p.add_argument("--axes-seed", type=int, default=d.seed, help="seed of random axes")
    p.add_argument("--batch", type=int, default=d.batch, help="latents per forward pass")
    p.add_argument("--steps", type=int, default=100, help="inversion steps run first (its path and result)")
    p.add_argument("--lpips", type=float, default=InversionConfig().loss.lpips, help="LPIPS weight (0 = off)")
    p.add_argument("--library", type=Path, help="direction library for edit axes (default: the shipped one)")
    p.add_argument("--crop", type=crop_arg, help="X,Y,SIZE square in photo pixels (default: as invert)")
    p.add_argument("--out", type=Path, required=True, help="folder for slice.npz/.csv/.json/.png and result.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(p)


def _target(args: argparse.Namespace, G: object) -> np.ndarray:
    """uint8 [R, R, 3]: the photo's crop, or the face of ``--seed``."""
    if (args.photo is None) == (args.seed is None):
        raise InvalidInputError("Give either a PHOTO or --seed S (not both).")
    if args.seed is not None:
        with torch.no_grad():
            return to_uint8_hwc(G.sample(1, args.seed))[0]  # type: ignore[attr-defined]
    photo = load_photo(args.photo)
    recorded = sample_face_crop(args.photo)
    box = args.crop or (CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height))
    box.validate(photo.width, photo.height)
    return crop_and_resize(photo.pixels, box, G.resolution)  # type: ignore[attr-defined]


def cmd_slice(args: argparse.Namespace) -> int:
    config = SliceConfig(dirs=args.dirs, grid=args.grid, span=args.span, space=args.space, term=args.term,
                         seed=args.axes_seed, batch=args.batch)
    config.validate()
    if args.steps < 2:
        raise InvalidInputError(f"--steps must be at least 2, so the inversion has a path (got {args.steps}).")
    method = "landscape" if config.space == "z" else "direct"
    inversion = InversionConfig(method=method, steps=args.steps, preview_every=10_000).with_changes(
        loss_lpips=args.lpips)
    inversion.validate()
    G = load_generator(args.model, pick_device(args.device))
    pixels = _target(args, G)
    target = from_uint8_hwc(pixels, G.device)
    library = None
    if config.dirs.startswith("edit:"):
        from core.directions import DirectionLibrary, shipped_library_dir

        library = DirectionLibrary.load(args.library or shipped_library_dir(G.name))
    steps: list[InversionStep] = []
    token = CancelToken()
    with first_ctrl_c_cancels(token):
        result = run_job(invert(G, target, inversion, None, token), steps.append)
        if config.space == "z":
            trajectory, center = landscape_trajectory(steps), None
        else:
            trajectory = np.concatenate([latent_trajectory(steps), result.best_latent[None]])
            center = result.best_latent
        bar = tqdm(total=config.grid, desc="slicing", unit="row", file=sys.stderr, disable=args.quiet)
        job = slice_for_photo(G, target, None, inversion, config, trajectory, library=library, cancel=token,
                              center=center)
        landscape = run_job(job, lambda row: _advance(bar, row))
        bar.close()
    paths = save_slice(landscape, args.out)
    save_image(result.best_image, args.out / "result.png")
    save_image(pixels, args.out / "target.png")
    explained = ("" if landscape.explained_variance is None else
                 f", axes explain {100 * landscape.explained_variance.sum():.1f} % of the path")
    state = "cancelled, partial" if landscape.cancelled else f"{config.grid}×{config.grid}"
    print(f"{state} slice in {config.space} of '{config.term}' (centre {landscape.center_loss:.4g}, "
          f"{landscape.seconds:.1f} s{explained}). Written to {paths['png'].parent.resolve()}")
    return 130 if landscape.cancelled else 0


def _advance(bar: tqdm, row: SliceRow) -> None:
    bar.update(1)
