"""Training θ: Z→X so that a few gradient-descent steps in Z invert well (landscape learning).

The algorithm, exactly as implemented (one outer iteration):
  1. targets y = G(x) for a batch of x drawn from the prior with training seeds (< TRAIN_SEED_LIMIT);
  2. starts z₀ = θ.start(ε), ε ~ N(0, I), independent of the targets (ε itself unless θ is preconditioned), or
     for a θ with an ``encoder_start`` leaned towards the encoder's guess of each target, as the method starts;
  3. T steps of gradient descent in Z on the per-image pixel MSE: v_{t+1} = μ·v_t + ∇_z MSE(G(θ(z_t)), y),
     z_{t+1} = z_t − η·v_{t+1} (v_0 = 0; μ = θ's momentum, 0 for plain descent), with η = exp(θ.log_step)
     learned too; a ``keep_radius`` θ then rescales z so ‖θ(z)‖ stays at its start's
     (as the landscape method does). With ``unroll`` the steps stay in the autograd graph (second-order:
     θ learns how its own gradients move z); without it each z_t is detached (first order, the paper's
     replay-buffer variant without the buffer);
  4. θ's loss: Σ_{t=1..T} w_t · MSE(G(θ(z_t)), y) averaged over the batch, with w_t ∝ t (later steps count
     more, z₀ is left out since no θ can fit a random start), or with ``objective="log_last"`` the batch's
     mean log MSE after step T (the gate's mean PSNR up to a constant); one Adam step on θ, gradients clipped.
θ starts as the identity (see ``mapping``), so training begins exactly at the direct method's landscape.
Every ``validate_every`` iterations θ is scored as the gate scores it, on validation faces (``validation``),
and the best-scoring θ is kept beside the current one: the run's result is that θ, not the last iterate.
The trainer is a job: it yields a :class:`TrainStep` per iteration and returns the trained θ; checkpoints
(θ, optimiser state, RNG position, elapsed time) make it resumable.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Generator as Job
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from core.device import seeded_generator
from core.distributed import SINGLE, World
from core.errors import InvalidInputError
from core.evaluation import TRAIN_SEED_LIMIT
from core.generators import Generator
from core.inversion.encoder_methods import Encode
from core.inversion.encoder_start import encoder_for_theta
from core.inversion.theta_descent import blended_start
from core.jobs import CancelToken
from core.landscape.memory_plan import MemoryPlan, forward_bytes, jvp_chunk, plan_for
from core.landscape.unrolled import backward_in_passes, descent_losses, mse_per_image
from core.landscape.validation import ValidationSet
from core.memory import memory_budget
from core.theta import (
    DEFAULT_DAMPING,
    LandscapeMapping,
    MappingConfig,
    curvature_draws,
    mean_gauss_newton,
    preconditioner,
    theta_latent,
)
from core.weight_files import (
    prefixed,
    read_checkpoint_files,
    restore_optimizer,
    restoring,
    save_checkpoint_files,
)

OBJECTIVES = ("weighted", "log_last")


@dataclass(frozen=True)
class LandscapeTrainConfig:
    """Settings of one training run of θ."""

    mapping: MappingConfig = field(default_factory=MappingConfig)
    inner_steps: int = 10  # T: descent steps in Z per trajectory
    batch: int = 16  # trajectories (targets) per outer iteration
    theta_lr: float = 3e-4  # Adam learning rate of θ
    schedule_lr: float = 1e-2  # Adam learning rate of a per-step schedule (log step offsets, momenta): at θ's lr
    # they would move by at most 0.07 in 240 iterations
    steer_lr: float = 1e-3  # Adam learning rate of a steering θ's network (its D-wide layers move faster at 1e-2)
    unroll: bool = True  # differentiate through the inner steps (second order); False = detached z_t
    minutes: float = 10.0  # wall-clock budget of this run (a resumed run adds this much)
    max_iterations: int | None = None  # stop after this many iterations in total (reproducible budgets)
    clip: float = 1.0  # max gradient norm for θ
    seed: int = 0  # seeds targets and starts (training seeds only)
    validate_every: int = 40  # iterations between scorings on validation faces (0 = keep the last θ)
    precondition_damping: float = DEFAULT_DAMPING  # λ / largest curvature eigenvalue (see curvature)
    precondition_draws: int | None = None  # prior draws its mean Gauss-Newton matrix averages (None: by model,
    # curvature_draws: 48 on the embedded model, 1 on a larger one)
    validation_faces: int = 64  # faces each scoring uses (fewer: the best of many scorings is selection noise)
    start_candidates: int = 40  # a learned start: directions searched after training (core.landscape.start_search)
    start_faces: int = 128  # training faces each of those scorings uses
    start_refine: int = 12  # evolution-strategy steps that then refine the searched start (0: none)
    schedule_refine: int = 0  # evolution-strategy steps that then refine a learned schedule (off: on the shipped θ
    # it gained 0.1 dB at 10 steps on generated faces and lost 0.56 at 100 on real photos; docs/landscape.md)
    objective: str = "weighted"  # "weighted": Σ_t w_t·MSE_t, w_t ∝ t (batch mean); "log_last": the batch's mean
    # log MSE after the last step, the gate's metric up to a constant (hard faces no longer dominate)
    coarse_image: bool = False  # an experiment: train on the model's coarse image (FFHQ: ≈ 4× cheaper iterations),
    # gated on the exact image (core.generators.coarse_view); on FFHQ it did not carry over (docs/landscape.md)

    def validate(self) -> None:
        checks = [("inner_steps", 1 <= self.inner_steps <= 100), ("batch", 1 <= self.batch <= 1024),
                  ("theta_lr", 0 < self.theta_lr < 1),
                  ("schedule_lr", 0 < self.schedule_lr < 1), ("steer_lr", 0 < self.steer_lr < 1),
                  ("minutes", self.minutes > 0), ("clip", self.clip > 0),
                  ("start_candidates", 1 <= self.start_candidates <= 10_000),
                  ("start_faces", 2 <= self.start_faces <= 100_000),
                  ("start_refine", 0 <= self.start_refine <= 10_000),
                  ("schedule_refine", 0 <= self.schedule_refine <= 10_000),
                  ("mapping.depth", 2 <= self.mapping.depth <= 64),
                  ("mapping.width", 1 <= self.mapping.width <= 16_384),
                  ("mapping.extra_dims", 0 <= self.mapping.extra_dims <= 16_384),
                  ("mapping.encoder_start", 0 <= self.mapping.encoder_start <= 1),
                  ("mapping.handover_beta2", 0 < self.mapping.handover_beta2 < 1),
                  ("mapping.handover_ramp", 0 <= self.mapping.handover_ramp <= 1000),
                  ("mapping.handover_lr", self.mapping.handover_lr is None or 0 < self.mapping.handover_lr < 10),
                  ("mapping.momentum", 0 <= self.mapping.momentum < 1),
                  ("validate_every", self.validate_every >= 0), ("validation_faces", self.validation_faces >= 1),
                  ("precondition_damping", 0 < self.precondition_damping < 10),
                  ("precondition_draws", self.precondition_draws is None or self.precondition_draws >= 1),
                  ("objective", self.objective in OBJECTIVES)]
        for name, ok in checks:
            if not ok:
                raise InvalidInputError(f"The landscape training setting '{name}' is out of range.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LandscapeTrainConfig:
        values = dict(data)
        values["mapping"] = MappingConfig(**values.get("mapping", {}))
        return cls(**values)


@dataclass
class TrainStep:
    """Progress after one outer iteration."""

    iteration: int
    seconds: float  # training time so far (resumed runs included)
    step_losses: list[float]  # batch-mean pixel MSE after each inner step t = 1..T
    psnr_last: float  # mean PSNR (dB) after the T-th step
    step_size: float  # current η
    samples_per_s: float  # trajectories per second in this run
    validation: dict[str, float] | None = None  # the scoring made after this iteration, if any (see validation)
    objective: float | None = None  # the trained objective on this iteration's whole batch (config.objective)
    memory: str = ""  # how the batch fits in memory (memory_plan), on a run's first iteration


@dataclass
class TrainState:
    """Everything a checkpoint holds."""

    theta: LandscapeMapping
    optimizer: torch.optim.Adam
    iteration: int = 0
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, torch.Tensor] | None = None  # θ's weights at its best validation score
    best_score: float = float("-inf")  # that score: the smaller margin over the identity (dB)
    best_iteration: int = 0

    def selected(self) -> LandscapeMapping:
        """The θ a run delivers: the best validated one when there is one, else the current θ."""
        if self.best is None:
            return self.theta
        chosen = LandscapeMapping(self.theta.config).to(self.theta.log_step.device)
        chosen.load_state_dict(self.best)
        return chosen


def objective_value(config: LandscapeTrainConfig, per_step: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """θ's training loss from the per-image MSE after each inner step ``per_step`` [T, N] (see ``objective``)."""
    if config.objective == "log_last":
        return per_step[-1].clamp_min(1e-10).log().mean()
    return (weights[:, None] * per_step).sum(0).mean()


