"""Training an encoder E for a generator G on G's own samples (self-supervised), as a resumable job.

The algorithm, exactly as implemented (one iteration):
  1. latents x for a batch of training seeds (< TRAIN_SEED_LIMIT, a fresh range per iteration) and their images
     y = G(x), computed without gradients;
  2. x̂ = E(y); loss = latent_weight · MSE(x̂, x) + image_weight · MSE(G(x̂), y) (the image error flows back
     through the frozen G, so E learns latents that *look* right, not only ones near x; pSp/e4e's recipe without
     their identity losses, which need face networks we cannot ship);
  3. one Adam step on E, the learning rate decaying by a cosine from ``lr`` to ``lr · final_lr`` over
     ``iterations``.
Every ``validate_every`` iterations E is scored by the PSNR of G(E(y)) on validation faces (seeds apart from
training and from the held-out faces figures use); the best-scoring weights are what a run delivers.
Batches depend on the iteration number only, so a resumed run continues the same sequence.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator as Job
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from core.distributed import SINGLE, World
from core.errors import InvalidInputError
from core.evaluation import TRAIN_SEED_LIMIT, held_out_faces, validation_faces
from core.generators import Generator
from core.inversion.encoder import EncoderConfig, LatentEncoder, save_encoder
from core.jobs import CancelToken
from core.memory import faces_per_pass, memory_budget, resident, saved_bytes
from core.metrics import psnr
from core.weight_files import (
    checkpointed,
    prefixed,
    read_checkpoint_files,
    restore_optimizer,
    restoring,
    save_checkpoint_files,
)

CHECKPOINT_EVERY_S = 60.0


@dataclass(frozen=True)
class EncoderTrainConfig:
    """Settings of one encoder training run (defaults: what trained the shipped encoder)."""

    width: int = 32  # E's first-layer channels (32: 1.1 M weights, a 4.4 MB file)
    batch: int = 32  # generated faces per iteration
    lr: float = 1e-3  # Adam learning rate at the start
    final_lr: float = 0.02  # the cosine decay ends at lr × this
    latent_weight: float = 1.0  # weight of MSE(E(y), x)
    image_weight: float = 1.0  # weight of MSE(G(E(y)), y)
    iterations: int = 3000  # Adam updates of the whole run (the decay's length)
    minutes: float = 1e9  # wall-clock limit; the iteration count normally ends the run
    seed: int = 0  # seeds E's init and the batches
    validate_every: int = 100  # score on validation faces every N iterations (0: never; the last E is kept)
    validation_faces: int = 32

    def validate(self) -> None:
        checks = [("width", 4 <= self.width <= 512), ("batch", 1 <= self.batch <= 4096),
                  ("lr", math.isfinite(self.lr) and 0 < self.lr <= 10), ("final_lr", 0 < self.final_lr <= 1),
                  ("latent_weight", 0 <= self.latent_weight <= 1e6), ("image_weight", 0 <= self.image_weight <= 1e6),
                  ("iterations", self.iterations >= 1), ("minutes", self.minutes > 0),
                  ("validate_every", self.validate_every >= 0), ("validation_faces", self.validation_faces >= 1)]
        for name, ok in checks:
            if not ok:
                raise InvalidInputError(f"The encoder training setting '{name}' is out of range "
                                        f"(got {getattr(self, name)}).")
        if self.latent_weight == 0 and self.image_weight == 0:
            raise InvalidInputError("At least one of the latent and image weights must be above 0.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderTrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class EncoderTrainStep:
    """Progress of one iteration (plain floats: safe across threads)."""

    iteration: int
    iterations: int
    seconds: float  # training time so far, resumed runs included
    loss: float
    latent_loss: float
    image_loss: float
    psnr: float  # of G(E(y)) on this batch, dB
    lr: float
    faces_per_s: float
    validation_psnr: float | None = None  # when this iteration was scored


@dataclass
class EncoderTrainState:
    encoder: LatentEncoder
    optimizer: torch.optim.Adam
    iteration: int = 0
    seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, torch.Tensor] | None = None
    best_psnr: float = float("-inf")
    best_iteration: int = 0

    def selected(self) -> LatentEncoder:
        """The best validated E when there is one, else the current E."""
        if self.best is None:
            return self.encoder
        chosen = LatentEncoder(self.encoder.config).to(next(self.encoder.parameters()).device)
        chosen.load_state_dict(self.best)
        return chosen.eval()


def new_encoder_state(G: Generator, config: EncoderTrainConfig) -> EncoderTrainState:
    shape = tuple(G.space().shape)
    encoder = LatentEncoder(EncoderConfig(G.resolution, shape, config.width), seed=config.seed).to(G.device)
    return EncoderTrainState(encoder, torch.optim.Adam(encoder.parameters(), lr=config.lr))


def _lr(config: EncoderTrainConfig, iteration: int) -> float:
    progress = min(iteration / config.iterations, 1.0)
    return config.lr * (config.final_lr + (1 - config.final_lr) * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def encoder_psnr(G: Generator, encoder: LatentEncoder, targets: torch.Tensor) -> float:
    """Mean PSNR (dB) of G(E(y)) against ``targets`` y [N, 3, R, R]."""
    return float(psnr(G.synthesize(encoder(targets)), targets).mean())


def train_encoder(G: Generator, config: EncoderTrainConfig, state: EncoderTrainState | None = None,
                  cancel: CancelToken | None = None, *,
                  world: World = SINGLE) -> Job[EncoderTrainStep, None, EncoderTrainState]:
    """Train (or keep training) E until ``config.iterations`` or ``config.minutes``; cancellable between steps.
    Under torchrun each process trains on its share of the batch with E's gradients averaged; only the main
    process scores E on validation faces."""
    config.validate()
    state = state or new_encoder_state(G, config)
    G.net.requires_grad_(False)
    checker = validation_faces(G, config.validation_faces) if config.validate_every and world.is_main else None
    began, done_here = time.perf_counter(), 0
    rows = world.share(config.batch)
    per_pass = 0  # faces per forward and backward pass, measured on the first batch (core.memory)
    while state.iteration < config.iterations:
        if world.any(time.perf_counter() - began >= config.minutes * 60 or (cancel is not None and cancel.cancelled)):
            break
        seed = (config.seed * 1_000_003 + state.iteration * config.batch) % (TRAIN_SEED_LIMIT - config.batch)
        x = G.sample_latent(config.batch, seed)[rows]
        per_pass = per_pass or faces_per_pass(len(x), _face_bytes(G, state.encoder, x), memory_budget(G.device),
                                              "Training the encoder")
        with torch.no_grad():
            y = torch.cat([G.synthesize(x[i:i + per_pass]) for i in range(0, len(x), per_pass)])
        lr = _lr(config, state.iteration)
        for group in state.optimizer.param_groups:
            group["lr"] = lr
        state.encoder.train()
        state.optimizer.zero_grad(set_to_none=True)
        figures = world.mean(_backward_in_passes(G, state.encoder, x, y, config, per_pass))  # the whole batch's
        world.average_gradients(state.encoder.parameters())
        state.optimizer.step()
        state.iteration += 1
        done_here += config.batch
        elapsed = time.perf_counter() - began
        scored = None
        if checker is not None and (state.iteration % config.validate_every == 0
                                    or state.iteration == config.iterations):
            state.encoder.eval()
            scored = encoder_psnr(G, state.encoder, checker)
            if scored > state.best_psnr:
                state.best_psnr, state.best_iteration = scored, state.iteration
                state.best = {k: v.detach().clone() for k, v in state.encoder.state_dict().items()}
        record = EncoderTrainStep(state.iteration, config.iterations, state.seconds + elapsed, float(figures[0]),
                                  float(figures[1]), float(figures[2]), float(figures[3]), lr,
                                  done_here / max(elapsed, 1e-9), scored)
        state.history.append(asdict(record))
        yield record
    state.seconds += time.perf_counter() - began
    state.encoder.eval()
    return state


def _face_bytes(G: Generator, encoder: LatentEncoder, x: torch.Tensor) -> int:
    """What one face's E(y) → G(E(y)) saves for the backward pass (a 1024-px model: about 0.7 GiB)."""
    with torch.no_grad():
        y = G.synthesize(x[:1])
    return saved_bytes(lambda: G.synthesize(encoder(y)), loaded=resident(G.net, encoder))


