"""``landscape-studio`` headless commands: invert, align, sample, render, edit, animate, drag, directions, inpaint,
restore, slice, train-landscape, train-encoder, info, models, batch. Each is a thin layer over the photo-level jobs
the editor runs too.

Bad input ends in a one-line ``error: …`` and exit code 2, never a traceback. Ctrl-C during a run stops it at the
next step and still writes the best result so far (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from core import __version__
from core.allocator import keep_freed_memory
from core.cli.align import add_align_parser, cmd_align
from core.cli.animate import add_animate_parser, cmd_animate
from core.cli.batch import add_batch_parser, cmd_batch
from core.cli.common import OneLineParser
from core.cli.directions import add_directions_parser, cmd_directions
from core.cli.drag import add_drag_parser, cmd_drag
from core.cli.edit import add_edit_parser, cmd_edit
from core.cli.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from core.cli.info import add_info_parser, add_sample_parser, cmd_info, cmd_sample
from core.cli.inpaint import add_inpaint_parser, cmd_inpaint
from core.cli.invert import add_invert_parser, cmd_invert
from core.cli.models import add_models_parser, cmd_models
from core.cli.render import add_render_parser, cmd_render
from core.cli.restore import add_restore_parser, cmd_restore
from core.cli.slice import add_slice_parser, cmd_slice
from core.cli.train_encoder import add_train_encoder_parser, cmd_train_encoder
from core.cli.train_landscape import add_train_landscape_parser, cmd_train_landscape
from core.errors import CoreError

# command → (adds its parser, runs it); the order is the order of ``--help``
COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "invert": (add_invert_parser, cmd_invert),
    "sample": (add_sample_parser, cmd_sample),
    "train-landscape": (add_train_landscape_parser, cmd_train_landscape),
    "edit": (add_edit_parser, cmd_edit),
    "animate": (add_animate_parser, cmd_animate),
    "drag": (add_drag_parser, cmd_drag),
    "directions": (add_directions_parser, cmd_directions),
    "inpaint": (add_inpaint_parser, cmd_inpaint),
    "restore": (add_restore_parser, cmd_restore),
    "slice": (add_slice_parser, cmd_slice),
    "train-encoder": (add_train_encoder_parser, cmd_train_encoder),
    "render": (add_render_parser, cmd_render),
    "align": (add_align_parser, cmd_align),
    "info": (add_info_parser, cmd_info),
    "models": (add_models_parser, cmd_models),
    "batch": (add_batch_parser, cmd_batch),
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="landscape-studio", description=(
        "Edit photos by inverting a generator. With no command (or with a PHOTO) it opens the editor."))
    parser.add_argument("--version", action="version", version=f"landscape-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for add_parser, _run in COMMANDS.values():
        add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                            format="%(levelname)s: %(message)s")
        keep_freed_memory()
        return COMMANDS[args.command][1](args)
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
