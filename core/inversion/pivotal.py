"""Pivotal tuning inversion ("pivotal", Roich et al. 2022, PTI): find a pivot latent, then fine-tune the generator.

A latent alone cannot reach a photo the generator never learned to draw (a real face, off its manifold); PTI
moves the generator a little towards the photo instead, around one pivot latent, so that edits made from the
pivot still behave as they did on the original model. As implemented here:

1. Pivot: the inversion of ``config.pivot`` (its steps re-yielded unchanged); with K starts, the best start's
   latent x_p (PTI tunes for one pivot) and that start's target and mask.
2. Tuning: a copy of the generator (one extra model in memory; BatchNorm stays in eval mode) gets Adam on all of
   its weights, lr ``tune_lr``, at most ``tune_steps`` updates, on
       L = R(G'(x_p)) + tune_locality · mean ‖G'(x_r) − G(x_r)‖²
   where R is the pivot's own reconstruction objective (pixel, LPIPS or its fallback, prior; mask and operator
   included) and x_r = x_p + r · σ ⊙ unit((z_r − x_p) / σ) are 2 latents at r = 3 latent stds σ from the pivot
   towards fresh prior draws z_r (seeded by ``seed`` and the step): PTI's locality regulariser. It keeps the
   change local, so images of latents an edit reaches (a few stds away) stay those of the original model.
3. It stops once R ≤ ``tune_target``, after ``tune_steps`` updates, or on cancel (the weights so far are kept);
   the final weights are returned (the loss falls steadily at PTI's small lr) as a :class:`WeightDelta` from
   the original model, which is never modified.
"""

from __future__ import annotations

import time
from collections.abc import Generator as Job
from typing import Any, overload

import numpy as np
import torch
import torch.nn.functional as F

from core.device import to_uint8_hwc
from core.generators import Generator
from core.generators.tuning import WeightDelta, tuned_copy, weight_delta
from core.inversion.config import InversionConfig
from core.inversion.optimize import InversionResult, InversionStep, build_objective
from core.jobs import CancelToken
from core.objectives import Objective

LOCALITY_RADIUS = 3.0  # distance of the locality latents from the pivot, in latent stds (a typical edit's reach)
LOCALITY_SAMPLES = 2  # locality latents per step
LOCALITY_SEED = 1_500_000_000  # their prior draws' seeds start here (apart from the inversion starts' seeds)


def pivot_config(config: InversionConfig) -> InversionConfig:
    """The pivot's run: ``config.pivot`` as the method; a hybrid pivot with refine "auto" refines directly.

    Measured on the sample photos (``python -m bench methods``, pixel loss): a pivot refined through the
    shipped θ reconstructs better before tuning (19.81 against 19.18 dB) but tunes worse: 28.62 against 32.10 dB
    after tuning, its runs using all 300 tuning steps where the direct pivots stopped at the target after 154 and
    242. So "auto" means direct here.
    """
    refine = "direct" if config.refine == "auto" else config.refine
    return config.with_changes(method=config.pivot, refine=refine)


def invert_pivotal(G: Generator, target: torch.Tensor, config: InversionConfig, mask: torch.Tensor | None = None,
                   cancel: CancelToken | None = None) -> Job[InversionStep, None, InversionResult]:
    """Invert ``target`` [1|K, 3, R, R] in [-1, 1] by a pivot latent plus tuned weights (see the module doc).

    ``result.images`` come from the tuned generator, ``result.tuning`` holds its weights (None only when the
    run was cancelled before tuning began); ``G`` itself is left as it was.
    """
    config.validate()
    from core.inversion import invert  # the dispatcher imports this module

    pivot_run, planned = yield from _relay(invert(G, target, pivot_config(config), mask, cancel))
    if pivot_run.cancelled:
        return _untuned(pivot_run, config)
    best = pivot_run.best_index
    pivot = torch.from_numpy(pivot_run.latents[best][None]).to(G.device, torch.float32)  # [1, *shape]
    objective = build_objective(G, _one(target, best), config, _one(mask, best))
    return (yield from _tune(G, pivot, objective, config, pivot_run, planned, cancel))


def _relay(job: Job[InversionStep, None, InversionResult]) -> Job[InversionStep, None, tuple[InversionResult, int]]:
    """Re-yield the pivot's steps; return its result and the steps it planned (the progress bar's first part)."""
    planned = 0
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            return stop.value, max(planned, stop.value.steps_done)
        planned = step.steps
        yield step


