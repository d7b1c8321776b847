"""The gate's paired comparison: differences per face with their standard error, the learned part measured against
the same θ untrained, and whether training descended its objective beyond its noise."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from core.errors import InvalidInputError
from core.generators import load_generator
from core.jobs import run_job
from core.landscape.gate import SIGNIFICANCE, faces_per_budget, gate, paired, untrained_recipe
from core.landscape.learning import LandscapeTrainConfig, new_state, objective_value, train_landscape
from core.landscape.training_run import objective_trend
from core.theta import MappingConfig

SMALL = LandscapeTrainConfig(mapping=MappingConfig(width=16, depth=2), inner_steps=2, batch=2)


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


def test_paired_differences_carry_their_standard_error():
    d = paired([10.0, 11.0, 12.0, 13.0], [9.0, 10.5, 11.0, 12.5])
    assert d["mean"] == pytest.approx(0.75) and d["n"] == 4
    assert d["se"] == pytest.approx(math.sqrt(((0.25 ** 2) * 2 + 0.25 ** 2 * 2) / 3) / 2, abs=1e-3)
    assert paired([1.0], [0.0])["se"] == math.inf  # one face: no evidence either way


def test_the_untrained_recipe_resets_what_training_moves_and_keeps_what_was_fitted(G):
    config = replace(SMALL, mapping=replace(SMALL.mapping, schedule=True, momentum=0.5))
    theta = new_state(config, "cpu").theta
    with torch.no_grad():
        for p in theta.mlp.parameters():
            p.add_(0.1)
        theta.log_step.add_(0.3)
        theta.step_offsets.copy_(torch.tensor([0.2, -0.1]))
        theta.momenta.fill_(0.8)
    plain = untrained_recipe(theta)
    z = torch.randn(3, theta.config.z_dim)
    assert not torch.allclose(theta(z), z) and torch.allclose(plain(z), z)  # the identity θ starts as
    assert float(plain.step_size) == pytest.approx(theta.config.step)  # the learned step is training's too
    assert plain.schedule() == ([pytest.approx(theta.config.step)] * 2, [0.5, 0.5])
    assert any(float(p.detach().abs().sum()) > 0 for p in theta.mlp[-1].parameters())  # θ itself is untouched
    assert theta.schedule()[1][1] == pytest.approx(0.8)


def test_the_untrained_recipe_keeps_a_fitted_preconditioner(G):
    config = replace(SMALL, mapping=replace(SMALL.mapping, preconditioned=True), precondition_draws=2)
    theta = new_state(config, "cpu", G).theta
    plain = untrained_recipe(theta)
    assert torch.equal(plain.precond, theta.precond) and not torch.equal(plain.precond, torch.eye(100))


def test_the_gate_compares_paired_and_states_the_learned_part(G):
    assert faces_per_budget((10, 100)) == {10: 128, 100: 256} and faces_per_budget((10,), 4) == {10: 4}
    verdict = gate(G, new_state(SMALL, "cpu").theta, n=6, budgets=(2, 5))
    assert verdict["n_faces"] == {"2": 6, "5": 6} and verdict["significance"] == SIGNIFICANCE
    for by_budget in verdict["paired"].values():
        assert all(d["n"] == 6 and d["se"] >= 0 for d in by_budget.values())
    # an untrained θ is its own untrained recipe: it learned exactly nothing, and is not called learned
    assert all(d["mean"] == 0.0 and d["se"] == 0.0 for d in verdict["learned_gain"].values())
    assert not verdict["learned"] and not verdict["passed"]
    assert "±" in verdict["reason"]


def history(values: list[float]) -> list[dict]:
    return [{"step_losses": [v, v]} for v in values]


def test_training_is_called_trained_only_when_its_objective_fell_beyond_noise():
    gen = torch.Generator().manual_seed(0)
    noise = (torch.randn(100, generator=gen) * 0.01).tolist()
    flat = objective_trend(history([0.1 + e for e in noise]))
    falling = objective_trend(history([0.1 - 0.0005 * i + e for i, e in enumerate(noise)]))
    assert not flat["fell"] and "did not fall" in flat["reason"] and flat["window"] == 20
    assert falling["fell"] and falling["drop"] > 2 * falling["se"]
    assert not objective_trend(history([0.1] * 6))["fell"]  # too short to tell


def test_the_log_objective_is_the_mean_log_mse_after_the_last_step(G):
    per_step = torch.tensor([[0.5, 0.5], [0.01, 0.0001]])
    weights = torch.tensor([1 / 3, 2 / 3])
    log_last = LandscapeTrainConfig(objective="log_last")
    assert float(objective_value(log_last, per_step, weights)) == pytest.approx(math.log(1e-3))
    assert float(objective_value(LandscapeTrainConfig(), per_step, weights)) == pytest.approx(
        (0.5 / 3 + 0.01 * 2 / 3 + 0.5 / 3 + 0.0001 * 2 / 3) / 2)
    with pytest.raises(InvalidInputError, match="objective"):
        LandscapeTrainConfig(objective="psnr").validate()
    steps = run_job(train_landscape(G, replace(SMALL, objective="log_last", max_iterations=2, validate_every=0)))
    assert len(steps.history) == 2 and all(h["objective"] < 0 for h in steps.history)  # log of an MSE below 1


def test_more_faces_than_one_batch_holds_are_scored_in_seeded_batches(G, monkeypatch):
    """Benchmarks on 512 faces exceed the inversion's 256 starts: the faces go in batches, each seeded after the
    faces before it, so the scores are those of one batch (the batch size made small here to test it fast)."""
    from bench.common import psnr_after
    from core.inversion import InversionConfig
    from core.landscape.gate import landscape_psnr
    from core.theta import LandscapeMapping

    theta = LandscapeMapping(MappingConfig(width=16, depth=2), seed=1).requires_grad_(False)
    faces = G.sample(3, 21)
    whole = landscape_psnr(G, theta, faces, 2)  # one batch of 3
    direct = InversionConfig(preview_every=1000).with_changes(loss_lpips=0.0)
    direct_whole = psnr_after(G, faces, direct, 2)
    monkeypatch.setattr("core.inversion.config.MAX_STARTS", 2)
    batched = landscape_psnr(G, theta, faces, 2)
    assert batched[:2] == landscape_psnr(G, theta, faces[:2], 2)
    assert batched[2:] == landscape_psnr(G, theta, faces[2:], 2, seed=2)
    assert batched == whole  # start k is seeded seed + k: batching changes nothing
    assert psnr_after(G, faces, direct, 2) == direct_whole
    monkeypatch.undo()
    assert landscape_psnr(G, theta, faces, 2, batch_size=1) == whole  # the batches a large model's memory allows


def test_a_large_models_evaluation_batches_fit_its_memory(G):
    """The embedded model's faces go in one batch; on FFHQ (≈ 0.9 GB a face and step) the batch is what one face's
    measured step allows within the budget, never more than the faces asked for."""
    from core.generators.ffhq_install import find_data
    from core.inversion.config import MAX_STARTS
    from core.landscape.gate import evaluation_batch
    from core.landscape.memory_plan import forward_bytes
    from core.memory import SAFETY, memory_budget

    assert evaluation_batch(G, 512) == MAX_STARTS
    if find_data() is None:
        pytest.skip("the FFHQ model (random-face) is not installed")
    ffhq = load_generator("ffhq", "cpu")
    per_face = forward_bytes(ffhq, ffhq.sample_latent(1, 0)) * SAFETY
    assert 0.3e9 < per_face < 3e9
    before = memory_budget("cpu")
    size = evaluation_batch(ffhq, 64)
    after = memory_budget("cpu")  # the free memory moves a little between readings
    assert 1 <= size <= 64
    assert min(64, int(min(before, after) // per_face)) <= size <= min(64, int(max(before, after) // per_face))
