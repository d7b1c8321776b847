"""θ: Z→X, the learned reparameterisation of a generator's latent space, and its safe file format.

θ(z) = z + MLP(z), the MLP's last layer starting at zero: an untrained θ is the identity, so a newly made θ
inverts exactly like the direct method and training can only be judged by what it adds. θ also carries the
step size of the descent in Z it was trained with (``log_step``), so the method that uses it needs no tuning.
For a learned latent space (StyleGAN's w, not N(0, I)) θ is ``standardized``: x = μ + σ ⊙ (z + MLP(z)) with the
model's per-dimension latent mean μ and std σ stored in θ, so z ~ N(0, I) starts on the model's own distribution
and one step size suits every dimension; the untrained θ is then the Gaussian approximation of that space.
A ``preconditioned`` θ also carries a fixed linear map A (``core.theta.curvature``): x = A·(z + MLP(z)) in
those unit coordinates, with A ≈ (mean Gauss-Newton matrix of the pixel loss)^(-1/2), so plain descent in Z is
preconditioned descent in X from the first step; starts are then z₀ = A⁻¹ε for ε ~ N(0, I) (:meth:`start`), so
x₀ is drawn from the same Gaussian as the identity's starts. The descent method is part of θ too: whether the
steps in Z keep ‖x‖ at its start's (``keep_radius``) and how Adam continues after θ's horizon: on x, as the
direct method does, or on z through θ (``handover_in_z``), so that a preconditioned θ's coordinates scale
Adam's steps too.
θ works on flat codes [N, D]; :func:`theta_latent` gives them the space's shape.
Saved as safetensors (weights) + JSON (metadata): loading never unpickles.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.errors import InvalidInputError, ModelLoadError
from core.generators import Generator
from core.generators.checked_build import build_checked, check_weights
from core.theta.step_rule import FEATURES, LOSS_FEATURES, MAX_MOMENTUM
from core.weight_files import read_weights, save_weights

SCHEMA_VERSION = 1
# The best measured recipe around the preconditioner (docs/landscape.md): without keep_radius x drifts off the
# prior's shell (‖x‖ 9.9 → 13.4 in 10 steps); β₂ = 0.9 and a 10-step ramp let Adam take over without a first
# jump of lr in every coordinate; and Adam continuing on z (x = θ(z)) rather than on x takes its per-coordinate
# steps in the preconditioned coordinates: 31.97 against 28.87 dB after 100 steps on 64 validation faces
# (identity: 28.18), with lr 0.1 (0.05: 31.14, 0.2: 29.99). Heavy-ball momentum 0.7 on the plain steps: 21.59
# against 20.27 dB after 10 steps (0.5: 21.45, 0.9: 21.27).
PRECONDITIONED = {"preconditioned": True, "keep_radius": True, "handover_beta2": 0.9, "handover_ramp": 10,
                  "handover_in_z": True, "handover_lr": 0.1, "momentum": 0.7}
# Named recipes for a new θ (``train-landscape --recipe``, the dialog's box): the shipped one is the default, so
# ``train-landscape --model default --out DIR`` trains the kind of θ the product ships; "plain" is the paper's
# θ(z) = z + MLP(z) with plain descent in Z and the direct method's Adam after the horizon.
RECIPES: dict[str, dict[str, Any]] = {"preconditioned": PRECONDITIONED, "plain": {}}
DEFAULT_RECIPE = "preconditioned"


@dataclass(frozen=True)
class MappingConfig:
    """Shape of θ."""

    z_dim: int = 100  # dimensions of Z (equal to the generator's latent, for the identity skip)
    width: int = 512  # hidden width of the MLP
    depth: int = 3  # linear layers in the MLP (≥ 2)
    step: float = 10.0  # initial step size of gradient descent in Z (plain GD beats Adam early on this model)
    horizon: int = 10  # descent steps in Z θ is trained for; the landscape method then continues with Adam
    momentum: float = 0.0  # heavy-ball momentum μ of those steps: v ← μv + ∇, z ← z − ηv (0: plain descent)
    standardized: bool = False  # x = mean + std ⊙ (z + MLP(z)) (learned spaces such as w); False: x = z + MLP(z)
    preconditioned: bool = False  # z + MLP(z) is first multiplied by the fixed curvature preconditioner A
    keep_radius: bool = False  # descent in Z keeps ‖θ(z)‖ at its start's (x stays on the prior's shell)
    handover_beta2: float = 0.999  # Adam's β₂ for the steps after the horizon
    handover_ramp: int = 0  # that Adam's learning rate rises linearly over this many steps (0: none)
    handover_in_z: bool = False  # after the horizon Adam goes on descending z (x = θ(z)); False: Adam on x itself
    handover_lr: float | None = None  # that Adam's learning rate (None: the inversion's own lr, as the direct method)
    schedule: bool = False  # each of the horizon's steps learns its own step size and momentum (η_t, μ_t); False:
    # one learned η and the fixed μ for every step
    adaptive: bool = False  # each face's η and μ are adapted at every step from its gradients (core.theta.step_rule)
    loss_aware: bool = False  # an adaptive θ also sees how far each face's loss fell (since the start, the last step)
    learned_start: bool = False  # starts are shifted by a learned vector, then put back on ε's radius (``start``)
    steer: bool = False  # a network bends each step's direction from its gradient and velocity (core.theta.step_rule)
    extra_dims: int = 0  # Z wider than X: z = (u, e) with e of this many dims, read by the MLP only (starts at 0)
    encoder_start: float = 0.0  # λ: starts lean towards the encoder's code of the target, √(1 − λ²)·z₀ + λ·z_E
    # (core.inversion.encoder_start; 0: the prior's draws alone)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, label: str = "θ") -> MappingConfig:
        """The config a θ file names, every value of its own type and within reach (a θ claiming 10⁹ dimensions
        is refused here, before anything is built); :class:`ModelLoadError` naming ``label`` otherwise."""
        if not isinstance(data, dict):
            raise ModelLoadError(f"'{label}' has no θ settings (found {type(data).__name__}).")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ModelLoadError(f"'{label}' has unknown θ settings: {', '.join(map(str, unknown))[:200]}.")
        for key, value in data.items():
            low, high = _BOUNDS[key]
            kind = type(getattr(cls(), key))
            if value is None and key == "handover_lr":
                continue
            if kind is bool:
                ok = isinstance(value, bool)
            elif kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
            else:
                ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
                      and low <= value <= high)
            if not ok:
                raise ModelLoadError(f"'{label}' has a θ setting '{key}' of {value!r}, which no θ can have.")
        return cls(**data)


# what a θ file may claim, per setting (bools: any); anything else is damage, not a bigger θ
_BOUNDS: dict[str, tuple[float, float]] = {
    "z_dim": (1, 2**16), "width": (1, 2**14), "depth": (2, 64), "step": (1e-12, 1e12), "horizon": (0, 10_000),
    "momentum": (0.0, 1.0), "handover_beta2": (0.0, 1.0), "handover_ramp": (0, 100_000), "handover_lr": (0.0, 1e3),
    "standardized": (0, 1), "preconditioned": (0, 1), "keep_radius": (0, 1), "handover_in_z": (0, 1),
    "schedule": (0, 1), "adaptive": (0, 1), "loss_aware": (0, 1), "steer": (0, 1), "learned_start": (0, 1),
    "extra_dims": (0, 2**16), "encoder_start": (0.0, 1.0),
}
ADAPT_WIDTH = 16  # hidden width of an adaptive θ's step network
STEER_WIDTH = 256  # hidden width of a steering θ's network
ADAPT_RANGE = 2.0  # an adapted η stays within e^±2 of the schedule's: a step that grows without bound diverges


def recipe_config(recipe: str, **changes: Any) -> MappingConfig:
    """The :class:`MappingConfig` of a named recipe (``RECIPES``) with ``changes`` on top; a change of ``None``
    keeps the recipe's value, so a command line's unset flags fall through to it."""
    if recipe not in RECIPES:
        raise InvalidInputError(f"Unknown landscape recipe '{recipe}'; choose one of: {', '.join(RECIPES)}.")
    fields = MappingConfig.__dataclass_fields__
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise InvalidInputError(f"Unknown θ settings: {', '.join(unknown)}.")
    return MappingConfig(**{**RECIPES[recipe], **{k: v for k, v in changes.items() if v is not None}})


class LandscapeMapping(nn.Module):
    """x = z + MLP(z) [N, z_dim] → [N, z_dim], plus the learned descent step size exp(log_step); with a wider Z,
    z = (u, e) [N, z_dim + extra_dims] and x = u + MLP(u, e): the extra dims act through the MLP alone."""

    # buffers, registered only when the config asks for them (see ``_build``)
    x_mean: torch.Tensor  # [D]
    x_std: torch.Tensor  # [D]
    precond: torch.Tensor  # [D, D]
    precond_inv: torch.Tensor  # [D, D]

    def __init__(self, config: MappingConfig = MappingConfig(), seed: int = 0) -> None:
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[]):  # seeded init, without touching the global RNG stream
            torch.manual_seed(seed)
            self._build(config)

    def _build(self, config: MappingConfig) -> None:
        layers: list[nn.Module] = []
        widths = [config.z_dim + config.extra_dims] + [config.width] * (config.depth - 1)
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.SiLU()]
        last = nn.Linear(widths[-1], config.z_dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.mlp = nn.Sequential(*layers, last)
        self.log_step = nn.Parameter(torch.tensor(float(config.step)).log())
        if config.schedule:  # per step of the horizon: η_t = exp(log_step + step_offsets[t]) and μ_t
            self.step_offsets = nn.Parameter(torch.zeros(max(config.horizon, 1)))
            self.momenta = nn.Parameter(torch.full((max(config.horizon, 1),), float(config.momentum)))
        if config.adaptive:  # features of a step → (log scale of η, shift of μ); zero at first: the schedule's steps
            out = nn.Linear(ADAPT_WIDTH, 2)
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)
            inputs = FEATURES + (LOSS_FEATURES if config.loss_aware else 0)
            self.step_net = nn.Sequential(nn.Linear(inputs, ADAPT_WIDTH), nn.SiLU(), out)
        if config.learned_start:  # where descents begin, in the unit coordinates of ε (zero: the prior's draws)
            self.start_shift = nn.Parameter(torch.zeros(config.z_dim))
        if config.steer:  # (unit ∇, unit v, step features, one-hot t) → a correction of the step's direction
            self.steer_steps = max(config.horizon, 1)
            bend = nn.Linear(STEER_WIDTH, self.z_size)
            nn.init.zeros_(bend.weight)
            nn.init.zeros_(bend.bias)
            inputs = 2 * self.z_size + FEATURES + self.steer_steps
            self.steer_net = nn.Sequential(nn.Linear(inputs, STEER_WIDTH), nn.SiLU(), bend)
        if config.standardized:
            self.register_buffer("x_mean", torch.zeros(config.z_dim))  # [D] μ of the model's latents
            self.register_buffer("x_std", torch.ones(config.z_dim))  # [D] σ
        if config.preconditioned:
            self.register_buffer("precond", torch.eye(config.z_dim))  # [D, D] A
            self.register_buffer("precond_inv", torch.eye(config.z_dim))  # [D, D] A⁻¹

    def set_frame(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store the model's latent mean and std (a standardized θ only; anything [D]-sized, e.g. [num_ws, w_dim])."""
        if not self.config.standardized:
            raise ModelLoadError("This θ is not standardized; it has no latent mean and std to set.")
        with torch.no_grad():
            self.x_mean.copy_(mean.reshape(-1))
            self.x_std.copy_(std.reshape(-1))

    def set_preconditioner(self, matrix: torch.Tensor) -> None:
        """Store A [D, D] (a preconditioned θ only) and its inverse."""
        if not self.config.preconditioned:
            raise ModelLoadError("This θ is not preconditioned; it has no preconditioner to set.")
        with torch.no_grad():
            self.precond.copy_(matrix)
            self.precond_inv.copy_(torch.linalg.inv(matrix.double()).to(matrix.dtype))

    @property
    def z_size(self) -> int:
        """Dimensions of Z: X's (``z_dim``) plus the extra ones of a wider Z."""
        return self.config.z_dim + self.config.extra_dims

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, D] in the model's units → the coordinates z + MLP(z) lives in (A⁻¹ of (x − μ) / σ, or of x)."""
        u = (x - self.x_mean) / self.x_std if self.config.standardized else x
        return u @ self.precond_inv.T if self.config.preconditioned else u

    def widened(self, u: torch.Tensor) -> torch.Tensor:
        """[N, D] unit coordinates → z [N, z_size]: a wider Z's extra dims start at zero (the MLP's to use)."""
        if not self.config.extra_dims:
            return u
        return torch.cat([u, u.new_zeros(len(u), self.config.extra_dims)], dim=1)

    def start(self, eps: torch.Tensor) -> torch.Tensor:
        """Starts z₀ [N, z_size] for standard-normal draws ``eps`` [N, D]: the untrained θ maps them to the same
        x₀ as the identity does (ε itself, or μ + σ ⊙ ε), whatever the preconditioner and the width of Z. A θ
        with a ``learned_start`` shifts ε by its learned vector s and rescales ε + s to ‖ε‖: the starts keep the
        prior's radius (which keep-radius then holds) and their spread, but lean towards where 10 steps reach
        good faces from (a fixed good start beats random ones by ≈ 0.3 dB: docs/landscape.md)."""
        if self.config.learned_start:
            shifted = eps + self.start_shift
            eps = shifted * (eps.norm(dim=1, keepdim=True) / shifted.norm(dim=1, keepdim=True).clamp_min(1e-12))
        return self.widened(eps @ self.precond_inv.T if self.config.preconditioned else eps)

    @property
    def step_size(self) -> torch.Tensor:
        """η = exp(log_step), the descent step in Z (a tensor: training learns it); a scheduled θ's base step."""
        return self.log_step.exp()

    def step_at(self, t: int) -> torch.Tensor:
        """η_t, the step size of descent step t (0-based; steps past the horizon keep the last one's)."""
        if not self.config.schedule:
            return self.step_size
        return (self.log_step + self.step_offsets[min(t, len(self.step_offsets) - 1)]).exp()

    def momentum_at(self, t: int) -> torch.Tensor | float:
        """μ_t, the heavy-ball momentum of step t (v ← μ_t·v + ∇; it has no effect at t = 0, where v starts at ∇)."""
        if not self.config.schedule:
            return self.config.momentum
        return self.momenta[min(t, len(self.momenta) - 1)].clamp(0.0, MAX_MOMENTUM)

    def adaptation(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per face [N, 1] each: the factor on η (bounded to e^±ADAPT_RANGE) and the shift of μ, for step
        ``features`` [N, FEATURES] (an adaptive θ only)."""
        out = self.step_net(features)
        return (ADAPT_RANGE * torch.tanh(out[:, :1] / ADAPT_RANGE)).exp(), out[:, 1:]

    def schedule(self) -> tuple[list[float], list[float]]:
        """(η_t, μ_t) for t = 0 … horizon − 1, as numbers: what the method runs and reports."""
        steps = max(self.config.horizon, 1)
        with torch.no_grad():
            return ([float(self.step_at(t)) for t in range(steps)],
                    [float(self.momentum_at(t)) for t in range(steps)])

    def centred(self, z: torch.Tensor) -> torch.Tensor:
        """θ(z) before a standardized θ's μ + σ ⊙ ·: A(z + MLP(z)), or z + MLP(z); its norm is what
        ``keep_radius`` holds (an untrained θ gives ε for the start A⁻¹ε)."""
        u = z[:, :self.config.z_dim] + self.mlp(z)
        return u @ self.precond.T if self.config.preconditioned else u

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = self.centred(z)
        return self.x_mean + self.x_std * u if self.config.standardized else u


def rescaled_to_radius(theta: LandscapeMapping, z: torch.Tensor, radius: torch.Tensor, rounds: int = 2) -> torch.Tensor:
    """z [N, D] scaled so that ‖θ.centred(z)‖ ≈ ``radius`` [N, 1]: exact for the linear part of θ (each round
    rescales by the remaining ratio), close after two rounds while the MLP stays small. Differentiable."""
    for _ in range(rounds):
        z = z * (radius / theta.centred(z).norm(dim=1, keepdim=True).clamp_min(1e-12))
    return z


def theta_latent(G: Generator, theta: LandscapeMapping, z: torch.Tensor, space: str | None = None) -> torch.Tensor:
    """θ(z) [N, D] as codes of ``space`` [N, *shape]: θ maps into G's default space (where it was trained);
    another space gets them through ``G.convert_latent`` (StyleGAN's w → w+)."""
    x = theta(z).view(-1, *G.space().shape)
    return G.convert_latent(x, G.default_space, space or G.default_space)


def save_mapping(theta: LandscapeMapping, folder: Path, metadata: dict[str, Any]) -> Path:
    """Write ``theta.safetensors`` and ``theta.json`` (config + ``metadata``) into ``folder``; returns the folder."""
    meta = {"schema_version": SCHEMA_VERSION, "mapping": theta.config.to_dict(), **metadata}
    return save_weights(folder, "theta", theta.state_dict(), meta)


def load_mapping(folder: Path) -> tuple[LandscapeMapping, dict[str, Any]]:
    """Read a θ written by :func:`save_mapping`; a clear :class:`ModelLoadError` for anything else."""
    folder = Path(folder)
    tensors, meta = read_weights(folder, "theta", "landscape mapping θ", SCHEMA_VERSION)
    label = str(folder / "theta.safetensors")
    config = MappingConfig.from_dict(meta.get("mapping"), str(folder / "theta.json"))
    check_weights(tensors, label)
    # built on the meta device and compared with the file's tensors first: only a θ the file fills is allocated
    try:
        theta = build_checked(lambda: LandscapeMapping(config), {k: v.shape for k, v in tensors.items()}, label, "θ")
        theta.load_state_dict(tensors)
    except (ModelLoadError, KeyError, TypeError, RuntimeError) as exc:
        raise ModelLoadError(f"'{folder}' has a θ whose weights do not match its metadata ({exc}).") from exc
    return theta.eval(), meta
