"""``landscape-studio train-landscape``: train θ for a model, gate it on held-out faces and save it.

Runs unchanged under ``torchrun --nproc_per_node N`` (data-parallel, see :mod:`core.distributed`).
The training job itself is ``core.landscape.training_run.run_training``, which the editor's dialog runs too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.cli.common import add_model_args, join_training_world, load_model, positive_arg, seed_arg
from core.cli.progress import first_ctrl_c_cancels
from core.distributed import World, taking_part
from core.errors import InvalidInputError
from core.generators.coarse_view import check_coarse_image
from core.jobs import CancelToken, run_job
from core.landscape import LandscapeTrainConfig, TrainStep
from core.landscape.learning import OBJECTIVES
from core.landscape.training_run import UNLIMITED_MINUTES, run_training
from core.resources import trained_dir
from core.theta import DEFAULT_RECIPE, RECIPES, recipe_config


def add_train_landscape_parser(sub: argparse._SubParsersAction) -> None:
    d = LandscapeTrainConfig()
    p = sub.add_parser("train-landscape", help="train θ: Z→X so a few descent steps in Z invert well")
    p.add_argument("--out", type=Path, help="folder for θ, its metadata and the checkpoint"
                   " (default: your data folder, where inversion finds it for this model)")
    p.add_argument("--minutes", type=positive_arg, default=None,
                   help=f"training time of this run (default {d.minutes:g}, or no limit with --iterations)")
    p.add_argument("--iterations", type=int, default=None,
                   help="stop after this many outer iterations in total: a bit-reproducible budget on one machine")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--inner-steps", type=int, default=d.inner_steps, help="descent steps per trajectory (T)")
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--theta-lr", type=float, default=d.theta_lr)
    p.add_argument("--schedule-lr", type=float, default=d.schedule_lr,
                   help="Adam's learning rate for a --schedule (per-step log step sizes and momenta)")
    p.add_argument("--width", type=int, default=d.mapping.width)
    p.add_argument("--depth", type=int, default=d.mapping.depth)
    p.add_argument("--detach", action="store_true", help="first-order training (detached trajectories)")
    p.add_argument("--objective", choices=OBJECTIVES, default=d.objective,
                   help="θ's training loss: 'weighted' (Σ t·MSE_t over the inner steps, the default) or 'log_last' "
                        "(mean log MSE after the last step: the gate's PSNR, so hard faces do not dominate)")
    p.add_argument("--recipe", choices=tuple(RECIPES), default=DEFAULT_RECIPE,
                   help="θ's kind and descent: 'preconditioned' (default, the shipped θ: the model's curvature "
                        "preconditioner, momentum 0.7, --keep-radius, Adam after the horizon on z with lr 0.1, "
                        "β₂ 0.9, a 10-step ramp) or 'plain' (θ(z) = z + MLP(z), plain descent, then Adam on x); "
                        "the flags below change single settings of it")
    _add_recipe_flags(p, d)
    p.add_argument("--seed", type=seed_arg, default=d.seed)
    p.add_argument("--coarse-image", action="store_true",
                   help="experiment: train on the model's coarse image (FFHQ: ≈ 4× cheaper iterations), gated on the "
                        "exact one; on FFHQ what it learned did not carry over (docs/landscape.md)")
    p.add_argument("--gate-faces", type=int, default=None,
                   help="held-out faces for the validation gate at every budget (default: 128 at 10 steps, 256 at "
                        "100: enough for a paired standard error near 0.1 dB)")
    p.add_argument("--gate-budgets", type=_budgets, default=None, metavar="STEPS[,STEPS…]",
                   help="the step budgets the gate compares at (default: 10,100 on 128 and 256 faces for the "
                        "embedded model; 10,30 on 16 and 8 faces for a larger one, where a step costs seconds on a "
                        "CPU)")
    p.add_argument("--validate-every", type=int, default=d.validate_every,
                   help="iterations between scorings on validation faces; the best θ is kept (0 = keep the last)")
    p.add_argument("--validation-faces", type=int, default=d.validation_faces)
    p.add_argument("--quiet", action="store_true")
    add_model_args(p)


def _add_recipe_flags(p: argparse.ArgumentParser, d: LandscapeTrainConfig) -> None:
    """The flags that change single settings of ``--recipe``."""
    flag = argparse.BooleanOptionalAction
    p.add_argument("--precondition", action=flag, default=None,
                   help="θ carries the model's curvature preconditioner (descent in Z ≈ Gauss-Newton in X)")
    p.add_argument("--damping", type=float, default=d.precondition_damping,
                   help="with the preconditioner: damping λ as a fraction of the largest curvature eigenvalue")
    p.add_argument("--precondition-draws", type=int, default=d.precondition_draws,
                   help="with the preconditioner: prior draws its mean Gauss-Newton matrix averages (default: "
                        "48 on the embedded model, 1 on a larger one); each costs one forward-mode pass per latent "
                        "dimension — seconds on the embedded model, about 20 minutes for FFHQ's 512 on a 2-core CPU")
    p.add_argument("--momentum", type=float, default=None,
                   help="heavy-ball momentum of the descent steps in Z (0: plain gradient descent)")
    p.add_argument("--schedule", action=flag, default=None,
                   help="each descent step in Z learns its own step size and momentum (η_t, μ_t), starting from "
                        "the recipe's single step and --momentum")
    p.add_argument("--adaptive", action=flag, default=None,
                   help="each face's step size and momentum adapt at every step to how its gradient changes "
                        "(a small learned network, starting as the fixed steps)")
    p.add_argument("--loss-aware", action=flag, default=None,
                   help="with --adaptive: that network also reads how far each face's loss fell")
    p.add_argument("--learn-start", action=flag, default=None,
                   help="learn where descents start: after training, a search on training faces for a shift of "
                        "the prior's draws (kept at their radius) that the trained steps reach better faces from")
    p.add_argument("--start-candidates", type=int, default=d.start_candidates,
                   help="with --learn-start: directions searched")
    p.add_argument("--start-faces", type=int, default=d.start_faces,
                   help="with --learn-start: training faces each scoring uses")
    p.add_argument("--start-refine", type=int, default=d.start_refine,
                   help="with --learn-start: evolution-strategy steps that then refine the start found (0: none)")
    p.add_argument("--schedule-refine", type=int, default=d.schedule_refine,
                   help="with --schedule: evolution-strategy steps that refine the trained schedule after training "
                        "(after the start search; 0, the default: none — measured, it won 0.1 dB on generated faces "
                        "at 10 steps and lost 0.56 on real photos at 100)")
    p.add_argument("--encoder-start", type=float, default=None, metavar="LAMBDA",
                   help="descents start leaned towards the model's encoder's guess of the target: "
                        "√(1 − λ²)·(a random start) + λ·(the start at the guess), λ in [0, 1] (0: off); training "
                        "starts the same way, so the model needs an encoder (train-encoder)")
    p.add_argument("--steer", action=flag, default=None,
                   help="a network bends each step's direction from its gradient and velocity (a learned "
                        "optimiser layer per step; starts at the recipe's steps)")
    p.add_argument("--steer-lr", type=float, default=d.steer_lr,
                   help="Adam learning rate of that network")
    p.add_argument("--extra-dims", type=int, default=None,
                   help="Z wider than X by this many dimensions, which θ's MLP alone reads (they start at 0; "
                        "the paper's over-parameterised Z)")
    p.add_argument("--keep-radius", action=flag, default=None,
                   help="descent in Z keeps ‖θ(z)‖ at its start's (x stays on the prior's shell)")
    p.add_argument("--handover-beta2", type=float, default=None, help="Adam's β₂ for the steps after θ's horizon")
    p.add_argument("--handover-ramp", type=int, default=None,
                   help="that Adam's learning rate rises linearly over this many steps")
    p.add_argument("--handover-in-z", action=flag, default=None,
                   help="after θ's horizon Adam goes on descending z (x = θ(z)) instead of x itself")
    p.add_argument("--handover-lr", type=float, default=None,
                   help="that Adam's learning rate (the plain recipe: the inversion's own lr)")


def _budgets(text: str) -> tuple[int, ...]:
    try:
        budgets = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of step counts such as 10,100") from None
    if not budgets or not all(1 <= b <= 10_000 for b in budgets):
        raise argparse.ArgumentTypeError(f"each gate budget must be between 1 and 10000 steps (got '{text}')")
    return budgets


def train_config_from_args(args: argparse.Namespace) -> LandscapeTrainConfig:
    """The training config a ``train-landscape`` command line asks for: ``--recipe`` with single flags on top."""
    minutes = args.minutes if args.minutes is not None else (
        UNLIMITED_MINUTES if args.iterations is not None else LandscapeTrainConfig().minutes)
    return LandscapeTrainConfig(
        mapping=recipe_config(args.recipe, width=args.width, depth=args.depth, preconditioned=args.precondition,
                              keep_radius=args.keep_radius, handover_beta2=args.handover_beta2,
                              handover_ramp=args.handover_ramp, handover_in_z=args.handover_in_z,
                              handover_lr=args.handover_lr, momentum=args.momentum,
                              schedule=args.schedule, adaptive=args.adaptive, loss_aware=args.loss_aware,
                              steer=args.steer, learned_start=args.learn_start, extra_dims=args.extra_dims,
                              encoder_start=args.encoder_start),
        precondition_damping=args.damping, precondition_draws=args.precondition_draws,
        inner_steps=args.inner_steps, batch=args.batch, theta_lr=args.theta_lr, schedule_lr=args.schedule_lr,
        steer_lr=args.steer_lr, start_candidates=args.start_candidates, start_faces=args.start_faces,
        start_refine=args.start_refine, schedule_refine=args.schedule_refine,
        unroll=not args.detach,
        objective=args.objective, coarse_image=args.coarse_image,
        minutes=minutes, max_iterations=args.iterations, seed=args.seed, validate_every=args.validate_every,
        validation_faces=args.validation_faces)


def cmd_train_landscape(args: argparse.Namespace) -> int:
    """The CLI command: progress bar, Ctrl-C pauses (checkpoint kept; ``--resume`` continues)."""
    if args.iterations is not None and args.iterations < 1:
        raise InvalidInputError("--iterations must be at least 1.")
    if args.gate_faces is not None and not 2 <= args.gate_faces <= 10_000:
        raise InvalidInputError(f"--gate-faces must be between 2 and 10000 (got {args.gate_faces}).")
    config = train_config_from_args(args)
    config.validate()  # before the model loads: a typo fails at once
    with taking_part(join_training_world(args)) as world:
        return _train(args, config, world)


def _after_training(config: LandscapeTrainConfig) -> str:
    """What runs after the last iteration, for the line that announces the wait."""
    refined = config.mapping.schedule and config.schedule_refine > 0
    stages = [name for name, on in (("the start search", config.mapping.learned_start),
                                    ("the schedule's refinement", refined)) if on]
    return ", ".join(stages) + (" and " if stages else "") + "the gate"


def _gains(by_budget: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{d['mean']:+.3f} ± {d['se']:.3f} dB at {b} steps" for b, d in by_budget.items())


def _train(args: argparse.Namespace, config: LandscapeTrainConfig, world: World) -> int:
    world.share(config.batch)  # a batch that does not split over the processes fails before the model loads
    G = load_model(args)
    if config.coarse_image:
        check_coarse_image(G)  # before the progress bar: one error line
    if args.out is None:
        args.out = trained_dir(G.base_model_id, "landscape")
    token = CancelToken()
    by_iterations = args.iterations is not None
    total = args.iterations if by_iterations else round(config.minutes * 60)
    bar = tqdm(total=total, desc="training θ", unit="it" if by_iterations else "s", file=sys.stderr,
               disable=args.quiet)
    first: list[float] = []
    margins: list[float] = []

    def on_step(step: TrainStep) -> None:
        if step.memory and not args.quiet:
            tqdm.write(step.memory[0].upper() + step.memory[1:] + ".", file=sys.stderr)
        first.append(first[0] if first else step.seconds)
        if step.validation is not None:
            margins.append(step.validation["margin"])
        best = f"{max(margins):+.3f}" if margins else "-"
        bar.set_postfix(it=step.iteration, psnr_T=f"{step.psnr_last:.2f}", step=f"{step.step_size:.2f}",
                        best_margin=best, refresh=False)
        done = step.iteration if by_iterations else round(step.seconds - first[0])
        bar.update(max(0, done - bar.n))
        if by_iterations and step.iteration == total and not args.quiet:  # what follows is silent for minutes
            after = _after_training(config)
            verb = "follow" if " and " in after else "follows"
            tqdm.write(f"Training done; {after} {verb} (minutes on a CPU).", file=sys.stderr)

    with first_ctrl_c_cancels(token):
        outcome = run_job(run_training(G, config, args.out, args.resume, token, args.gate_faces,
                                       args.gate_budgets, world=world), on_step)
    bar.close()
    if not world.is_main:
        return 130 if outcome.cancelled else 0
    if outcome.cancelled:
        print(f"Paused after {outcome.iterations} iterations; continue with --resume. Checkpoint in {args.out}")
        return 130
    status = "READY" if outcome.ready else "NOT READY"
    if outcome.selected != outcome.iterations:
        print(f"Selected θ of iteration {outcome.selected} (best validation margin) of {outcome.iterations}.")
    print(f"θ {status}: {outcome.gate['reason']}. Gate PSNR {outcome.gate['psnr']}.")
    print(f"What training learned (paired against the same θ untrained): {_gains(outcome.gate['learned_gain'])}.")
    if "encoder_start_gain" in outcome.gate:
        print(f"What the encoder's guess adds to the starts (paired against θ from random starts): "
              f"{_gains(outcome.gate['encoder_start_gain'])}.")
    if outcome.trained is not None:
        label = "trained" if outcome.trained["fell"] else "NOT trained"
        print(f"Training: {label}: {outcome.trained['reason']}.")
    print(f"Saved to {args.out.resolve()}")
    return 0