def _backward_in_passes(G: Generator, encoder: LatentEncoder, x: torch.Tensor, y: torch.Tensor,
                        config: EncoderTrainConfig, per_pass: int) -> torch.Tensor:
    """E's loss on the batch, back-propagated into E's ``.grad`` in passes of ``per_pass`` faces (each pass weighted
    by its share, so the gradient is the whole batch's); returns [loss, latent loss, image loss, PSNR] (detached)."""
    figures = torch.zeros(4, device=y.device)
    for first in range(0, len(x), per_pass):
        rows = slice(first, first + per_pass)
        share = len(x[rows]) / len(x)
        predicted = encoder(y[rows])
        latent_loss = (predicted - x[rows]).square().mean()
        images = G.synthesize(predicted)
        image_loss = (images - y[rows]).square().mean()
        loss = config.latent_weight * latent_loss + config.image_weight * image_loss
        (loss * share).backward()
        figures += share * torch.stack([loss.detach(), latent_loss.detach(), image_loss.detach(),
                                        psnr(images.detach().clamp(-1, 1), y[rows]).mean()])
    return figures


def save_encoder_checkpoint(state: EncoderTrainState, config: EncoderTrainConfig, folder: Path) -> Path:
    """E, its best weights, Adam's moments and the counters: enough to resume exactly."""
    meta = {"config": config.to_dict(), "iteration": state.iteration, "seconds": state.seconds,
            "history": state.history, "best_psnr": state.best_psnr if state.best is not None else None,
            "best_iteration": state.best_iteration}
    return save_checkpoint_files(folder, {"encoder": state.encoder.state_dict(), "best": state.best or {}},
                                 state.optimizer, meta)


