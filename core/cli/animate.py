"""``landscape-studio animate``: an edit swept from a to b, a walk through latents, or an inversion's progress, as
an MP4 (H.264) or GIF, with every frame composited into the photo at its resolution."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.animation import (
    EASINGS,
    AnimationProgress,
    AnimationResult,
    Backdrop,
    ClipTiming,
    Sweep,
    backdrop_for,
    check_max_side,
    clip_format,
    progress_latents,
    sweep_latents,
    walk_latents,
    write_animation,
)
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
from core.cli.edit import MAX_AMOUNT, edit_directions, load_one_latent
from core.cli.invert import add_method_args, add_optimizer_args, config_from
from core.cli.progress import drive_inversion, first_ctrl_c_cancels
from core.cli.render import load_latents
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import load_photo
from core.inversion import METHODS
from core.jobs import CancelToken, observed, run_job
from core.photo_jobs import invert_photo


def _sweep_arg(text: str) -> tuple[str, float, float]:
    """``NAME=A:B`` (from A to B std units) or ``NAME=B`` (from 0), as typed after ``--dir``."""
    name, sep, span = text.rpartition("=")
    start_text, colon, end_text = span.partition(":")
    try:
        start, end = (float(start_text), float(end_text)) if colon else (0.0, float(span))
    except ValueError:
        start = end = math.nan
    if not sep or not name.strip() or not (math.isfinite(start) and math.isfinite(end)):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=A:B or NAME=B with finite amounts, e.g. age=-2:2")
    if max(abs(start), abs(end)) > MAX_AMOUNT:
        raise argparse.ArgumentTypeError(f"the amounts in '{text}' are beyond ±{MAX_AMOUNT:g} std units")
    return name.strip(), start, end


def _add_clip_args(p: argparse.ArgumentParser) -> None:
    d = ClipTiming()
    p.add_argument("--out", type=Path, required=True, help="the clip: .mp4 (H.264) or .gif")
    p.add_argument("--fps", type=float, default=d.fps, help=f"frames per second (default {d.fps:g})")
    p.add_argument("--seconds", type=float, default=d.seconds, help=f"length of the clip (default {d.seconds:g})")
    p.add_argument("--easing", choices=EASINGS, default=d.easing, help="how motion starts and stops at keyframes")
    p.add_argument("--loop", action="store_true", help="end where the clip began, to play on repeat (an edit goes "
                                                       "there and back; a walk returns to its first latent)")
    p.add_argument("--size", type=int, help="the clip's longer side in px (default: the photo's resolution, or the "
                                            "model's render; a GIF at most 640)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(p)


def add_animate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("animate", help="export an edit, a walk through latents or an inversion's progress as a clip")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="{edit,walk,inversion}")
    edit = kinds.add_parser("edit", help="sweep directions from a to b on a photo's latent")
    edit.add_argument("photo", type=Path)
    edit.add_argument("--latent", type=Path, required=True, help="the photo's latent (.npy written by invert)")
    edit.add_argument("--dir", dest="sweeps", action="append", type=_sweep_arg, default=[], metavar="NAME=A:B",
                      help="a direction and its amounts in std units, from A to B (NAME=B: from 0); repeatable")
    edit.add_argument("--library", type=Path, help="direction library folder, searched before the model's own")
    _add_photo_args(edit)
    _add_clip_args(edit)
    walk = kinds.add_parser("walk", help="walk through latents and seeds, in the order given")
    walk.add_argument("--latent", dest="keyframes", action="append", type=lambda t: ("latent", Path(t)),
                      metavar="NPY", help="latent file (one code, or a batch: each row a keyframe); repeatable")
    walk.add_argument("--seed", dest="keyframes", action="append", type=lambda t: ("seed", seed_arg(t)),
                      metavar="N", help="the model's sample of this seed as a keyframe; repeatable")
    walk.add_argument("--photo", type=Path, help="composite the walk into this photo (the first latent is its face)")
    _add_photo_args(walk)
    _add_clip_args(walk)
    inv = kinds.add_parser("inversion", help="invert a photo and show the latent's path from start to result")
    inv.add_argument("photo", type=Path)
    inv.add_argument("--method", default="direct", choices=METHODS,
                     help="pivotal: the clip shows the pivot's path; tuning moves weights, not the latent")
    add_placement_args(inv, align_help="find the face and align it to the model's framing")
    inv.add_argument("--feather", type=float, default=0.08, help="seam width as a fraction of the square (0..0.5)")
    add_optimizer_args(inv)
    add_method_args(inv)
    _add_clip_args(inv)


def _add_photo_args(p: argparse.ArgumentParser) -> None:
    add_placement_args(p, align_help="the latent was inverted with invert --align: composite through the same "
                                     "face alignment")
    p.add_argument("--feather", type=float, default=0.08, help="seam width as a fraction of the crop (0..0.5)")
    add_composite_arg(p)


def cmd_animate(args: argparse.Namespace) -> int:
    clip_format(args.out)  # a wrong suffix or size fails before anything loads
    check_max_side(args.size)
    check_feather(args.feather)
    timing = ClipTiming(fps=args.fps, seconds=args.seconds, easing=args.easing, loop=args.loop)
    timing.validate()
    G = load_model(args)
    what = {"edit": _edit_frames, "walk": _walk_frames, "inversion": _inversion_frames}[args.kind]
    latents, space, backdrop = what(args, G, timing)
    result = _write(G, latents, space, backdrop, args, timing)
    if result.cancelled:
        print(f"Cancelled after {result.frames} frames; no file was written.")
        return EXIT_INTERRUPTED
    width, height = result.size
    print(f"{result.frames} frames ({timing.seconds:g} s at {timing.fps:g} fps, {width}x{height}) written to "
          f"{result.path.resolve() if result.path else args.out} in {result.seconds:.1f} s")
    return 0


def _photo_backdrop(args: argparse.Namespace, G: Generator, latent: np.ndarray, space: str | None,
                    composite: str) -> Backdrop:
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)
    placement = photo_placement(args, photo, G)
    return backdrop_for(G, photo.pixels, placement, latent=latent, space=space, composite=composite,
                        feather=args.feather)


def _edit_frames(args: argparse.Namespace, G: Generator,
                 timing: ClipTiming) -> tuple[list[np.ndarray], str | None, Backdrop]:
    if not args.sweeps:
        raise InvalidInputError("Name at least one direction to sweep, e.g. --dir age=-2:2.")
    latent = load_one_latent(args.latent, G.space().shape)
    args.edits = [(name, end) for name, _start, end in args.sweeps]
    directions = [d for d, _ in edit_directions(args, G)]
    sweeps = [Sweep(d, start, end) for d, (_name, start, end) in zip(directions, args.sweeps, strict=True)]
    frames, space = sweep_latents(G, latent, None, sweeps, timing)
    return frames, space, _photo_backdrop(args, G, latent, None, args.composite)


def _walk_frames(args: argparse.Namespace, G: Generator,
                 timing: ClipTiming) -> tuple[list[np.ndarray], str | None, Backdrop | None]:
    shape = G.space().shape
    keyframes: list[np.ndarray] = []
    for kind, value in args.keyframes or []:
        if kind == "seed":
            keyframes.append(G.sample_latent(1, value)[0].cpu().numpy())
        else:
            keyframes.extend(load_latents(value, shape))
    if len(keyframes) < 2:
        raise InvalidInputError("A walk needs at least 2 keyframes: give --latent files and/or --seed numbers.")
    backdrop = None if args.photo is None else _photo_backdrop(args, G, keyframes[0], None, args.composite)
    return walk_latents(G, keyframes, None, timing), None, backdrop


def _inversion_frames(args: argparse.Namespace, G: Generator,
                      timing: ClipTiming) -> tuple[list[np.ndarray], str | None, Backdrop]:
    config = config_from(args)
    config.validate()
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)
    placement = photo_placement(args, photo, G)
    path: list[np.ndarray] = []  # [K, *shape] per step

    def build(token: CancelToken) -> Any:
        job = invert_photo(G, photo, placement=placement, config=config, theta=args.landscape,
                           feather=args.feather, cancel=token)
        return observed(job, lambda step: path.append(step.latent))

    done = drive_inversion(build, config.steps, args.quiet, "inverting")
    best = done.result.best_index
    frames = progress_latents([latents[best] for latents in path], timing)
    backdrop = Backdrop(pixels=photo.pixels, placement=done.placement, feather=args.feather)  # the face pasted
    return frames, done.result.space, backdrop


def _write(G: Generator, latents: list[np.ndarray], space: str | None, backdrop: Backdrop | None,
           args: argparse.Namespace, timing: ClipTiming) -> AnimationResult:
    token = CancelToken()
    bar = tqdm(total=len(latents), desc="animating", unit="frame", file=sys.stderr, disable=args.quiet)

    def on_step(progress: AnimationProgress) -> None:
        bar.update(progress.frame - bar.n)

    try:
        with first_ctrl_c_cancels(token):
            return run_job(write_animation(G, latents, space, path=args.out, fps=timing.fps,
                                           compose=None if backdrop is None else backdrop.compose,
                                           source_size=None if backdrop is None else backdrop.size,
                                           max_side=args.size, cancel=token), on_step)
    finally:
        bar.close()