@overload
def _one(x: torch.Tensor, index: int) -> torch.Tensor: ...
@overload
def _one(x: None, index: int) -> None: ...
@overload
def _one(x: torch.Tensor | None, index: int) -> torch.Tensor | None: ...
def _one(x: torch.Tensor | None, index: int) -> torch.Tensor | None:
    """Problem ``index`` of a per-start target or mask (a shared one, or a 2-D mask, as is)."""
    if x is None or x.dim() < 3 or x.shape[0] == 1:
        return x
    return x[index:index + 1]


def _tune(G: Generator, pivot: torch.Tensor, objective: Objective, config: InversionConfig,
          pivot_run: InversionResult, planned: int, cancel: CancelToken | None
          ) -> Job[InversionStep, None, InversionResult]:
    """Adam on a copy of ``G``'s weights; step s reports the weights after s updates."""
    began = time.perf_counter()
    space = pivot_run.space
    tuned = tuned_copy(G)
    tuned.net.requires_grad_(True).eval()  # eval: BatchNorm keeps its running statistics
    optimizer = torch.optim.Adam(tuned.net.parameters(), lr=config.tune_lr)
    first, steps = pivot_run.steps_done, planned + config.tune_steps
    history: list[dict[str, float]] = []
    best, updates, cancelled, reached, diverged = float("inf"), 0, False, False, False
    latent = pivot.detach().cpu().numpy().copy()
    for s in range(config.tune_steps + 1):
        terms, images = _losses(G, tuned, pivot, objective, config, space, s)
        values = {k: float(v.detach()) for k, v in terms.items()}
        best = min(best, values["total"])
        diverged = not np.isfinite(values["total"])
        reached = values["reconstruction"] <= config.tune_target
        last = s == config.tune_steps or reached or diverged
        record = {"step": first + s, "lr": config.tune_lr, **values, "best": best}
        if s > 0:  # s = 0 is the pivot itself, already reported as the pivot's last step
            history.append(record)
            show = last or s % config.preview_every == 0
            yield InversionStep(first + s, steps, values, np.array([values["total"]]), best,
                                config.tune_lr, latent, to_uint8_hwc(images) if show else None)
        if last or (cancel is not None and cancel.cancelled):
            cancelled = not last
            break
        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimizer.step()
        updates += 1
    del optimizer
    return _finish(G, tuned, pivot, objective, config, pivot_run, history, began,
                   {"steps": updates, "stopped_early": reached and updates < config.tune_steps,
                    "cancelled": cancelled, "diverged": diverged, "locality_weight": config.tune_locality,
                    "lr": config.tune_lr, "locality": values["locality"]})