def load_encoder_checkpoint(G: Generator, folder: Path) -> tuple[EncoderTrainState, EncoderTrainConfig]:
    """The training state :func:`save_encoder_checkpoint` wrote, or a :class:`ModelLoadError` saying how to go on."""
    tensors, meta = read_checkpoint_files(folder, "encoder training")
    with restoring(folder, "encoder training"):
        config = EncoderTrainConfig.from_dict(meta["config"])
        unknown = set(meta["config"]) - {f.name for f in fields(EncoderTrainConfig)}
        if unknown:
            raise KeyError(f"settings this version does not know: {', '.join(sorted(unknown))}")
        config.validate()
        state = new_encoder_state(G, config)
        state.encoder.load_state_dict(prefixed(tensors, "encoder."))
        restore_optimizer(state.optimizer, tensors, G.device)
        best = prefixed(tensors, "best.", G.device)
        if best and meta.get("best_psnr") is not None:
            state.best, state.best_psnr = best, float(meta["best_psnr"])
            state.best_iteration = int(meta["best_iteration"])
    state.iteration, state.seconds, state.history = meta["iteration"], float(meta["seconds"]), meta["history"]
    return state, config


def run_encoder_training(G: Generator, config: EncoderTrainConfig, out: Path, resume: bool = False,
                         cancel: CancelToken | None = None, held_out: int = 64, *,
                         world: World = SINGLE) -> Job[EncoderTrainStep, None, EncoderTrainState]:
    """Train (continuing ``out/checkpoint`` when ``resume``), checkpoint every minute, then save the selected E
    with its figures on ``held_out`` held-out faces. A cancelled run keeps its checkpoint and saves no E. Under
    torchrun every process starts from rank 0's E; rank 0 alone checkpoints and saves."""
    checkpoint = out / "checkpoint"
    if resume and (checkpoint / "checkpoint.json").is_file():
        state, stored = load_encoder_checkpoint(G, checkpoint)
        config = EncoderTrainConfig.from_dict({**stored.to_dict(), "minutes": config.minutes})
    else:
        state = new_encoder_state(G, config)
    world.broadcast(state.encoder)
    save = (lambda: save_encoder_checkpoint(state, config, checkpoint)) if world.is_main else (lambda: None)
    state = yield from checkpointed(train_encoder(G, config, state, cancel, world=world), save, CHECKPOINT_EVERY_S)
    if world.any(cancel is not None and cancel.cancelled):  # Ctrl-C on any process pauses them all
        if cancel is not None:
            cancel.cancel()
        return state
    if not world.is_main:
        return state
    encoder = state.selected()
    stride = max(1, len(state.history) // 200)
    meta = {"generator_id": G.model_id, "generator": G.name, "space": G.default_space, "train": config.to_dict(),
            "train_seeds": f"[0, {TRAIN_SEED_LIMIT})", "iterations": state.iteration,
            "training_seconds": round(state.seconds, 1), "selected_iteration": state.best_iteration or state.iteration,
            "validation_psnr": None if state.best is None else round(state.best_psnr, 3),
            "held_out_psnr": round(encoder_psnr(G, encoder, held_out_faces(G, held_out)), 3),
            "held_out_faces": held_out,
            "curve": [{k: h[k] for k in ("iteration", "seconds", "loss", "psnr", "validation_psnr")}
                      for h in state.history[::stride]]}
    save_encoder(encoder, out, meta)
    return state
