"""``InversionConfig``: every setting of one inversion, frozen, and storable in sessions and reports."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from core.device import check_seed
from core.errors import InvalidInputError
from core.inversion.schedules import SCHEDULES
from core.objectives import LossWeights
from core.objectives.operators import parse_operator

if TYPE_CHECKING:
    import torch

# Where the first start begins: a draw from the latent prior, the mean latent (w_avg: a face-shaped start that
# StyleGAN-family models need, since a random w is often far from a photo's face), or "auto": the model's preference
START_MODES = ("auto", "prior", "mean")

METHODS = ("direct", "landscape", "encoder", "hybrid", "pivotal")
# What "hybrid" runs after the encoder's start; "auto": landscape through the model's ready θ where it has one
# (bench methods, 100 steps: 19.81 against 19.18 dB on the photos), direct otherwise, without a warning
REFINE_METHODS = ("auto", "direct", "landscape")
PIVOT_METHODS = ("direct", "landscape", "encoder", "hybrid")  # what "pivotal" may take its pivot from
# Inverse problems (inpainting, super-resolution, colorization) are underdetermined: a latent prior (BRGM) and a
# few starts matter there. Measured on 16 held-out faces (bench/results/inpainting.json): prior 0.01 beat 0, 0.001,
# 0.003, 0.03 and 0.1 for inpainting, and with 4 starts turned super-resolution ×4 from below bicubic to above it.
INVERSE_PRIOR = 0.01
INVERSE_STARTS = 4
# Bounds past which a setting is a typo, not a choice: a run of 10³⁰ steps never ends, an lr of 1e300 turns the
# latent into inf on the first step (and the report into NaN).
MAX_STEPS = 1_000_000
MAX_STARTS = 256  # starts optimised together in one batch (a benchmark on more targets batches them)
MAX_RATE = 1e3  # learning rates and noise scales
MAX_WEIGHT = 1e6  # step sizes and loss weights


@dataclass(frozen=True)
class InversionConfig:
    """Settings of one inversion. Defaults are the best measured on the default model (see README figures)."""

    method: str = "direct"  # how the latent is found; "direct" = Adam on the latent itself
    steps: int = 300  # optimiser updates (the result reflects the latent after the last one)
    lr: float = 0.2  # Adam learning rate (constant 0.2 beat 0.1, 0.3 and the ramp schedule on the default model)
    schedule: str = "constant"  # "constant" or "rampdown" (NVIDIA projector: 5 % warm-up, cosine over last 25 %)
    noise: float = 0.0  # early latent noise, × the latent std; decays quadratically to 0 (NVIDIA uses 0.05)
    noise_ramp: float = 0.75  # fraction of the run over which that noise decays
    warmup_steps: int = 10  # plain gradient-descent steps before Adam takes over (0: Adam from the start)
    warmup_step: float = 10.0  # step size of those plain steps (on the per-image pixel MSE scale)
    coarse_steps: int = 0  # the first N of ``steps`` descend on the model's cheaper coarse image where it has one
    # (FFHQ: 0.15 s a step instead of 0.49, core/generators/coarse_head.py); the rest, and the result, see the exact one
    starts: int = 1  # K random starts from the prior, optimised together in one batch
    start: str = "auto"  # "prior": every start a seeded draw; "mean": the first at the latent mean (StyleGAN's
    # w_avg, as NVIDIA's projector and PTI start), the others drawn; "auto": the model's preferred_start
    seed: int = 0  # seeds the starts and the noise: same seed, same result
    space: str | None = None  # latent space to optimise (None: the model's default)
    preview_every: int = 10  # a preview image every N steps (and at the first and last)
    landscape: str | None = None  # folder of the θ for method "landscape" (None: the one shipped for the model)
    operator: str | None = None  # forward model of the photo: "downsample4", "grayscale", "a+b"… (None: as is)
    encoder: str | None = None  # folder of the encoder for "encoder"/"hybrid" (None: the one shipped for the model)
    refine: str = "auto"  # "hybrid": the steps after the encoder's start ("auto", "direct" or "landscape")
    consistency: float = 0.0  # "hybrid": weight of idinvert's encoder term ‖x − E(G(x))‖² (0: off)
    pivot: str = "hybrid"  # "pivotal": the method that finds the pivot latent (its steps are ``steps``)
    tune_steps: int = 300  # "pivotal": at most this many Adam updates of the generator copy's weights
    tune_lr: float = 3e-4  # "pivotal": Adam learning rate of the weights (PTI's value)
    tune_locality: float = 1.0  # "pivotal": weight of the term keeping images of latents near the pivot unchanged
    tune_target: float = 0.0025  # "pivotal": stop once the reconstruction loss is below this (pixel MSE 0.0025 ≈ 32 dB)
    loss: LossWeights = field(default_factory=LossWeights)

    def validate(self) -> None:
        """Raise :class:`InvalidInputError` for a setting out of range (the message names the setting)."""
        if self.method not in METHODS:
            raise InvalidInputError(f"Unknown method '{self.method}'; choose one of: {', '.join(METHODS)}.")
        if self.start not in START_MODES:
            raise InvalidInputError(f"Unknown start '{self.start}'; choose one of: {', '.join(START_MODES)}.")
        if self.schedule not in SCHEDULES:
            raise InvalidInputError(f"Unknown schedule '{self.schedule}'; choose one of: {', '.join(SCHEDULES)}.")
        if self.refine not in REFINE_METHODS:
            raise InvalidInputError(f"Unknown refine method '{self.refine}'; choose one of: "
                                    f"{', '.join(REFINE_METHODS)}.")
        if self.pivot not in PIVOT_METHODS:
            raise InvalidInputError(f"Unknown pivot method '{self.pivot}'; choose one of: "
                                    f"{', '.join(PIVOT_METHODS)}.")
        check_seed(self.seed)
        checks = [("steps", 0 <= self.steps <= MAX_STEPS), ("starts", 1 <= self.starts <= MAX_STARTS),
                  ("lr", math.isfinite(self.lr) and 0 < self.lr <= MAX_RATE),
                  ("noise", math.isfinite(self.noise) and 0 <= self.noise <= MAX_RATE),
                  ("noise_ramp", 0 < self.noise_ramp <= 1), ("preview_every", self.preview_every >= 1),
                  ("warmup_steps", 0 <= self.warmup_steps <= MAX_STEPS),
                  ("coarse_steps", 0 <= self.coarse_steps <= MAX_STEPS),
                  ("warmup_step", math.isfinite(self.warmup_step) and 0 < self.warmup_step <= MAX_WEIGHT),
                  ("consistency", math.isfinite(self.consistency) and 0 <= self.consistency <= MAX_WEIGHT),
                  ("tune_steps", 0 <= self.tune_steps <= 100_000),
                  ("tune_lr", math.isfinite(self.tune_lr) and 0 < self.tune_lr <= MAX_RATE),
                  ("tune_locality", math.isfinite(self.tune_locality) and self.tune_locality >= 0),
                  ("tune_target", math.isfinite(self.tune_target) and self.tune_target >= 0)]
        for name, ok in checks:
            if not ok:
                raise InvalidInputError(f"The setting '{name}' is out of range (got {getattr(self, name)}).")
        parse_operator(self.operator)
        self.loss.validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InversionConfig:
        """Inverse of :meth:`to_dict`; unknown keys are refused so a typo never passes silently."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f"Unknown inversion settings: {', '.join(sorted(unknown))}.")
        values = dict(data)
        if isinstance(values.get("loss"), dict):
            values["loss"] = LossWeights(**values["loss"])
        return cls(**values)

    def with_changes(self, **changes: Any) -> InversionConfig:
        """A copy with some fields changed (``loss_<term>=`` keys change a loss weight)."""
        loss_changes = {k[5:]: changes.pop(k) for k in list(changes) if k.startswith("loss_")}
        if loss_changes:
            changes["loss"] = replace(self.loss, **loss_changes)
        return replace(self, **changes)


def restoration_config(operator: str, **changes: Any) -> InversionConfig:
    """The measured defaults for super-resolution / colorization through ``operator`` ("downsample4",
    "grayscale", …): 4 starts (the best is kept), latent prior 0.01, pixel loss (what was measured); ``changes``
    override any field (``loss_<term>=`` a loss weight)."""
    base = InversionConfig(operator=operator, starts=INVERSE_STARTS).with_changes(loss_prior=INVERSE_PRIOR,
                                                                                  loss_lpips=0.0)
    return base.with_changes(**changes)


def start_batches(targets: torch.Tensor, size: int = MAX_STARTS) -> Iterator[tuple[int, torch.Tensor]]:
    """``(first, batch)`` over ``targets`` in batches of at most ``size`` (≤ ``MAX_STARTS``; one start each):
    seeding batch ``seed + first`` gives each target the start one batch would (start k is seeded ``seed + k``)."""
    size = max(1, min(size, MAX_STARTS))
    for first in range(0, len(targets), size):
        yield first, targets[first:first + size]
