"""``landscape-studio edit``: move a photo's latent along named directions and composite the result back."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from core.cli.common import (
    add_composite_arg,
    add_model_args,
    add_placement_args,
    check_feather,
    load_model,
    photo_placement,
)
from core.cli.render import load_latents
from core.directions import Direction, find_direction
from core.directions.recipes import standard_libraries
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import load_photo, save_image
from core.jobs import run_job
from core.photo_jobs import edit_photo

MAX_AMOUNT = 1000.0  # std units along a direction

def _edit_arg(text: str) -> tuple[str, float]:
    """``NAME=AMOUNT`` (AMOUNT in std units; NAME a library name or an .npy path) as typed after ``--dir``."""
    name, sep, amount = text.rpartition("=")
    try:
        value = float(amount)
    except ValueError:
        value = math.nan
    if not sep or not name.strip() or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=AMOUNT with a finite amount, e.g. smile=1.5")
    if abs(value) > MAX_AMOUNT:  # 1e300 std units is no edit: the latent turns into inf and the image black
        raise argparse.ArgumentTypeError(f"the amount in '{text}' is beyond ±{MAX_AMOUNT:g} std units; edits "
                                         "that look like anything stay within ±10")
    return name.strip(), value


def add_edit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="move a photo's latent along named directions and paste the result back")
    p.add_argument("photo", type=Path)
    p.add_argument("--latent", type=Path, required=True, help="the photo's latent (.npy written by invert)")
    p.add_argument("--dir", dest="edits", action="append", type=_edit_arg, default=[], metavar="NAME=AMOUNT",
                   help="a direction (library name or .npy file) and its amount in std units; repeatable")
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="pull the edited code toward the model's average: 1 = unchanged, 0 = the average face "
                        "(the same as --dir truncation=1-PSI)")
    p.add_argument("--mix", action="append", default=[], metavar="LAYERS:SOURCE",
                   help="style mixing (StyleGAN-family models): LAYERS coarse|middle|fine|START-STOP take SOURCE's "
                        "styles, SOURCE seed=N or a latent .npy; the same as --dir mix:LAYERS:SOURCE=1; repeatable")
    p.add_argument("--library", type=Path, help="direction library folder, searched before the model's shipped one")
    add_placement_args(p, align_help="the latent was inverted with invert --align: paste back through the same "
                                     "face alignment")
    p.add_argument("--feather", type=float, default=0.08, help="seam width as a fraction of the crop (0..0.5)")
    p.add_argument("--out", type=Path, required=True, help="PNG or JPEG, at the photo's resolution")
    add_composite_arg(p)
    add_model_args(p)


def load_one_latent(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A latent .npy of the model's per-sample ``shape`` (or [1, *shape]) as float32 [*shape], never unpickled."""
    batch = load_latents(path, shape)  # the checks render uses: plain numeric, right shape, finite
    if len(batch) != 1:
        raise InvalidInputError(f"'{path.name}' holds {len(batch)} latents; edit takes one (e.g. latent.npy).")
    return batch[0]


def edit_directions(args: argparse.Namespace, G: Generator) -> list[tuple[Direction, float]]:
    libraries = standard_libraries(G, args.library)
    named = list(args.edits)
    if getattr(args, "truncation", None) is not None:
        if not 0.0 <= args.truncation <= 1.0:
            raise InvalidInputError(f"--truncation must be from 0 (the average face) to 1 (got {args.truncation}).")
        named.append(("truncation", 1.0 - args.truncation))
    named += [(f"mix:{spec}", 1.0) for spec in getattr(args, "mix", [])]
    edits = [(find_direction(name, G, libraries), amount) for name, amount in named]
    for direction, _ in edits:
        if direction.space != G.default_space and not (direction.layers is not None and direction.space == "w+"):
            raise InvalidInputError(f"Direction '{direction.name}' moves '{direction.space}' codes, but the latent "
                                    f"is a '{G.default_space}' code.")
        if direction.model_id != G.model_id:
            print(f"warning: direction '{direction.name}' was made for {direction.model_id}, not {G.model_id}",
                  file=sys.stderr)
    return edits


def cmd_edit(args: argparse.Namespace) -> int:
    check_feather(args.feather)
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)
    G = load_model(args)
    latent = load_one_latent(args.latent, G.space().shape)  # [*shape]
    edits = edit_directions(args, G)
    placement = photo_placement(args, photo, G)
    done = run_job(edit_photo(G, photo, placement=placement, latent=latent, edits=edits, feather=args.feather,
                              composite=args.composite))
    path = save_image(done.photo, args.out, exif=photo.exif)
    applied = ", ".join(f"{d.name} {a:+g}" for d, a in edits) or "no edits"
    print(f"{applied}: {placement.describe()} of the {photo.width}x{photo.height} photo written to {path.resolve()}")
    return 0