def _batch(G: Generator, config: LandscapeTrainConfig, iteration: int,
           world: World = SINGLE) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets and starts of one iteration, from its own training seed: reproducible and resumable; under
    torchrun, this process's share of them (the same global batch however many processes share it)."""
    seed = (config.seed * 1_000_003 + iteration * config.batch * 2) % (TRAIN_SEED_LIMIT - 2 * config.batch)
    rows = world.share(config.batch)
    with torch.no_grad():
        target = G.synthesize(G.sample_latent(config.batch, seed)[rows])
    z0 = torch.randn(config.batch, config.mapping.z_dim, generator=seeded_generator(seed + config.batch))
    return target, z0[rows].to(G.device)


def new_state(config: LandscapeTrainConfig, device: torch.device | str, G: Generator | None = None,
              fit: bool = True) -> TrainState:
    """A fresh θ and its optimiser; a standardized θ takes ``G``'s latent mean and std (its frame) now, and a
    preconditioned θ its curvature preconditioner (computed from ``G``: seconds to minutes). ``fit=False``
    leaves both at their defaults, for a checkpoint's weights to fill."""
    mapping = replace(config.mapping, horizon=config.inner_steps)  # θ is used for as many steps as it learns
    theta = LandscapeMapping(mapping, seed=config.seed).to(device)
    if not fit or not (mapping.standardized or mapping.preconditioned):
        return TrainState(theta, _optimizer(theta, config))
    if G is None:
        raise InvalidInputError("A standardized or preconditioned θ needs the generator it is fitted to.")
    if mapping.standardized:
        theta.set_frame(*G.latent_stats())
    if mapping.preconditioned:
        def to_latent(u: torch.Tensor) -> torch.Tensor:  # unit coordinates → G's latent, as θ's forward does
            x = theta.x_mean + theta.x_std * u if mapping.standardized else u
            return x.view(-1, *G.space().shape)

        chunk = jvp_chunk(mapping.z_dim, forward_bytes(G, to_latent(torch.zeros(1, mapping.z_dim, device=device))),
                          memory_budget(device))
        H, k = mean_gauss_newton(G, to_latent, mapping.z_dim, config.precondition_draws or curvature_draws(G),
                                 seed=config.seed, chunk=chunk)
        theta.set_preconditioner(preconditioner(H, k, mapping.step, config.precondition_damping).to(device))
    return TrainState(theta, _optimizer(theta, config))


