"""A whole training run of θ as one job: resume or start, train with periodic checkpoints, gate, save.

Used by ``landscape-studio train-landscape`` (``core.cli.train_landscape``) and by the GUI's "Train landscape…"
dialog, so both write the same files: ``OUT/theta.safetensors`` + ``OUT/theta.json`` (ready or not, with the
gate's figures and the training curve) and ``OUT/checkpoint/`` (to resume).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Generator as Job
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.distributed import SINGLE, World
from core.evaluation import HELD_OUT_SEED, TRAIN_SEED_LIMIT
from core.generators import Generator
from core.generators.coarse_view import CoarseImage
from core.jobs import CancelToken
from core.landscape.gate import gate
from core.landscape.learning import (
    LandscapeTrainConfig,
    TrainStep,
    fit_to_model,
    load_checkpoint,
    new_state,
    save_checkpoint,
    train_landscape,
)
from core.landscape.schedule_refine import ScheduleRefinement, refine_schedule
from core.landscape.start_search import StartSearch, search_start
from core.theta import LandscapeMapping, save_mapping
from core.weight_files import checkpointed

CHECKPOINT_EVERY_S = 60.0
UNLIMITED_MINUTES = 10_000_000.0  # "no time limit": the iteration count alone ends the run


@dataclass
class TrainingOutcome:
    folder: Path
    ready: bool
    gate: dict[str, Any]
    iterations: int
    seconds: float
    cancelled: bool
    selected: int = 0  # the iteration whose θ was kept (the best validated one)
    trained: dict[str, Any] | None = None  # objective_trend: did training descend its objective beyond noise


def training_curve(history: list[dict], points: int = 200) -> list[dict]:
    """At most ``points`` entries of the training history: time, iteration, PSNR and loss after step T, η."""
    stride = max(1, len(history) // points)
    return [{"iteration": h["iteration"], "seconds": round(h["seconds"], 1), "psnr_T": round(h["psnr_last"], 3),
             "loss_T": round(h["step_losses"][-1], 5), "step_size": round(h["step_size"], 4)}
            for h in history[::stride]]


def objective_trend(history: list[dict]) -> dict[str, Any]:
    """Whether training descended its own objective (each iteration's whole batch; Σ w_t·MSE_t for a history that
    did not record it) by more than its batch-to-batch noise: the mean over the first and the last fifth of the
    iterations (at least 5 each) and the standard error of their difference. A run whose objective did not fall
    beyond 2 SE is not called trained."""
    values = []
    for h in history:
        if h.get("objective") is not None:
            values.append(float(h["objective"]))
            continue
        losses = h["step_losses"]
        weights = range(1, len(losses) + 1)
        values.append(sum(w * v for w, v in zip(weights, losses, strict=True)) / sum(weights))
    window = max(5, len(values) // 5)
    if len(values) < 2 * window:
        return {"iterations": len(values), "fell": False, "reason": f"too few iterations to tell ({len(values)})"}
    first, last = values[:window], values[-window:]
    drop = statistics.fmean(first) - statistics.fmean(last)
    se = math.sqrt(statistics.variance(first) / window + statistics.variance(last) / window)
    fell = drop > 2 * se
    return {"iterations": len(values), "window": window, "first": round(statistics.fmean(first), 6),
            "last": round(statistics.fmean(last), 6), "drop": round(drop, 6), "se": round(se, 6), "fell": fell,
            "reason": (f"the objective fell by {drop:.5f} ± {se:.5f} (first vs last {window} iterations)" if fell
                       else f"the objective did not fall beyond its noise ({drop:+.5f} ± {se:.5f})")}


def optimizer_summary(theta: LandscapeMapping) -> dict[str, Any]:
    """How the landscape method descends with ``theta``: plain steps in Z for its horizon, then Adam (on z or x)."""
    mapping = theta.config
    steps, momenta = theta.schedule()
    schedule = {"schedule": {"step_sizes": [round(v, 5) for v in steps], "momenta": [round(v, 5) for v in momenta]}}
    return {"name": "gd", "step_size": float(theta.step_size.detach()), "momentum": mapping.momentum,
            "steps": mapping.horizon, **(schedule if mapping.schedule else {}), "adaptive": mapping.adaptive,
            "keep_radius": mapping.keep_radius,
            "then": {"name": "adam", "on": "z" if mapping.handover_in_z else "x", "lr": mapping.handover_lr,
                     "beta2": mapping.handover_beta2, "ramp": mapping.handover_ramp}}


def run_training(G: Generator, config: LandscapeTrainConfig, out: Path, resume: bool = False,
                 cancel: CancelToken | None = None, gate_faces: int | None = None,
                 gate_budgets: tuple[int, ...] | None = None, *,
                 world: World = SINGLE) -> Job[TrainStep, None, TrainingOutcome]:
    """Train for ``config.minutes`` (continuing ``out/checkpoint`` when ``resume``), then search a learned start
    (a θ with ``learned_start``), gate and save θ.

    A cancelled run still saves its checkpoint (so Resume continues it) but skips the gate and θ. Under torchrun
    every process starts from rank 0's θ and trains its share; rank 0 alone checkpoints, gates and saves (the
    others return an outcome that is not ready, with no gate).
    """
    checkpoint = out / "checkpoint"
    exact = G
    resuming = resume and (checkpoint / "checkpoint.json").is_file()
    if resuming:
        state, stored = load_checkpoint(checkpoint, exact.device)
        config = LandscapeTrainConfig.from_dict(
            {**stored.to_dict(), "minutes": config.minutes, "max_iterations": config.max_iterations})
    G = CoarseImage(exact) if config.coarse_image else exact  # what θ trains on; the gate scores ``exact``
    if not resuming:
        config = fit_to_model(G, config)  # θ's Z sized to the model's space, a step that does not diverge
        state = new_state(config, exact.device, exact)  # the curvature preconditioner always from the exact image:
        # one fitted on FFHQ's coarse image reached ≈ 1.4 dB less at 10 steps on the exact one (docs/landscape.md)
    world.broadcast(state.theta)
    save = (lambda: save_checkpoint(state, config, checkpoint)) if world.is_main else (lambda: None)
    yield from checkpointed(train_landscape(G, config, state, cancel, world=world), save, CHECKPOINT_EVERY_S)
    cancelled = world.any(cancel is not None and cancel.cancelled)  # Ctrl-C on any process pauses them all
    if cancelled or not world.is_main:
        return TrainingOutcome(out, False, {}, state.iteration, state.seconds, cancelled)
    theta = state.selected()
    start = None
    if theta.config.learned_start:  # where descents begin, searched for the trained steps
        start = search_start(G, theta, StartSearch(config.start_candidates, config.start_faces, config.seed,
                                                   refine_steps=config.start_refine,
                                                   refine_faces=max(2, config.start_faces // 2)))
    schedule = None
    if theta.config.schedule and config.schedule_refine > 0:  # then the steps' schedule, from that start
        refinement = ScheduleRefinement(config.schedule_refine, max(2, config.start_faces // 2), config.start_faces,
                                        config.seed)
        schedule = refine_schedule(G, theta, refinement)
    verdict = gate(exact, theta, n=gate_faces, budgets=gate_budgets)  # on what the editor shows
    meta = {"generator_id": exact.model_id, "generator": exact.name, "space": G.default_space,
            "optimizer": optimizer_summary(theta),
            "train": config.to_dict(), "train_seeds": f"[0, {TRAIN_SEED_LIMIT})", "eval_seed": HELD_OUT_SEED,
            "iterations": state.iteration, "training_seconds": round(state.seconds, 1),
            "selected_iteration": state.best_iteration if state.best is not None else state.iteration,
            "validation_margin_db": None if state.best is None else round(state.best_score, 4),
            "ready": verdict["passed"], "gate": verdict, "trained": objective_trend(state.history),
            "curve": training_curve(state.history), **({"start_search": start} if start else {}),
            **({"schedule_refinement": schedule} if schedule else {}),
            "validation": [{"iteration": h["iteration"], **h["validation"]} for h in state.history
                           if h.get("validation")]}
    save_mapping(theta, out, meta)
    return TrainingOutcome(out, verdict["passed"], verdict, state.iteration, state.seconds, False,
                           meta["selected_iteration"], meta["trained"])
