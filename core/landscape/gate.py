"""The validation gate: a θ is "ready" only when it beats the untrained identity mapping at 10 and 100 steps.

Measured on held-out generated faces (seeds no training ever draws), with the landscape method exactly as the
product runs it, and compared *paired*: the same faces for θ and each baseline, the per-face differences'
mean and standard error. θ beats a baseline when it is ahead by more than ``SIGNIFICANCE`` standard errors, on
``GATE_FACES`` faces per budget (the paired SE is ≈ 0.1 dB at 10 steps on 128 faces and larger at 100 steps, so
256 there); tenths of a dB on 32 faces were selection noise. The identity baseline is measured twice, with the
initial and with θ's learned step size, and θ must beat both, so a θ that only learned a better step size does
not pass as a better landscape. A θ that descends its own way (keep-radius, its own hand-over) must also beat
the direct method's default, so a recipe that only handicaps its identity baseline (a hand-over lr that suits
θ's coordinates, not X's) cannot pass.

Every verdict also states the *learned* part's gain: θ against the same θ untrained (same preconditioner, frame
and descent; its MLP's output zero and its step size and schedule at their initial values), paired on the same
faces. It is reported, not required: a θ whose
recipe alone beats the baselines is still worth using, but it is not called learned. A θ whose starts lean
towards the encoder's guess (``encoder_start``) is compared with baselines that start the same way (the direct
method's default aside), and its verdict also states what the guess adds: θ against itself from random starts.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from typing import Any

import torch

from core.device import from_uint8_hwc
from core.evaluation import held_out_faces
from core.generators import Generator
from core.inversion import InversionConfig
from core.inversion.config import MAX_STARTS, start_batches
from core.inversion.encoder_start import encoded_targets
from core.inversion.optimize import descend
from core.inversion.theta_descent import landscape_descent
from core.jobs import run_job
from core.landscape.memory_plan import forward_bytes
from core.memory import faces_per_pass, memory_budget
from core.metrics import psnr
from core.theta import LandscapeMapping, MappingConfig

GATE_FACES = {10: 128, 100: 256}  # faces per budget (a budget not listed: the largest of these)
# A model whose working image is wider than the embedded one's (FFHQ: ≈ 0.6 s a face and step on a 2-core CPU, so
# GATE_FACES would take ≈ 20 hours): budgets 10 and 30 on 16 and 8 faces, ≈ 20 minutes here.
# Its paired SE is ≈ 0.25 dB at 10 steps (16 FFHQ faces): coarser, and so harder to pass, never easier.
LARGE_MODEL_GATE = {10: 16, 30: 8}
EMBEDDED_SIDE = 64  # the embedded model's working image
SIGNIFICANCE = 2.0  # θ must lead each baseline by more than this many standard errors of the paired difference
# how θ descends, beside its mapping
DESCENT_FIELDS = ("momentum", "keep_radius", "handover_beta2", "handover_ramp", "handover_in_z", "handover_lr",
                  "schedule", "adaptive", "loss_aware", "steer", "encoder_start")


def evaluation_batch(G: Generator, faces: int) -> int:
    """Faces one batch of evaluation may descend together: up to ``MAX_STARTS`` on a model no wider than the
    embedded one; on a larger model as many as one face's step (measured: FFHQ ≈ 0.9 GB) allows within the memory
    budget — a batch of 16 FFHQ faces needs ≈ 15 GB. Refused, with the figures, when not even one fits."""
    if G.resolution <= EMBEDDED_SIDE:
        return MAX_STARTS
    return faces_per_pass(min(faces, MAX_STARTS), forward_bytes(G, G.sample_latent(1, 0)), memory_budget(G.device),
                          "Evaluating θ")


def landscape_psnr(G: Generator, theta: LandscapeMapping, targets: torch.Tensor, steps: int, seed: int = 0, *,
                   batch_size: int | None = None) -> list[float]:
    """PSNR (dB) per target after ``steps`` of landscape descent with ``theta`` (one start per target), in
    batches of ``batch_size`` targets (default :func:`evaluation_batch`), each seeded after the targets before it
    (start k is seeded ``seed + k``), so the scores are those one batch would give."""
    out: list[float] = []
    size = batch_size or evaluation_batch(G, len(targets))
    for first, batch in start_batches(targets, size):
        config = InversionConfig(method="landscape", steps=steps, starts=len(batch), seed=seed + first,
                                 preview_every=10_000).with_changes(loss_lpips=0.0)
        codes = encoded_targets(G, theta, batch)  # None unless θ starts from the encoder's guess
        result = run_job(descend(G, batch, config, landscape_descent(G, theta, config, codes=codes)))
        out += [float(v) for v in psnr(from_uint8_hwc(result.images, G.device), batch)]
    return out


def identity_like(theta: LandscapeMapping, step: float, same_descent: bool = True) -> LandscapeMapping:
    """An untrained θ (the identity) with the given step size; a preconditioned θ's baseline has no
    preconditioner (it is fitted to the model, so the gate counts it as part of what θ brings). With
    ``same_descent`` it descends as θ does (keep-radius, hand-over Adam), so only the mapping differs; without, it
    is the direct method's default (plain steps, then Adam as is)."""
    config = replace(theta.config, step=step, preconditioned=False)
    if not same_descent:
        plain = MappingConfig()
        config = replace(config, **{name: getattr(plain, name) for name in DESCENT_FIELDS})
    baseline = LandscapeMapping(config).to(theta.log_step.device)
    if theta.config.standardized:
        baseline.set_frame(theta.x_mean, theta.x_std)  # the same Gaussian start as θ's
    return baseline.requires_grad_(False)