def _optimizer(theta: LandscapeMapping, config: LandscapeTrainConfig) -> torch.optim.Adam:
    """Adam on θ; a per-step schedule and a step network in a group of their own, at ``schedule_lr`` (at θ's lr
    they would hardly move in a CPU run), and a steering network at
    ``steer_lr``."""
    scheduled = [theta.step_offsets, theta.momenta] if theta.config.schedule else []
    scheduled += list(theta.step_net.parameters()) if theta.config.adaptive else []
    steering = list(theta.steer_net.parameters()) if theta.config.steer else []
    searched = [theta.start_shift] if theta.config.learned_start else []  # set by the start search, not by Adam
    rest = [p for p in theta.parameters() if all(p is not q for q in scheduled + steering + searched)]
    groups: list[dict[str, Any]] = [{"params": rest}]
    if scheduled:
        groups.append({"params": scheduled, "lr": config.schedule_lr})
    if steering:
        groups.append({"params": steering, "lr": config.steer_lr})
    return torch.optim.Adam(groups, lr=config.theta_lr)


def mapping_config_for(G: Generator, **changes: Any) -> MappingConfig:
    """θ's shape for ``G``'s default space: Z as wide as the (flattened) latent, standardized unless the space is
    N(0, I) itself (z), so a learned space such as StyleGAN's w is descended from its own Gaussian."""
    space = G.space()
    return MappingConfig(**{"z_dim": math.prod(space.shape), "standardized": not space.gaussian_prior, **changes})


