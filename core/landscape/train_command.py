"""``landscape-studio train-landscape``: train θ (resumable), pass it through the gate, save it with metadata."""

from __future__ import annotations

import argparse
import sys
import time

from tqdm import tqdm

from core.device import pick_device
from core.evaluation import HELD_OUT_SEED, TRAIN_SEED_LIMIT
from core.generators import load_generator
from core.jobs import CancelToken, run_job
from core.landscape.gate import gate
from core.landscape.learning import (
    LandscapeTrainConfig,
    TrainStep,
    load_checkpoint,
    new_state,
    save_checkpoint,
    train_landscape,
)
from core.landscape.mapping import MappingConfig, save_mapping

CHECKPOINT_EVERY_S = 60.0


def _config(args: argparse.Namespace, z_dim: int) -> LandscapeTrainConfig:
    return LandscapeTrainConfig(mapping=MappingConfig(z_dim=z_dim, width=args.width, depth=args.depth),
                                inner_steps=args.inner_steps, batch=args.batch, theta_lr=args.theta_lr,
                                unroll=not args.detach, minutes=args.minutes, seed=args.seed)


def train_and_gate(args: argparse.Namespace) -> int:
    from core.cli import _first_ctrl_c_cancels  # the CLI's Ctrl-C handling: stop cleanly, keep what was learned

    G = load_generator(args.model, pick_device(args.device))
    checkpoint = args.out / "checkpoint"
    if args.resume and (checkpoint / "checkpoint.json").is_file():
        state, config = load_checkpoint(checkpoint, G.device)
        config = LandscapeTrainConfig.from_dict({**config.to_dict(), "minutes": args.minutes})
    else:
        config = _config(args, G.space().shape[0])
        state = new_state(config, G.device)
    token, saved = CancelToken(), [time.perf_counter()]
    bar = tqdm(total=round(config.minutes * 60), desc="training θ", unit="s", file=sys.stderr, disable=args.quiet)
    began = state.seconds

    def on_step(step: TrainStep) -> None:
        bar.set_postfix(it=step.iteration, psnr_T=f"{step.psnr_last:.2f}", step=f"{step.step_size:.2f}", refresh=False)
        bar.update(round(step.seconds - began) - bar.n)
        if time.perf_counter() - saved[0] > CHECKPOINT_EVERY_S:
            save_checkpoint(state, config, checkpoint)
            saved[0] = time.perf_counter()

    with _first_ctrl_c_cancels(token):
        run_job(train_landscape(G, config, state, token), on_step)
    bar.close()
    save_checkpoint(state, config, checkpoint)
    verdict = gate(G, state.theta, n=args.gate_faces)
    meta = {"generator_id": G.model_id, "generator": G.name, "space": G.default_space,
            "optimizer": {"name": "gd", "step_size": float(state.theta.step_size)},
            "train": config.to_dict(), "train_seeds": f"[0, {TRAIN_SEED_LIMIT})", "eval_seed": HELD_OUT_SEED,
            "iterations": state.iteration, "training_seconds": round(state.seconds, 1),
            "ready": verdict["passed"], "gate": verdict,
            "curve": training_curve(state.history)}
    save_mapping(state.theta, args.out, meta)
    status = "READY" if verdict["passed"] else "NOT READY"
    print(f"θ {status}: {verdict['reason']}. Gate PSNR {verdict['psnr']}. Saved to {args.out.resolve()}")
    return 0



def training_curve(history: list[dict], points: int = 200) -> list[dict]:
    """At most ``points`` entries of the training history: time, iteration, PSNR and loss after step T, η."""
    stride = max(1, len(history) // points)
    return [{"iteration": h["iteration"], "seconds": round(h["seconds"], 1), "psnr_T": round(h["psnr_last"], 3),
             "loss_T": round(h["step_losses"][-1], 5), "step_size": round(h["step_size"], 4)}
            for h in history[::stride]]
