"""``landscape-studio directions discover|list``: unsupervised directions to a library folder, and its listing."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import OneLineParser, add_model_args, seed_arg
from core.device import pick_device
from core.directions import DISCOVERY_METHODS, DirectionLibrary, contact_sheet, discover_directions, shipped_library_dir
from core.directions.attributes import classifier_for, measure_edit
from core.directions.pca import DEFAULT_SAMPLES
from core.errors import InvalidInputError
from core.generators import DEFAULT_MODEL, builtin_models, load_generator
from core.imageio import save_image


def add_directions_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``directions discover`` and ``directions list`` (the CLI passes its parser class and model args)."""
    p = sub.add_parser("directions", help="discover or list latent editing directions")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=OneLineParser, required=True)
    disc = actions.add_parser("discover", help="find directions without labels and write them as a library")
    disc.add_argument("--method", default="sefa", choices=DISCOVERY_METHODS)
    disc.add_argument("--count", type=int, default=10, help="how many components")
    disc.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="sampled faces (pca, attributes)")
    disc.add_argument("--seed", type=seed_arg, default=0, help="first seed of the samples (pca, attributes)")
    disc.add_argument("--layers", type=_layers_arg, help="FIRST-LAST w+ rows, inclusive (sefa on StyleGAN2 only): "
                      "factorise those rows' style affines; the directions move only those rows")
    disc.add_argument("--out", type=Path, required=True, help="library folder to write")
    disc.add_argument("--replace", action="store_true", help="overwrite a library already in --out")
    disc.add_argument("--sheet", type=Path, help="also write a contact sheet (PNG/JPEG): α = −3…+3 on 3 faces")
    add_model_args(disc)
    lst = actions.add_parser("list", help="names, method and range of a library's directions")
    lst.add_argument("--library", type=Path, help="library folder (default: the model's shipped library)")
    add_model_args(lst)


def _layers_arg(text: str) -> tuple[int, int]:
    """``FIRST-LAST`` (inclusive, as ``directions list`` shows them) → the half-open range (FIRST, LAST + 1)."""
    first, sep, last = text.partition("-")
    try:
        start, stop = int(first), int(last if sep else first) + 1
    except ValueError:
        start = stop = -1
    if not 0 <= start < stop:
        raise argparse.ArgumentTypeError(f"'{text}' is not a layer range FIRST-LAST such as 0-3")
    return start, stop


def cmd_directions(args: argparse.Namespace) -> int:
    return _directions_discover(args) if args.action == "discover" else _directions_list(args)


def _directions_discover(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= 512:
        raise InvalidInputError(f"--count must be between 1 and 512 (got {args.count}).")
    if (args.out / "library.json").exists() and not args.replace:
        raise InvalidInputError(f"'{args.out}' already holds a direction library; add --replace to overwrite it.")
    G = load_generator(args.model, pick_device(args.device))
    directions, figures = discover_directions(G, args.method, args.count, args.samples, args.seed, args.layers)
    DirectionLibrary(directions).save(args.out)
    what = {"sefa": "eigenvalue", "pca": "explained variance", "attributes": "boundary accuracy"}[args.method]
    for direction, figure in zip(directions, figures, strict=True):
        print(f"{direction.name}  {what} {figure:.4g}")
    if args.method == "attributes":
        classifier = classifier_for(G)
        for direction in directions:
            effect = measure_edit(G, direction, 2.0, faces=64, classifier=classifier)
            print(f"{direction.name} +2 on 64 held-out faces: {effect.summary()}")
    if args.sheet is not None:
        save_image(contact_sheet(G, directions), args.sheet)
        print(f"contact sheet written to {args.sheet.resolve()}")
    print(f"{len(directions)} {args.method} directions of {G.model_id} written to {args.out.resolve()}")
    return 0


def _directions_list(args: argparse.Namespace) -> int:
    if args.model in ("", "default"):
        name = DEFAULT_MODEL
    else:
        name = args.model if args.model in builtin_models() else load_generator(args.model).name
    folder = args.library or shipped_library_dir(name)
    if args.library is None and not (folder / "library.json").is_file():
        print(f"No directions are shipped for {name}; make some with 'landscape-studio directions discover'.")
        return 0
    library = DirectionLibrary.load(folder)
    rows = [(d.name, d.method, f"{d.value_range[0]:+g}…{d.value_range[1]:+g}", d.space,
             "all" if d.layers is None else f"{d.layers[0]}–{d.layers[1] - 1}") for d in library]
    widths = [max(len(r[i]) for r in [("name", "method", "range", "space", "layers"), *rows]) for i in range(5)]
    for row in [("name", "method", "range", "space", "layers"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(library)} directions in {Path(folder).resolve()}")
    return 0