def fit_to_model(G: Generator, config: LandscapeTrainConfig) -> LandscapeTrainConfig:
    """``config`` with θ shaped for ``G`` (:func:`mapping_config_for`, keeping its width and depth) and, for a
    learned space, a step size that does not diverge (:func:`stable_step`): what a new training run needs, so
    the CLI and the GUI's dialog start the same θ for the same model."""
    kept = ("width", "depth", "step", "preconditioned", "keep_radius", "handover_beta2", "handover_ramp",
            "handover_in_z", "handover_lr", "momentum", "schedule", "adaptive", "loss_aware", "steer",
            "learned_start", "extra_dims", "encoder_start")
    mapping = mapping_config_for(G, **{name: getattr(config.mapping, name) for name in kept})
    if mapping.standardized and not mapping.preconditioned:  # A is scaled by the step: any step is its GN step
        mapping = replace(mapping, step=stable_step(G, mapping, seed=config.seed))
    return replace(config, mapping=mapping, precondition_draws=config.precondition_draws or curvature_draws(G))


def stable_step(G: Generator, mapping: MappingConfig, seed: int = 0, n: int = 4, steps: int = 3,
                tries: int = 9) -> float:
    """The largest of mapping.step · 10^(−k/2), k = 0 … tries − 1, at which plain descent through the untrained θ
    lowers the mean pixel MSE at each of ``steps`` steps on ``n`` training targets (the last one tried otherwise).

    The default step (10) was measured on the DCGAN's z; in another model's space it can diverge (a random
    StyleGAN2's w does at 10), and a θ whose first steps diverge learns nothing.
    """
    probe = LandscapeTrainConfig(mapping=mapping, batch=n, seed=seed)
    target, z0 = _batch(G, probe, 0)
    step = mapping.step
    for _ in range(tries):
        theta = new_state(replace(probe, mapping=replace(mapping, step=step)), G.device, G).theta
        theta.requires_grad_(False)
        with torch.no_grad():
            start = float(mse_per_image(G.synthesize(theta_latent(G, theta, z0)), target).mean())
        means = [start] + [float(v.detach().mean()) for v in descent_losses(G, theta, z0, target, steps, graph=False)]
        if all(b < a for a, b in itertools.pairwise(means)):
            return step
        step /= math.sqrt(10)
    return step * math.sqrt(10)


def check_mapping(G: Generator, mapping: MappingConfig) -> None:
    dims = math.prod(G.space().shape)
    if mapping.z_dim != dims:
        raise InvalidInputError(f"θ's Z has {mapping.z_dim} dims but {G.name}'s '{G.default_space}' latent has "
                                f"{dims} {list(G.space().shape)}; make θ with mapping_config_for(G).")
    if mapping.standardized == G.space().gaussian_prior:
        kind = "standardized" if mapping.standardized else "plain"
        raise InvalidInputError(f"A {kind} θ does not suit {G.name}'s '{G.default_space}' space; make θ with "
                                "mapping_config_for(G).")


