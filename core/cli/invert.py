"""``landscape-studio invert``: find the latent code whose image matches a photo, and paste it back."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.alignment import known_framing
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
from core.cli.progress import drive_inversion
from core.errors import InvalidInputError
from core.imageio import load_mask, load_photo
from core.inversion import METHODS, InversionConfig
from core.inversion.config import REFINE_METHODS, START_MODES
from core.inversion.optimize import InversionResult
from core.inversion.report import RunContext, write_outputs
from core.photo_jobs import invert_photo
from core.result_folder import result_folder


def add_invert_parser(sub: argparse._SubParsersAction) -> None:
    inv = sub.add_parser("invert", help="find the latent code whose image matches a photo")
    inv.add_argument("photo", type=Path)
    inv.add_argument("--out", type=Path, required=True,
                     help="folder for images, latents, composite.png (the photo with the result) and report.json")
    inv.add_argument("--method", default="direct", choices=METHODS)
    inv.add_argument("--mask", type=Path, help="PNG the size of the photo; non-zero pixels are ignored by the loss")
    add_placement_args(inv, align_help="find the face and align it to the model's framing (instead of a square "
                                       "crop)")
    inv.add_argument("--feather", type=float, default=0.08,
                     help="seam width of composite.png as a fraction of the square (0..0.5)")
    add_optimizer_args(inv)
    add_method_args(inv)
    inv.add_argument("--quiet", action="store_true", help="no progress bar")
    add_composite_arg(inv)
    add_model_args(inv)


def add_optimizer_args(inv: argparse.ArgumentParser) -> None:
    defaults = InversionConfig()
    inv.add_argument("--steps", type=int, default=defaults.steps)
    inv.add_argument("--lr", type=float, default=defaults.lr)
    inv.add_argument("--schedule", default=defaults.schedule, choices=("constant", "rampdown"))
    inv.add_argument("--noise", type=float, default=defaults.noise, help="early latent noise × latent std")
    inv.add_argument("--warmup-steps", type=int, default=defaults.warmup_steps,
                     help="plain gradient-descent steps before Adam")
    inv.add_argument("--warmup-step", type=float, default=defaults.warmup_step, help="their step size")
    inv.add_argument("--coarse-steps", type=int, default=defaults.coarse_steps,
                     help="the first N of --steps descend on the model's cheaper coarse image where it has one (FFHQ: "
                          "≈ 3× faster steps); the rest, and the result, on the exact image")
    inv.add_argument("--starts", type=int, default=defaults.starts, help="random starts optimised together")
    inv.add_argument("--start", choices=START_MODES, default=defaults.start,
                     help="where the first start begins: a prior draw, the mean latent (w_avg), or auto: the model's "
                          "choice (mean for StyleGAN-family models)")
    inv.add_argument("--seed", type=seed_arg, default=defaults.seed)
    inv.add_argument("--pixel", type=float, default=defaults.loss.pixel, help="pixel MSE weight")
    inv.add_argument("--lpips", type=float, default=defaults.loss.lpips, help="LPIPS weight (0 = off)")
    inv.add_argument("--lpips-net", default=defaults.loss.lpips_net, choices=("vgg", "alex"))
    inv.add_argument("--identity", type=float, default=defaults.loss.identity,
                     help="identity weight: dlib face-embedding distance to the photo (0 = off)")
    inv.add_argument("--prior", type=float, default=defaults.loss.prior, help="latent prior weight")


def add_method_args(inv: argparse.ArgumentParser) -> None:
    defaults = InversionConfig()
    inv.add_argument("--landscape", help="θ folder used wherever the method descends through θ (landscape, hybrid "
                                         "refining through θ, a landscape pivot; default: the model's shipped θ)")
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


def config_from(args: argparse.Namespace) -> InversionConfig:
    return InversionConfig(method=args.method, steps=args.steps, lr=args.lr, schedule=args.schedule, noise=args.noise,
                           starts=args.starts, start=args.start, seed=args.seed, warmup_steps=args.warmup_steps,
                           warmup_step=args.warmup_step, coarse_steps=args.coarse_steps, encoder=args.encoder,
                           refine=args.refine, consistency=args.consistency, pivot=args.pivot,
                           tune_steps=args.tune_steps, tune_lr=args.tune_lr, tune_locality=args.tune_locality,
                           tune_target=args.tune_target).with_changes(
        loss_pixel=args.pixel, loss_lpips=args.lpips, loss_lpips_net=args.lpips_net, loss_prior=args.prior,
        loss_identity=args.identity)


def cmd_invert(args: argparse.Namespace) -> int:
    check_feather(args.feather)
    config = config_from(args)
    config.validate()
    if args.align and args.mask is not None:
        raise InvalidInputError("--align chooses the face square itself; leave out --mask.")
    with result_folder(args.out) as staging:  # one complete run in --out, or the previous one untouched
        result, report = _invert(args, config, staging)
    m = report["metrics"]
    lpips_text = "n/a" if m["lpips"] is None else f"{m['lpips']:.4f}"
    lpips_text += "" if m["identity"] is None else f", identity distance {m['identity']:.3f}"
    state = f"cancelled after {result.steps_done} steps" if result.cancelled else f"{result.steps_done} steps"
    print(f"{state}: PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.4f}, LPIPS {lpips_text} "
          f"({result.seconds:.1f} s). Results in {args.out.resolve()}")
    return EXIT_INTERRUPTED if result.cancelled else 0


def _invert(args: argparse.Namespace, config: InversionConfig, out: Path) -> tuple[InversionResult, dict]:
    began = time.perf_counter()
    photo = load_photo(args.photo)
    if args.crop is not None:
        args.crop.validate(photo.width, photo.height)  # before the model loads: a typo fails at once
    loaded_photo = time.perf_counter()
    G = load_model(args)
    loaded_model = time.perf_counter()
    placement = photo_placement(args, photo, G)
    placed = time.perf_counter()
    mask = None if args.mask is None else load_mask(args.mask, photo.width, photo.height)
    done = drive_inversion(lambda token: invert_photo(G, photo, placement=placement, config=config, mask=mask,
                                                      theta=args.landscape, feather=args.feather,
                                                      composite=args.composite, cancel=token),
                           config.steps, args.quiet, "inverting")
    result = done.result
    timings = {"load_photo": loaded_photo - began, "load_model": loaded_model - loaded_photo}
    if placement.is_aligned:
        timings["align"] = placed - loaded_model
    where = placement.to_dict()
    context = RunContext(str(args.photo), (photo.width, photo.height), where["crop"],
                         None if args.mask is None else str(args.mask), done.masked_fraction, str(G.device), timings,
                         where["alignment"], args.composite)
    report = write_outputs(out, result, done.target, context, {"composite.png": done.photo},
                           known_framing(G))
    return result, report