def baselines(theta: LandscapeMapping) -> dict[str, LandscapeMapping]:
    """What θ must beat: the identity with θ's initial and with its learned step, descending as θ does, and, when
    θ descends its own way, the direct method's default."""
    contenders = {"identity_initial_step": identity_like(theta, theta.config.step),
                  "identity_learned_step": identity_like(theta, float(theta.step_size.detach()))}
    default = identity_like(theta, MappingConfig().step, same_descent=False)
    if default.config != contenders["identity_initial_step"].config:
        contenders["direct_default"] = default
    return contenders


def paired(ours: list[float], theirs: list[float]) -> dict[str, float]:
    """Mean and standard error of the per-face differences ``ours − theirs`` (dB), and how many faces."""
    differences = [a - b for a, b in zip(ours, theirs, strict=True)]
    spread = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else math.inf
    return {"mean": round(statistics.fmean(differences), 3), "se": round(spread, 3), "n": len(differences)}


def untrained_recipe(theta: LandscapeMapping) -> LandscapeMapping:
    """θ as training found it: the same config and fitted buffers (preconditioner, frame), every trained parameter
    at its start (the MLP's output zero, the step size and any per-step schedule at their initial values), so the
    paired difference against it is what training learned."""
    plain = LandscapeMapping(theta.config).to(theta.log_step.device)
    fitted = dict(theta.named_buffers())
    plain.load_state_dict({**plain.state_dict(), **fitted})
    return plain.requires_grad_(False)


def without_encoder_start(theta: LandscapeMapping) -> LandscapeMapping:
    """θ itself, its starts the prior's draws alone: against it, what the encoder's guess adds to θ's starts."""
    alone = LandscapeMapping(replace(theta.config, encoder_start=0.0)).to(theta.log_step.device)
    alone.load_state_dict(theta.state_dict())
    return alone.requires_grad_(False)


def model_gate(G: Generator) -> dict[int, int]:
    """Faces per budget of ``G``'s gate (and budgets of its validation scores): ``GATE_FACES``, or
    ``LARGE_MODEL_GATE`` for a model whose working image is wider than the embedded one's."""
    return GATE_FACES if G.resolution <= EMBEDDED_SIDE else LARGE_MODEL_GATE


def faces_per_budget(budgets: tuple[int, ...], n: int | None = None, table: dict[int, int] = GATE_FACES
                     ) -> dict[int, int]:
    """``n`` faces at every budget when given (tests, quick checks), else ``table``'s."""
    return {b: n if n is not None else table.get(b, max(table.values())) for b in budgets}


def gate(G: Generator, theta: LandscapeMapping, n: int | None = None, budgets: tuple[int, ...] | None = None
         ) -> dict[str, Any]:
    """θ against each baseline at each budget (by default the model's: :func:`model_gate`), paired on the same
    held-out faces; θ passes when it leads every baseline by more than ``SIGNIFICANCE`` standard errors. Also the
    learned part's gain (see the module doc)."""
    table = model_gate(G)
    budgets = budgets or tuple(table)
    faces = faces_per_budget(budgets, n, table)
    targets = held_out_faces(G, max(faces.values()))  # faces(k) is a prefix of faces(m) for k < m
    theta = theta.eval().requires_grad_(False)
    contenders = {"theta": theta, **baselines(theta), "untrained_recipe": untrained_recipe(theta)}
    if theta.config.encoder_start > 0:
        contenders["random_starts"] = without_encoder_start(theta)
    per_face = {name: {b: landscape_psnr(G, m, targets[:faces[b]], b) for b in budgets}
                for name, m in contenders.items()}
    figures = {name: {str(b): round(statistics.fmean(v), 3) for b, v in runs.items()}
               for name, runs in per_face.items() if name not in ("untrained_recipe", "random_starts")}
    differences = {name: {str(b): paired(per_face["theta"][b], per_face[name][b]) for b in budgets}
                   for name in contenders if name != "theta"}
    learned = differences.pop("untrained_recipe")
    from_encoder = differences.pop("random_starts", None)
    losing = [(name, b) for name, by_budget in differences.items() for b, d in by_budget.items()
              if d["mean"] <= SIGNIFICANCE * d["se"]]
    beaten = "the identity mapping and the direct method" if "direct_default" in contenders else "the identity mapping"
    reason = f"beats {beaten} at every budget" if not losing else (
        "does not beat " + ", ".join(
            f"{name} at {b} steps ({differences[name][b]['mean']:+.3f} ± {differences[name][b]['se']:.3f} dB)"
            for name, b in losing))
    return {"n_faces": {str(b): k for b, k in faces.items()}, "budgets": list(budgets), "psnr": figures,
            "paired": differences, "significance": SIGNIFICANCE, "learned_gain": learned,
            "learned": all(d["mean"] > SIGNIFICANCE * d["se"] for d in learned.values()),
            **({"encoder_start_gain": from_encoder} if from_encoder else {}),
            "passed": not losing, "reason": reason}