def _losses(G: Generator, tuned: Generator, pivot: torch.Tensor, objective: Objective, config: InversionConfig,
            space: str, s: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Each objective term, "reconstruction" (the objective's total), "locality" and "total" (scalars), and the
    tuned pivot image [1, 3, R, R]. The pivot and the locality latents run as one batch; with the locality term
    off they are not rendered at all (on FFHQ they were two thirds of a tuning step's time)."""
    if config.tune_locality == 0:
        with torch.set_grad_enabled(True):
            image = tuned.synthesize(pivot, space)
            fit = objective(image, pivot)
            terms = {k: v.sum() for k, v in fit.items() if k != "total"}
            terms["reconstruction"] = terms["total"] = fit["total"].sum()
            terms["locality"] = torch.zeros((), device=image.device)
        return terms, image.detach()
    nearby = locality_latents(G, pivot, space, LOCALITY_SEED + config.seed * 1_000_000 + s * LOCALITY_SAMPLES)
    with torch.no_grad():
        reference = G.synthesize(nearby, space)  # [n, 3, R, R] the original model's images
    with torch.set_grad_enabled(True):
        images = tuned.synthesize(torch.cat([pivot, nearby]), space)  # [1 + n, 3, R, R]
        fit = objective(images[:1], pivot)
        locality = F.mse_loss(images[1:], reference)
        terms = {k: v.sum() for k, v in fit.items() if k != "total"}
        terms["reconstruction"] = fit["total"].sum()
        terms["locality"] = locality
        terms["total"] = terms["reconstruction"] + config.tune_locality * locality
    return terms, images[:1].detach()


def locality_latents(G: Generator, pivot: torch.Tensor, space: str, seed: int, n: int = LOCALITY_SAMPLES,
                     radius: float = LOCALITY_RADIUS) -> torch.Tensor:
    """``n`` latents ``radius`` latent stds from ``pivot`` [1, *shape], towards prior draws of seeds ``seed …``
    (distance measured in std units, so every dimension counts by its own spread): [n, *shape]."""
    std = G.latent_stats(space)[1]
    towards = (G.sample_latent(n, seed, space) - pivot) / std  # [n, *shape]
    norms = towards.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (towards.dim() - 1)))
    return pivot + radius * std * towards / norms


def _finish(G: Generator, tuned: Generator, pivot: torch.Tensor, objective: Objective, config: InversionConfig,
            pivot_run: InversionResult, history: list[dict[str, float]], began: float, info: dict[str, Any]
            ) -> InversionResult:
    """The delta from ``G``, the result's image and loss from exactly the weights the delta gives, the copy freed."""
    seconds = time.perf_counter() - began
    if info["diverged"]:  # NaN weights: nothing worth keeping, and a NaN delta could never be loaded
        return _untuned(pivot_run, config, seconds, [*objective.warnings, "Pivotal tuning diverged (NaN loss); "
                        "kept the untuned pivot. Lower the tuning lr."], history)
    tuned.net.requires_grad_(False)
    delta = weight_delta(G, tuned, info)
    _set_weights(tuned, G, delta)  # G + delta can differ from the tuned weights by rounding: report what loads
    with torch.no_grad():
        images = tuned.synthesize(pivot, pivot_run.space)
        reconstruction = float(objective(images, pivot)["total"].sum())
    del tuned
    seconds = time.perf_counter() - began
    info.update(reconstruction_loss=reconstruction, seconds=round(seconds, 4))
    delta = WeightDelta(delta.base_model_id, delta.delta, info)
    return _result(pivot_run, config, pivot.cpu().numpy().copy(), np.array([reconstruction], dtype=np.float32),
                   to_uint8_hwc(images), history, seconds, delta, objective.warnings, objective.uses_lpips)


def _set_weights(tuned: Generator, G: Generator, delta: WeightDelta) -> None:
    """``tuned`` := ``G`` + ``delta``, computed as :func:`tuned_copy` does, so both give bit-identical images."""
    original = dict(G.net.named_parameters())
    with torch.no_grad():
        for name, param in tuned.net.named_parameters():
            param.copy_(original[name])
            if name in delta.delta:
                param.add_(torch.tensor(delta.delta[name]).to(param))
    tuned.model_id = delta.tuned_model_id


def _untuned(pivot_run: InversionResult, config: InversionConfig, seconds: float = 0.0,
             warnings: list[str] | None = None, history: list[dict[str, float]] | None = None) -> InversionResult:
    """The pivot's best start as the result, without tuning (cancelled before it began, or it diverged)."""
    k = pivot_run.best_index
    return _result(pivot_run, config, pivot_run.latents[k][None], pivot_run.losses[k][None],
                   pivot_run.images[k][None], history or [], seconds, None, warnings)


def _result(pivot_run: InversionResult, config: InversionConfig, latents: np.ndarray, losses: np.ndarray,
            images: np.ndarray, history: list[dict[str, float]], seconds: float, tuning: WeightDelta | None,
            warnings: list[str] | None = None, uses_lpips: bool | None = None) -> InversionResult:
    cancelled = pivot_run.cancelled or bool(tuning is not None and tuning.info["cancelled"])
    steps_done = pivot_run.steps_done + (0 if tuning is None else int(tuning.info["steps"]))
    if config.pivot == "hybrid":  # the report names what the pivot's hybrid ran ("auto" resolved)
        config = config.with_changes(refine=pivot_run.config.refine)
    return InversionResult(latents, losses, images, pivot_run.history + history, config, pivot_run.model_id,
                           pivot_run.space, steps_done, cancelled, pivot_run.seconds + seconds,
                           pivot_run.warnings + [w for w in warnings or [] if w not in pivot_run.warnings],
                           pivot_run.uses_lpips if uses_lpips is None else uses_lpips, tuning)
