"""``landscape-studio`` headless commands: invert, align, sample, render, edit, directions, inpaint, restore, slice,
info.
They call the same core code as the GUI.

Bad input ends in a one-line ``error: …`` and exit code 2, never a traceback. Ctrl-C during an inversion stops
it at the next step and still writes the best result so far (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from core import __version__
from core.alignment.align import unwarp_and_paste
from core.alignment.commands import add_align_parser, aligned_target, cmd_align
from core.cli_progress import drive_inversion
from core.device import from_uint8_hwc, pick_device, to_uint8_hwc
from core.directions import DirectionLibrary, apply_directions, find_direction, shipped_library_dir
from core.directions.commands import add_directions_parser, run_directions
from core.directions.library import Direction
from core.errors import CoreError, InvalidInputError
from core.generators import Generator, load_generator
from core.generators.render_command import add_render_parser, cmd_render, load_latents
from core.imageio import CropBox, crop_and_resize, crop_and_resize_mask, load_mask, load_photo, save_image
from core.inpainting.blend import paste_back
from core.inpainting.commands import add_inpainting_parsers, cmd_inpaint, cmd_restore
from core.inversion import METHODS, InversionConfig, invert
from core.inversion.config import REFINE_METHODS
from core.inversion.encoder_command import add_encoder_parser, cmd_train_encoder
from core.inversion.report import RunContext, write_outputs
from core.landscape.slice_command import add_slice_parser, cmd_slice
from core.resources import sample_face_crop
from core.system_info import system_info

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line (``error: …``) and exit code 2, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def _crop_arg(text: str) -> CropBox:
    try:
        return CropBox.parse(text)
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="default", help="built-in model name or model file (default: the DCGAN)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="landscape-studio", description=(
        "Edit photos by inverting a generator. With no command (or with a PHOTO) it opens the editor."))
    parser.add_argument("--version", action="version", version=f"landscape-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    inv = sub.add_parser("invert", help="find the latent code whose image matches a photo")
    inv.add_argument("photo", type=Path)
    inv.add_argument("--out", type=Path, required=True, help="folder for images, latents and report.json")
    inv.add_argument("--method", default="direct", choices=METHODS)
    inv.add_argument("--mask", type=Path, help="PNG the size of the photo; non-zero pixels are ignored by the loss")
    inv.add_argument("--crop", type=_crop_arg, help="X,Y,SIZE square in photo pixels (default: largest centred)")
    inv.add_argument("--align", action="store_true",
                     help="find the face and align it to the model's framing (instead of a square crop); the "
                          "result is also pasted back into the photo as composite.png")
    inv.add_argument("--face", type=int, default=0, help="with --align: which face, 0 = the largest")
    inv.add_argument("--feather", type=float, default=0.08, help="with --align: seam width as a fraction of the "
                                                                 "square (0..0.5)")
    defaults = InversionConfig()
    inv.add_argument("--steps", type=int, default=defaults.steps)
    inv.add_argument("--lr", type=float, default=defaults.lr)
    inv.add_argument("--schedule", default=defaults.schedule, choices=("constant", "rampdown"))
    inv.add_argument("--noise", type=float, default=defaults.noise, help="early latent noise × latent std")
    inv.add_argument("--warmup-steps", type=int, default=defaults.warmup_steps,
                     help="plain gradient-descent steps before Adam")
    inv.add_argument("--warmup-step", type=float, default=defaults.warmup_step, help="their step size")
    inv.add_argument("--starts", type=int, default=defaults.starts, help="random starts optimised together")
    inv.add_argument("--seed", type=int, default=defaults.seed)
    inv.add_argument("--pixel", type=float, default=defaults.loss.pixel, help="pixel MSE weight")
    inv.add_argument("--lpips", type=float, default=defaults.loss.lpips, help="LPIPS weight (0 = off)")
    inv.add_argument("--lpips-net", default=defaults.loss.lpips_net, choices=("vgg", "alex"))
    inv.add_argument("--prior", type=float, default=defaults.loss.prior, help="latent prior weight")
    inv.add_argument("--landscape", help="θ folder for --method landscape (default: the model's shipped θ)")
    inv.add_argument("--encoder", help="encoder folder for --method encoder/hybrid (default: the shipped one)")
    inv.add_argument("--refine", default=defaults.refine, choices=REFINE_METHODS,
                     help="hybrid: the steps after the encoder's start (auto: landscape where the model has a "
                          "ready θ, else direct)")
    inv.add_argument("--consistency", type=float, default=defaults.consistency,
                     help="hybrid: weight of the encoder consistency term ‖x − E(G(x))‖² (idinvert)")
    inv.add_argument("--pivot", default=defaults.pivot, choices=("direct", "landscape", "encoder", "hybrid"),
                     help="pivotal: the method that finds the pivot (it runs --steps steps)")
    inv.add_argument("--tune-steps", type=int, default=defaults.tune_steps, help="pivotal: generator tuning steps")
    inv.add_argument("--tune-lr", type=float, default=defaults.tune_lr, help="pivotal: tuning learning rate")
    inv.add_argument("--tune-locality", type=float, default=defaults.tune_locality,
                     help="pivotal: weight of the locality regulariser")
    inv.add_argument("--tune-target", type=float, default=defaults.tune_target,
                     help="pivotal: stop tuning once the reconstruction loss is below this")
    inv.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_args(inv)
    smp = sub.add_parser("sample", help="write a grid of random faces from the model")
    smp.add_argument("--n", type=int, default=16)
    smp.add_argument("--seed", type=int, default=0)
    smp.add_argument("--out", type=Path, required=True, help="PNG or JPEG file")
    _add_model_args(smp)
    _add_train_parser(sub)
    _add_edit_parser(sub)
    add_directions_parser(sub, _OneLineParser, _add_model_args)
    add_inpainting_parsers(sub, _add_model_args, _crop_arg)
    add_slice_parser(sub, _add_model_args, _crop_arg)
    add_encoder_parser(sub, _add_model_args)
    add_render_parser(sub, _add_model_args)
    add_align_parser(sub, _add_model_args)
    info = sub.add_parser("info", help="versions, devices, model and LPIPS availability")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    _add_model_args(info)
    return parser


def _config_from(args: argparse.Namespace) -> InversionConfig:
    return InversionConfig(method=args.method, steps=args.steps, lr=args.lr, schedule=args.schedule, noise=args.noise,
                           starts=args.starts, seed=args.seed, landscape=args.landscape,
                           warmup_steps=args.warmup_steps, warmup_step=args.warmup_step, encoder=args.encoder,
                           refine=args.refine, consistency=args.consistency, pivot=args.pivot,
                           tune_steps=args.tune_steps, tune_lr=args.tune_lr, tune_locality=args.tune_locality,
                           tune_target=args.tune_target).with_changes(
        loss_pixel=args.pixel, loss_lpips=args.lpips, loss_lpips_net=args.lpips_net, loss_prior=args.prior)


def cmd_invert(args: argparse.Namespace) -> int:
    config = _config_from(args)
    config.validate()
    began = time.perf_counter()
    photo = load_photo(args.photo)
    if args.align and (args.crop is not None or args.mask is not None):
        raise InvalidInputError("--align chooses the face square itself; leave out --crop and --mask.")
    recorded = sample_face_crop(args.photo)
    box = args.crop or (CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height))
    box.validate(photo.width, photo.height)
    loaded_photo = time.perf_counter()
    G = load_generator(args.model, pick_device(args.device))
    loaded_model = time.perf_counter()
    alignment = None
    if args.align:
        target, alignment, _ = aligned_target(photo.pixels, G, args.face)  # uint8 [R, R, 3]
    else:
        target = crop_and_resize(photo.pixels, box, G.resolution)  # uint8 [R, R, 3]
    aligned = time.perf_counter()
    mask = None
    if args.mask is not None:
        full = load_mask(args.mask, photo.width, photo.height)
        mask = torch.from_numpy(crop_and_resize_mask(full, box, G.resolution))
    result = drive_inversion(lambda token: invert(G, from_uint8_hwc(target, G.device), config, mask, token),
                             config.steps, args.quiet, "inverting")
    timings = {"load_photo": loaded_photo - began, "load_model": loaded_model - loaded_photo}
    extra = {}
    if alignment is not None:
        timings["align"] = aligned - loaded_model
        extra["composite.png"] = unwarp_and_paste(photo.pixels, result.best_image, alignment.transform, args.feather)
    context = RunContext(str(args.photo), (photo.width, photo.height), None if alignment else box.to_dict(),
                         None if args.mask is None else str(args.mask),
                         0.0 if mask is None else float(mask.mean()), str(G.device), timings,
                         None if alignment is None else alignment.to_dict())
    report = write_outputs(args.out, result, target, context, extra)
    m = report["metrics"]
    lpips_text = "n/a" if m["lpips"] is None else f"{m['lpips']:.4f}"
    state = f"cancelled after {result.steps_done} steps" if result.cancelled else f"{result.steps_done} steps"
    print(f"{state}: PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.4f}, LPIPS {lpips_text} "
          f"({result.seconds:.1f} s). Results in {args.out.resolve()}")
    return EXIT_INTERRUPTED if result.cancelled else 0


def image_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """uint8 [N, H, W, 3] → one uint8 image, ``columns`` wide (default: square-ish), black where empty."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * h, columns * w, c), dtype=np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        grid[r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return grid


