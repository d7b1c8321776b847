"""``landscape-studio`` headless commands: invert, sample, info. They call the same core code as the GUI.

Bad input ends in a one-line ``error: …`` and exit code 2, never a traceback. Ctrl-C during an inversion stops
it at the next step and still writes the best result so far (a second Ctrl-C aborts).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from core import __version__
from core.device import from_uint8_hwc, pick_device, to_uint8_hwc
from core.errors import CoreError, InvalidInputError
from core.generators import load_generator
from core.imageio import CropBox, crop_and_resize, crop_and_resize_mask, load_mask, load_photo, save_image
from core.inversion import METHODS, InversionConfig, InversionStep, invert
from core.inversion.report import RunContext, write_outputs
from core.jobs import CancelToken, run_job
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
    inv.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_args(inv)
    smp = sub.add_parser("sample", help="write a grid of random faces from the model")
    smp.add_argument("--n", type=int, default=16)
    smp.add_argument("--seed", type=int, default=0)
    smp.add_argument("--out", type=Path, required=True, help="PNG or JPEG file")
    _add_model_args(smp)
    _add_train_parser(sub)
    info = sub.add_parser("info", help="versions, devices, model and LPIPS availability")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    _add_model_args(info)
    return parser


@contextlib.contextmanager
def first_ctrl_c_cancels(token: CancelToken) -> Iterator[None]:
    """First Ctrl-C asks the job to stop after this step (results are kept); a second one aborts."""
    def handler(signum: int, frame: object) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _config_from(args: argparse.Namespace) -> InversionConfig:
    return InversionConfig(method=args.method, steps=args.steps, lr=args.lr, schedule=args.schedule, noise=args.noise,
                           starts=args.starts, seed=args.seed, landscape=args.landscape,
                           warmup_steps=args.warmup_steps, warmup_step=args.warmup_step).with_changes(
        loss_pixel=args.pixel, loss_lpips=args.lpips, loss_lpips_net=args.lpips_net, loss_prior=args.prior)


def cmd_invert(args: argparse.Namespace) -> int:
    config = _config_from(args)
    config.validate()
    began = time.perf_counter()
    photo = load_photo(args.photo)
    recorded = sample_face_crop(args.photo)
    box = args.crop or (CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height))
    box.validate(photo.width, photo.height)
    loaded_photo = time.perf_counter()
    G = load_generator(args.model, pick_device(args.device))
    loaded_model = time.perf_counter()
    target = crop_and_resize(photo.pixels, box, G.resolution)  # uint8 [R, R, 3]
    mask = None
    if args.mask is not None:
        full = load_mask(args.mask, photo.width, photo.height)
        mask = torch.from_numpy(crop_and_resize_mask(full, box, G.resolution))
    token = CancelToken()
    bar = tqdm(total=config.steps, desc="inverting", unit="step", file=sys.stderr, disable=args.quiet)

    def on_step(step: InversionStep) -> None:
        for notice in step.notices:
            tqdm.write(f"warning: {notice}", file=sys.stderr)
        bar.set_postfix(loss=f"{step.losses['total']:.4f}", best=f"{step.best_loss:.4f}", refresh=False)
        bar.update(step.step - bar.n)

    with first_ctrl_c_cancels(token):
        result = run_job(invert(G, from_uint8_hwc(target, G.device), config, mask, token), on_step)
    bar.close()
    context = RunContext(str(args.photo), (photo.width, photo.height), box.to_dict(),
                         None if args.mask is None else str(args.mask),
                         0.0 if mask is None else float(mask.mean()), str(G.device),
                         {"load_photo": loaded_photo - began, "load_model": loaded_model - loaded_photo})
    report = write_outputs(args.out, result, target, context)
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

    d = LandscapeTrainConfig()
    p = sub.add_parser("train-landscape", help="train θ: Z→X so a few descent steps in Z invert well")
    p.add_argument("--out", type=Path, required=True, help="folder for θ, its metadata and the checkpoint")
    p.add_argument("--minutes", type=float, default=d.minutes, help="training time of this run")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--inner-steps", type=int, default=d.inner_steps, help="descent steps per trajectory (T)")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--theta-lr", type=float, default=d.theta_lr)
    p.add_argument("--width", type=int, default=d.mapping.width)
    p.add_argument("--depth", type=int, default=d.mapping.depth)
    p.add_argument("--detach", action="store_true", help="first-order training (detached trajectories)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--gate-faces", type=int, default=32, help="held-out faces for the validation gate")
    p.add_argument("--quiet", action="store_true")
    _add_model_args(p)


def cmd_train_landscape(args: argparse.Namespace) -> int:
    from core.landscape.train_command import train_and_gate

    return train_and_gate(args)


COMMANDS = {"invert": cmd_invert, "sample": cmd_sample, "train-landscape": cmd_train_landscape, "info": cmd_info}


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
