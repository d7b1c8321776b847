"""Optimisation-based inversion ("direct"): Adam on the latent, K seeded starts in one batch.

``invert`` is a job (see ``core.jobs``): it yields an :class:`InversionStep` per step and returns an
:class:`InversionResult`. Step 0 is the start; step N is the latent after N updates. Each start keeps the best
latent it has visited (the loss is not monotone under Adam), so a cancelled run still returns its best so far.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Generator as Job
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from core.device import seeded_generator, to_uint8_hwc
from core.errors import InvalidInputError
from core.generators import Generator
from core.generators.tuning import WeightDelta
from core.inversion.config import InversionConfig
from core.inversion.schedules import learning_rate, noise_strength
from core.jobs import CancelToken, run_job
from core.objectives import Objective
from core.objectives.operators import Mask, compose_operators, parse_operator

log = logging.getLogger(__name__)


@dataclass
class InversionStep:
    """Progress of one step: losses are means over the starts; arrays are numpy copies, safe across threads."""

    step: int  # updates done so far (0 = the start)
    steps: int  # updates planned
    losses: dict[str, float]  # each term and "total", mean over starts
    start_losses: np.ndarray  # [K] total loss of each start at this step
    best_loss: float  # lowest total loss seen by any start so far
    lr: float
    latent: np.ndarray  # [K, *shape] the latents evaluated at this step
    preview: np.ndarray | None = None  # uint8 [K, R, R, 3] every ``preview_every`` steps, first and last
    notices: tuple[str, ...] = ()  # warnings to show now (at step 0: e.g. the LPIPS fallback)
    z: np.ndarray | None = None  # [K, z_dim] the point in θ's learned space Z this step's latent came from
    # (landscape method, while it descends in Z, the handover step included); None in X


@dataclass
class InversionResult:
    """The best latent of each start, its image, and how the run went."""

    latents: np.ndarray  # [K, *shape] best latent per start
    losses: np.ndarray  # [K] best total loss per start
    images: np.ndarray  # uint8 [K, R, R, 3] images of ``latents``
    history: list[dict[str, float]]  # per step: step, lr, each term (mean over starts), total, best
    config: InversionConfig
    model_id: str
    space: str
    steps_done: int
    cancelled: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)
    uses_lpips: bool = False
    tuning: WeightDelta | None = None  # "pivotal": the tuned generator's weights (``images`` come from it)

    @property
    def best_index(self) -> int:
        return int(np.argmin(self.losses))

    @property
    def best_latent(self) -> np.ndarray:
        return self.latents[self.best_index]

    @property
    def best_image(self) -> np.ndarray:
        return self.images[self.best_index]

    def summary(self) -> dict[str, Any]:
        """JSON-ready description of the run (everything but the arrays)."""
        return {"config": self.config.to_dict(), "model_id": self.model_id, "space": self.space,
                "steps_done": self.steps_done, "cancelled": self.cancelled, "seconds": round(self.seconds, 4),
                "best_index": self.best_index, "start_losses": [float(v) for v in self.losses],
                "uses_lpips": self.uses_lpips, "warnings": list(self.warnings), "history": self.history,
                "tuning": None if self.tuning is None else self.tuning.summary()}


def _check_inputs(G: Generator, target: torch.Tensor, mask: torch.Tensor | None, starts: int) -> None:
    size = (G.resolution, G.resolution)
    if target.dim() != 4 or target.shape[0] not in (1, starts) or target.shape[1] != 3 or target.shape[2:] != size:
        raise InvalidInputError(
            f"The target must be 1 (or one per start) RGB image of {size[0]}×{size[1]} (got {tuple(target.shape)})."
        )
    if not bool(torch.isfinite(target).all()):
        raise InvalidInputError("The target image contains NaN or infinite values.")
    if mask is not None and tuple(mask.shape[-2:]) != size:
        raise InvalidInputError(f"The mask must be {size[0]}×{size[1]} like the target (got {tuple(mask.shape)}).")


@dataclass
class Descent:
    """What is optimised and how: ``param`` [K, …] moved by ``optimizer``; the generator sees ``to_latent(param)``.

    Direct inversion optimises the latent itself (``to_latent`` is the identity); landscape inversion optimises z
    in a learned space with x = θ(z).
    """

    param: torch.Tensor  # requires grad
    to_latent: Callable[[torch.Tensor], torch.Tensor]
    optimizer: torch.optim.Optimizer
    base_lr: float
    noise_std: torch.Tensor | float  # scale of the optional early noise, in ``param``'s units
    handover: int | None = None  # after this many updates, continue with ``then(latent)`` instead
    then: Callable[[torch.Tensor], Descent] | None = None
    bail_out: bool = False  # hand over early, from each start's best latent, once the mean loss rises above the
    # start's (a plain step size measured on one model can diverge on another: StyleGAN2's w)
    records_z: bool = False  # ``param`` is a point z of a learned space: each step reports it (``InversionStep.z``)
    extra: Callable[[torch.Tensor, torch.Tensor], tuple[str, torch.Tensor]] | None = None  # (latent, images) →
    # (name, weighted [K] term) added to the objective, e.g. hybrid's encoder consistency
    after_step: Callable[[torch.Tensor], None] | None = None  # changes ``param`` in place after each update
    # (under no_grad), e.g. the landscape method's keep-radius projection
    ramp: int = 0  # the learning rate rises linearly over this descent's first ``ramp`` updates (0: from the start)


def invert_direct(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
                  cancel: CancelToken | None = None, start: torch.Tensor | None = None
                  ) -> Job[InversionStep, None, InversionResult]:
    """Invert ``target`` [1|K, 3, R, R] in [-1, 1] (K targets: start k fits target k, a batch of problems).

    ``mask`` [R, R] or [1|K, 1, R, R] in [0, 1] is 1 where a pixel must be ignored (brushed out).
    ``start`` [K, *shape] replaces the K seeded draws from the prior (e.g. "more like this" in inpainting).
    """
    config.validate()
    latent = first_latents(G, config) if start is None else _check_start(G, start, config)  # [K, *shape]
    descent = direct_descent(G, latent, config)
    if config.warmup_steps > 0:  # plain descent first (it is faster early on), then Adam from where it got
        x = latent.clone().requires_grad_(True)
        descent = Descent(x, lambda p: p, torch.optim.SGD([x], lr=config.warmup_step), config.warmup_step,
                          descent.noise_std, handover=config.warmup_steps,
                          then=lambda reached: direct_descent(G, reached, config), bail_out=True)
    return (yield from descend(G, target, config, descent, mask, cancel))


def invert_direct_instead(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None,
                          cancel: CancelToken | None, reason: str) -> Job[InversionStep, None, InversionResult]:
    """The direct method in place of one that cannot run here (no θ, no encoder), ``reason`` as first warning:
    in the result and, as a notice of the first step, shown at once (the CLI's ``warning:`` line, the GUI)."""
    log.warning("%s", reason)
    job = invert_direct(G, target, config.with_changes(method="direct"), mask, cancel)
    notice: tuple[str, ...] = (reason,)
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            result: InversionResult = stop.value
            break
        yield replace(step, notices=notice + step.notices) if notice else step
        notice = ()
    result.warnings.insert(0, reason)
    return result


def first_latents(G: Generator, config: InversionConfig) -> torch.Tensor:
    """The K starting codes [K, *shape]: seeded draws, the first replaced by the mean with ``start="mean"`` (or
    "auto" on a model that prefers it: StyleGAN-family ones)."""
    latent = G.sample_latent(config.starts, config.seed, config.space).clone()  # w+ draws are broadcast views
    start = G.preferred_start if config.start == "auto" else config.start
    if start == "mean":
        latent[0] = G.mean_latent(config.space)[0]
    return latent


def _check_start(G: Generator, start: torch.Tensor, config: InversionConfig) -> torch.Tensor:
    shape = (config.starts, *G.space(config.space).shape)
    if tuple(start.shape) != shape:
        raise InvalidInputError(f"The start latents must be {list(shape)} (got {list(start.shape)}).")
    if not bool(torch.isfinite(start).all()):
        raise InvalidInputError("The start latents contain NaN or infinite values.")
    return start.detach().to(G.device, torch.float32).clone()


def direct_descent(G: Generator, latent: torch.Tensor, config: InversionConfig) -> Descent:
    """Adam on the generator's latent itself, from ``latent`` [K, …]."""
    space = config.space or G.default_space
    latent = latent.clone().requires_grad_(True)
    return Descent(latent, lambda p: p, torch.optim.Adam([latent], lr=config.lr), config.lr,
                   G.latent_stats(space)[1])


def build_objective(G: Generator, target: torch.Tensor, config: InversionConfig,
                    mask: torch.Tensor | None = None) -> Objective:
    """The reconstruction loss of ``config`` against ``target`` [1|K, 3, R, R]: the mask (1 = ignored) applies
    first, at full resolution, then ``config.operator``. Shared so pivotal tuning fits exactly what the pivot did."""
    target = target.to(G.device, torch.float32)
    masked = None if mask is None else Mask(mask.to(G.device, torch.float32))
    operator = compose_operators(masked, parse_operator(config.operator))
    return Objective(G, target, None, config.loss, config.space or G.default_space, operator)


def descend(G: Generator, target: torch.Tensor, config: InversionConfig, descent: Descent,
            mask: torch.Tensor | None = None, cancel: CancelToken | None = None
            ) -> Job[InversionStep, None, InversionResult]:
    """The optimisation loop shared by the methods: steps, best-so-far per start, previews, cancel."""
    _check_inputs(G, target, mask, config.starts)
    began = time.perf_counter()
    space = config.space or G.default_space
    objective = build_objective(G, target, config, mask)
    rng = seeded_generator(config.seed + 1)  # the noise stream, separate from the starts' draw
    param = descent.param
    best_loss = torch.full((config.starts,), float("inf"), device=G.device)
    with torch.no_grad():
        best_latent = descent.to_latent(param).clone()
    history: list[dict[str, float]] = []
    step, cancelled, began_at, phase_began = 0, False, 0, 0
    coarse_until = min(config.coarse_steps, config.steps) if G.has_coarse_image else 0
    for step in range(config.steps + 1):
        if step == coarse_until and step > 0:  # losses of the coarse image do not compare with the exact one's
            best_loss.fill_(float("inf"))
            phase_began = len(history)
        z = param.detach().cpu().numpy().copy() if descent.records_z else None
        diverging = (descent.bail_out and len(history) > phase_began + 1
                     and history[-1]["total"] > history[phase_began]["total"])
        if descent.then is not None and (descent.handover == step or diverging):
            if diverging:
                log.info("The plain warm-up raised the loss at step %d; Adam takes over from the best latents.", step)
            with torch.no_grad():
                descent = descent.then(best_latent.clone() if diverging else descent.to_latent(param).detach())
            param, began_at = descent.param, step
        last = step == config.steps
        lr = learning_rate(step, config.steps, descent.base_lr, config.schedule)
        if descent.ramp:
            lr *= min(1.0, (step - began_at + 1) / descent.ramp)
        sigma = 0.0 if last else noise_strength(step, config.steps, config.noise, config.noise_ramp)
        evaluated, images, terms = _evaluate(G, objective, descent, space, rng, sigma, step < coarse_until)
        total = terms["total"].detach()
        improved = total < best_loss  # NaN never improves
        best_loss = torch.where(improved, total, best_loss)
        best_latent[improved] = evaluated.detach()[improved]
        record = {"step": step, "lr": lr, **{k: float(v.detach().mean()) for k, v in terms.items()},
                  "best": float(best_loss.min())}
        history.append(record)
        show = last or step % config.preview_every == 0
        yield InversionStep(step, config.steps, {k: record[k] for k in terms}, total.cpu().numpy().copy(),
                            record["best"], lr, evaluated.detach().cpu().numpy().copy(),
                            to_uint8_hwc(images) if show else None, tuple(objective.warnings) if step == 0 else (),
                            z)
        if not bool(torch.isfinite(total).any()):
            objective.warnings.append("The optimisation diverged (NaN loss); kept the best result. Lower the lr.")
            break
        if last or (cancel is not None and cancel.cancelled):
            cancelled = not last
            break
        _update(descent, terms["total"], lr)
    with torch.no_grad():
        best_images = to_uint8_hwc(G.synthesize(best_latent, space))
    return InversionResult(best_latent.cpu().numpy().copy(), best_loss.cpu().numpy().copy(), best_images, history,
                           config, G.model_id, space, step, cancelled, time.perf_counter() - began,
                           objective.warnings, objective.uses_lpips)


def _evaluate(G: Generator, objective: Objective, descent: Descent, space: str, rng: torch.Generator,
              sigma: float, coarse: bool = False) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """The latents the generator sees (with early noise of strength ``sigma``), their images (``coarse``: the
    model's cheaper approximation) and the loss terms."""
    param = descent.param
    noise = torch.randn(param.shape, generator=rng).to(G.device) * descent.noise_std * sigma
    evaluated = descent.to_latent(param + noise if sigma > 0 else param)
    images = G.synthesize_coarse(evaluated, space) if coarse else G.synthesize(evaluated, space)
    terms = objective(images, evaluated)
    if descent.extra is not None:
        name, value = descent.extra(evaluated, images)
        terms[name] = value
        terms["total"] = terms["total"] + value
    return evaluated, images, terms


def _update(descent: Descent, total: torch.Tensor, lr: float) -> None:
    """One optimiser update of ``descent.param`` at ``lr`` down the summed loss of the starts."""
    for group in descent.optimizer.param_groups:
        group["lr"] = lr
    descent.optimizer.zero_grad(set_to_none=True)
    total.sum().backward()
    observe = getattr(descent.optimizer, "observe", None)  # θ's own steps may read each start's loss
    if observe is not None:
        observe(total.detach())
    descent.optimizer.step()
    if descent.after_step is not None:
        with torch.no_grad():
            descent.after_step(descent.param)


def warm_up(G: Generator) -> None:
    """One tiny inversion, so lazy imports and kernel set-up happen now rather than in the first real run.

    Done at application start: on the engine thread those one-time costs hold the GIL for ~200 ms and would
    freeze the window once, mid-run.
    """
    config = InversionConfig(steps=1).with_changes(loss_lpips=0.0)
    run_job(invert_direct(G, G.sample(1, 0), config))