def train_landscape(G: Generator, config: LandscapeTrainConfig, state: TrainState | None = None,
                    cancel: CancelToken | None = None, *, world: World = SINGLE) -> Job[TrainStep, None, TrainState]:
    """Train (or keep training) θ for ``config.minutes`` of wall time; cancellable between iterations. Under
    torchrun (``world``) each process descends its share of the batch and θ's gradients are averaged
    (:mod:`core.distributed`); only the main process scores θ on validation faces."""
    config.validate()
    check_mapping(G, config.mapping)
    state = state or new_state(config, G.device, G)
    G.net.requires_grad_(False)  # only θ learns
    weights = torch.arange(1, config.inner_steps + 1, dtype=torch.float32, device=G.device)
    weights = weights / weights.sum()
    began, budget = time.perf_counter(), config.minutes * 60
    done_here = 0
    checker: ValidationSet | None = None  # built at the first scoring (its baselines cost seconds)
    encode = encoder_for_theta(G) if config.mapping.encoder_start > 0 else None  # refuses at once when missing
    plan: MemoryPlan | None = None  # measured on the first batch
    while True:
        over = time.perf_counter() - began >= budget or (cancel is not None and cancel.cancelled)
        if world.any(over) or (config.max_iterations is not None and state.iteration >= config.max_iterations):
            break
        target, z0 = _batch(G, config, state.iteration, world)
        z0 = target_starts(G, state.theta, z0, target, encode)  # no gradient: a learned start is searched for
        fresh_plan = plan is None
        plan = plan or plan_for(G, state.theta, z0, target, steps=config.inner_steps, unroll=config.unroll)
        state.optimizer.zero_grad(set_to_none=True)
        per_step, loss = backward_in_passes(  # [T, N] and θ's loss, whose gradient is now in θ's .grad
            G, state.theta, z0, target, config.inner_steps, config.unroll,
            lambda rows: objective_value(config, rows, weights), micro_batch=plan.micro_batch,
            checkpointed=plan.checkpointed)
        world.average_gradients(state.theta.parameters())
        torch.nn.utils.clip_grad_norm_(state.theta.parameters(), config.clip)
        state.optimizer.step()
        state.iteration += 1
        done_here += config.batch
        elapsed = time.perf_counter() - began
        psnr_rows = (10 * torch.log10(4 / per_step[-1].detach().clamp_min(1e-10))).mean()
        figures = world.mean(torch.cat([per_step.detach().mean(1), psnr_rows[None], loss.detach()[None]]))
        means, psnr, objective = [float(v) for v in figures[:-2]], float(figures[-2]), float(figures[-1])
        scored = None
        if world.is_main and config.validate_every and state.iteration % config.validate_every == 0:
            checker = checker or ValidationSet.build(G, state.theta, config.validation_faces)
            scored = checker.score(G, state.theta)
            if scored["margin"] > state.best_score:
                state.best_score, state.best_iteration = scored["margin"], state.iteration
                state.best = {k: v.detach().clone() for k, v in state.theta.state_dict().items()}
        record = TrainStep(state.iteration, state.seconds + elapsed, means, psnr, float(state.theta.step_size.detach()),
                           done_here / max(elapsed, 1e-9), scored, objective, plan.describe() if fresh_plan else "")
        state.history.append(asdict(record))
        yield record
    state.seconds += time.perf_counter() - began
    return state


@torch.no_grad()
def target_starts(G: Generator, theta: LandscapeMapping, eps: torch.Tensor, targets: torch.Tensor,
                  encode: Encode | None = None) -> torch.Tensor:
    """θ's starts [N, z_size] for the draws ``eps`` [N, D], leaned towards the encoder's codes of ``targets`` when
    θ has an ``encoder_start`` (``encode``, else the model's encoder): what the method starts from."""
    z0 = theta.start(eps)
    if theta.config.encoder_start <= 0:
        return z0
    return blended_start(theta, z0, (encode or encoder_for_theta(G))(targets))


def save_checkpoint(state: TrainState, config: LandscapeTrainConfig, folder: Path) -> Path:
    """θ, Adam's moments and the progress counters: enough to resume exactly where training stopped."""
    meta = {"config": config.to_dict(), "iteration": state.iteration, "seconds": state.seconds,
            "history": state.history, "best_score": state.best_score if state.best is not None else None,
            "best_iteration": state.best_iteration}
    return save_checkpoint_files(folder, {"theta": state.theta.state_dict(), "best": state.best or {}},
                                 state.optimizer, meta)


def load_checkpoint(folder: Path, device: torch.device | str) -> tuple[TrainState, LandscapeTrainConfig]:
    """The training state :func:`save_checkpoint` wrote, or a :class:`ModelLoadError` saying how to go on."""
    tensors, meta = read_checkpoint_files(folder, "landscape training")
    with restoring(folder, "landscape training"):
        config = LandscapeTrainConfig.from_dict(meta["config"])
        config.validate()
        state = new_state(config, device, fit=False)
        state.theta.load_state_dict(prefixed(tensors, "theta."))
        restore_optimizer(state.optimizer, tensors, device)
        best = prefixed(tensors, "best.", device)
        if best and meta.get("best_score") is not None:
            state.best, state.best_score = best, float(meta["best_score"])
            state.best_iteration = int(meta["best_iteration"])
    state.iteration, state.seconds, state.history = meta["iteration"], float(meta["seconds"]), meta["history"]
    return state, config