def cmd_sample(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= 1024:
        raise InvalidInputError(f"--n must be between 1 and 1024 (got {args.n}).")
    G = load_generator(args.model, pick_device(args.device))
    images = to_uint8_hwc(G.sample(args.n, args.seed))
    path = save_image(image_grid(images), args.out)
    print(f"{args.n} faces from {G.model_id} (seed {args.seed}) written to {path.resolve()}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    info = system_info(args.model, args.device)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for section, values in info.items():
        print(f"{section}:")
        for key, value in values.items():
            print(f"  {key}: {value}")
    return 0


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    from core.landscape.learning import LandscapeTrainConfig
    from core.landscape.mapping import DEFAULT_RECIPE, RECIPES

    d = LandscapeTrainConfig()
    p = sub.add_parser("train-landscape", help="train θ: Z→X so a few descent steps in Z invert well")
    p.add_argument("--out", type=Path, required=True, help="folder for θ, its metadata and the checkpoint")
    p.add_argument("--minutes", type=float, default=None,
                   help=f"training time of this run (default {d.minutes:g}, or no limit with --iterations)")
    p.add_argument("--iterations", type=int, default=None,
                   help="stop after this many outer iterations in total: a bit-reproducible budget on one machine")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--inner-steps", type=int, default=d.inner_steps, help="descent steps per trajectory (T)")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--theta-lr", type=float, default=d.theta_lr)
    p.add_argument("--width", type=int, default=d.mapping.width)
    p.add_argument("--depth", type=int, default=d.mapping.depth)
    p.add_argument("--detach", action="store_true", help="first-order training (detached trajectories)")
    p.add_argument("--recipe", choices=tuple(RECIPES), default=DEFAULT_RECIPE,
                   help="θ's kind and descent: 'preconditioned' (default, the shipped θ: the model's curvature "
                        "preconditioner, momentum 0.7, --keep-radius, Adam after the horizon on z with lr 0.1, "
                        "β₂ 0.9, a 10-step ramp) or 'plain' (θ(z) = z + MLP(z), plain descent, then Adam on x); "
                        "the flags below change single settings of it")
    flag = argparse.BooleanOptionalAction
    p.add_argument("--precondition", action=flag, default=None,
                   help="θ carries the model's curvature preconditioner (descent in Z ≈ Gauss-Newton in X)")
    p.add_argument("--damping", type=float, default=d.precondition_damping,
                   help="with the preconditioner: damping λ as a fraction of the largest curvature eigenvalue")
    p.add_argument("--momentum", type=float, default=None,
                   help="heavy-ball momentum of the descent steps in Z (0: plain gradient descent)")
    p.add_argument("--keep-radius", action=flag, default=None,
                   help="descent in Z keeps ‖θ(z)‖ at its start's (x stays on the prior's shell)")
    p.add_argument("--handover-beta2", type=float, default=None, help="Adam's β₂ for the steps after θ's horizon")
    p.add_argument("--handover-ramp", type=int, default=None,
                   help="that Adam's learning rate rises linearly over this many steps")
    p.add_argument("--handover-in-z", action=flag, default=None,
                   help="after θ's horizon Adam goes on descending z (x = θ(z)) instead of x itself")
    p.add_argument("--handover-lr", type=float, default=None,
                   help="that Adam's learning rate (the plain recipe: the inversion's own lr)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--gate-faces", type=int, default=32, help="held-out faces for the validation gate")
    p.add_argument("--validate-every", type=int, default=d.validate_every,
                   help="iterations between scorings on validation faces; the best θ is kept (0 = keep the last)")
    p.add_argument("--validation-faces", type=int, default=d.validation_faces)
    p.add_argument("--quiet", action="store_true")
    _add_model_args(p)


def cmd_train_landscape(args: argparse.Namespace) -> int:
    from core.landscape.train_command import train_and_gate

    return train_and_gate(args)


def _edit_arg(text: str) -> tuple[str, float]:
    """``NAME=AMOUNT`` (AMOUNT in std units; NAME a library name or an .npy path) as typed after ``--dir``."""
    name, sep, amount = text.rpartition("=")
    try:
        value = float(amount)
    except ValueError:
        value = math.nan
    if not sep or not name.strip() or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=AMOUNT with a finite amount, e.g. smile=1.5")
    return name.strip(), value


def _add_edit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("edit", help="move a photo's latent along named directions and paste the result back")
    p.add_argument("photo", type=Path)
    p.add_argument("--latent", type=Path, required=True, help="the photo's latent (.npy written by invert)")
    p.add_argument("--dir", dest="edits", action="append", type=_edit_arg, default=[], metavar="NAME=AMOUNT",
                   help="a direction (library name or .npy file) and its amount in std units; repeatable")
    p.add_argument("--crop", type=_crop_arg, help="X,Y,SIZE the latent was inverted on (default: as invert)")
    p.add_argument("--library", type=Path, help="direction library folder, searched before the model's shipped one")
    p.add_argument("--align", action="store_true", help="the latent was inverted with invert --align: paste back "
                                                        "through the same face alignment")
    p.add_argument("--face", type=int, default=0, help="with --align: which face, 0 = the largest")
    p.add_argument("--feather", type=float, default=0.08, help="seam width as a fraction of the crop (0..0.5)")
    p.add_argument("--out", type=Path, required=True, help="PNG or JPEG, at the photo's resolution")
    _add_model_args(p)


def _load_latent(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A latent .npy of the model's per-sample ``shape`` (or [1, *shape]) as float32 [*shape], never unpickled."""
    batch = load_latents(path, shape)  # the checks render uses: plain numeric, right shape, finite
    if len(batch) != 1:
        raise InvalidInputError(f"'{path.name}' holds {len(batch)} latents; edit takes one (e.g. latent.npy).")
    return batch[0]


def _libraries(folder: Path | None, model_name: str) -> list[DirectionLibrary]:
    """The given library (if any), then the model's shipped one (if it has one)."""
    found = [DirectionLibrary.load(folder)] if folder is not None else []
    shipped = shipped_library_dir(model_name)
    if (shipped / "library.json").is_file():
        found.append(DirectionLibrary.load(shipped))
    return found


def _edit_directions(args: argparse.Namespace, G: Generator) -> list[tuple[Direction, float]]:
    libraries = _libraries(args.library, G.name)
    edits = [(find_direction(name, G, libraries), amount) for name, amount in args.edits]
    for direction, _ in edits:
        if direction.space != G.default_space:
            raise InvalidInputError(f"Direction '{direction.name}' moves '{direction.space}' codes, but the latent "
                                    f"is a '{G.default_space}' code.")
        if direction.model_id != G.model_id:
            print(f"warning: direction '{direction.name}' was made for {direction.model_id}, not {G.model_id}",
                  file=sys.stderr)
    return edits


def cmd_edit(args: argparse.Namespace) -> int:
    photo = load_photo(args.photo)
    recorded = sample_face_crop(args.photo)
    box = args.crop or (CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height))
    box.validate(photo.width, photo.height)
    G = load_generator(args.model, pick_device(args.device))
    latent = _load_latent(args.latent, G.space().shape)  # [*shape]
    edits = _edit_directions(args, G)
    edited = apply_directions(latent, edits)
    with torch.no_grad():
        image = to_uint8_hwc(G.synthesize(torch.from_numpy(edited[None]).to(G.device)))[0]  # [R, R, 3]
    if args.align:
        _, alignment, _ = aligned_target(photo.pixels, G, args.face)
        pasted = unwarp_and_paste(photo.pixels, image, alignment.transform, args.feather)
        where = f"aligned face {args.face} (turned {alignment.angle:+.1f}°)"
    else:
        pasted, where = paste_back(photo.pixels, image, box, args.feather), f"crop {box.x},{box.y},{box.size}"
    path = save_image(pasted, args.out, exif=photo.exif)
    done = ", ".join(f"{d.name} {a:+g}" for d, a in edits) or "no edits"
    print(f"{done}: {where} of the {photo.width}x{photo.height} photo written to {path.resolve()}")
    return 0


COMMANDS = {"invert": cmd_invert, "sample": cmd_sample, "train-landscape": cmd_train_landscape, "info": cmd_info,
            "edit": cmd_edit, "directions": run_directions, "inpaint": cmd_inpaint, "restore": cmd_restore,
            "slice": cmd_slice, "train-encoder": cmd_train_encoder, "render": cmd_render,
            "align": cmd_align}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except CoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
