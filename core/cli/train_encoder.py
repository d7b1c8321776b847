"""``landscape-studio train-encoder``: train an encoder for a model with one reproducible command.

``--iterations`` is the budget that makes a run reproducible (batches depend on the iteration only);
``--minutes`` caps wall time. Runs unchanged under ``torchrun --nproc_per_node N`` (see :mod:`core.distributed`).
Ctrl-C pauses with a checkpoint, ``--resume`` continues it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.cli.common import add_model_args, join_training_world, positive_arg, seed_arg
from core.cli.progress import first_ctrl_c_cancels
from core.device import pick_device
from core.distributed import World, taking_part
from core.generators import load_generator
from core.inversion.encoder_training import EncoderTrainConfig, EncoderTrainStep, run_encoder_training
from core.jobs import CancelToken, run_job
from core.resources import trained_dir


def add_train_encoder_parser(sub: argparse._SubParsersAction) -> None:
    d = EncoderTrainConfig()
    p = sub.add_parser("train-encoder", help="train an encoder image → latent for the encoder/hybrid methods")
    p.add_argument("--out", type=Path, help="folder for the encoder, its metadata and checkpoint"
                   " (default: your data folder, where inversion finds it for this model)")
    p.add_argument("--iterations", type=int, default=d.iterations, help="Adam updates in total (reproducible)")
    p.add_argument("--minutes", type=positive_arg, default=None, help="wall-clock limit of this run (default: none)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--width", type=int, default=d.width, help="channels of the first convolution")
    p.add_argument("--image-weight", type=float, default=d.image_weight, help="weight of MSE(G(E(y)), y)")
    p.add_argument("--latent-weight", type=float, default=d.latent_weight, help="weight of MSE(E(y), x)")
    p.add_argument("--seed", type=seed_arg, default=d.seed)
    p.add_argument("--validate-every", type=int, default=d.validate_every)
    p.add_argument("--quiet", action="store_true")
    add_model_args(p)


def cmd_train_encoder(args: argparse.Namespace) -> int:
    with taking_part(join_training_world(args)) as world:
        return _train(args, world)


def _train(args: argparse.Namespace, world: World) -> int:
    G = load_generator(args.model, pick_device(args.device))
    if args.out is None:
        args.out = trained_dir(G.base_model_id, "encoder")
    config = EncoderTrainConfig(width=args.width, batch=args.batch, lr=args.lr, image_weight=args.image_weight,
                                latent_weight=args.latent_weight, iterations=args.iterations,
                                minutes=args.minutes if args.minutes is not None else 1e9, seed=args.seed,
                                validate_every=args.validate_every)
    config.validate()
    world.share(config.batch)
    token = CancelToken()
    bar = tqdm(total=config.iterations, desc="training encoder", unit="it", file=sys.stderr, disable=args.quiet)

    def on_step(step: EncoderTrainStep) -> None:
        bar.set_postfix(psnr=f"{step.psnr:.2f}", lr=f"{step.lr:.2g}", refresh=False)
        bar.update(max(0, step.iteration - bar.n))

    with first_ctrl_c_cancels(token):
        state = run_job(run_encoder_training(G, config, args.out, args.resume, token, world=world), on_step)
    bar.close()
    if not world.is_main:
        return 130 if token.cancelled else 0
    if token.cancelled:
        print(f"Paused after {state.iteration} iterations; continue with --resume. Checkpoint in {args.out}")
        return 130
    import json

    meta = json.loads((args.out / "encoder.json").read_text())
    print(f"Encoder saved to {args.out.resolve()}: held-out PSNR {meta['held_out_psnr']} dB "
          f"(iteration {meta['selected_iteration']} of {state.iteration}, {state.seconds:.0f} s).")
    return 0
