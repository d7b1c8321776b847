"""What every command shares: one-line argument errors, the model and crop arguments, exit codes, progress."""

from __future__ import annotations

import argparse
import math

from core.cli.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED  # noqa: F401  (EXIT_INTERRUPTED: shared with the commands)
from core.device import check_seed, pick_device
from core.distributed import World, join_world
from core.errors import InvalidInputError
from core.generators import Generator, load_generator
from core.imageio import CropBox, Photo
from core.photo_jobs import placement_for
from core.placement import COMPOSITE_MODES, DEFAULT_COMPOSITE, Placement
from core.placement.blend import MAX_FEATHER


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line (``error: …``) and exit code 2, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def crop_arg(text: str) -> CropBox:
    try:
        return CropBox.parse(text)
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def seed_arg(text: str) -> int:
    """A seed as typed: a whole number that fits the RNG (2**70 overflows torch deep inside a run)."""
    try:
        return check_seed(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number (got '{text}')") from exc
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def check_feather(feather: float) -> None:
    """A seam width as a fraction of the square's side, checked before the run (compositing checks it only after)."""
    if not 0.0 <= feather <= MAX_FEATHER:  # NaN fails both comparisons
        raise InvalidInputError(f"--feather must be a number from 0 to {MAX_FEATHER} (got {feather}).")


def positive_arg(text: str) -> float:
    """A finite number above 0 (minutes of a run)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number above 0")
    return value


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="default", help="default (the embedded DCGAN), ffhq (the photoreal model, once "
                                                    "installed: see `landscape-studio models`) or a model file")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")


def add_placement_args(p: argparse.ArgumentParser, *, align_help: str) -> None:
    """``--crop`` or ``--align [--face N]``: where the model's square lies in the photo."""
    p.add_argument("--crop", type=crop_arg, help="X,Y,SIZE square in photo pixels (default: the largest centred "
                                                 "square, or a bundled sample's face box)")
    p.add_argument("--align", action="store_true", help=align_help)
    p.add_argument("--face", type=int, default=0, help="with --align: which face, 0 = the largest")


def add_composite_arg(p: argparse.ArgumentParser) -> None:
    """``--composite detail|replace``: how the result enters the photo."""
    p.add_argument("--composite", choices=COMPOSITE_MODES, default=DEFAULT_COMPOSITE,
                   help="detail (default): add only what the model changes, keeping the photo's own detail; "
                        "replace: paste the model's face over the photo")


def join_training_world(args: argparse.Namespace) -> World:
    """Under ``torchrun``: join the process group, train on this process's device (its GPU on CUDA machines) and
    leave the progress bar and messages to rank 0."""
    world, device = join_world(pick_device(args.device))
    args.device = str(device)
    if not world.is_main:
        args.quiet = True
    return world


def load_model(args: argparse.Namespace) -> Generator:
    return load_generator(args.model, pick_device(args.device))


def photo_placement(args: argparse.Namespace, photo: Photo, G: Generator) -> Placement:
    """The placement a command line asks for (``--crop``/``--align``/``--face``), checked against the photo."""
    if args.align and args.crop is not None:
        raise InvalidInputError("--align finds the face square itself; leave out --crop.")
    return placement_for(photo, G, crop=args.crop, align=args.align, face=args.face)
