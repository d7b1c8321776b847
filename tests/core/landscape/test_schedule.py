"""A θ with a learned per-step schedule (η_t, μ_t): the trainer learns it, the method takes exactly those steps,
and it survives a save and a load."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from core.errors import ModelLoadError
from core.inversion.heavy_ball import ThetaSteps
from core.jobs import run_job
from core.landscape.learning import LandscapeTrainConfig, train_landscape
from core.theta.mapping import (
    ADAPT_RANGE,
    LandscapeMapping,
    MappingConfig,
    load_mapping,
    save_mapping,
)
from core.theta.step_rule import MAX_MOMENTUM, heavy_ball_step
from tests.core.landscape.paths import method_losses, trainer_losses

SCHEDULED = MappingConfig(width=16, momentum=0.5, keep_radius=True, horizon=3, schedule=True)


def scheduled_theta() -> LandscapeMapping:
    theta = LandscapeMapping(SCHEDULED, seed=2)
    with torch.no_grad():
        theta.mlp[-1].weight.normal_(0, 0.01)
        theta.step_offsets.copy_(torch.tensor([0.3, -0.2, 0.1]))
        theta.momenta.copy_(torch.tensor([0.0, 0.9, 0.2]))
    return theta.requires_grad_(False)


def test_the_method_takes_the_steps_the_trainer_unrolled(G):
    theta = scheduled_theta()
    trained = trainer_losses(G, theta)  # [3, 2]
    assert torch.allclose(trained, method_losses(G, theta), rtol=1e-4)
    flat = LandscapeMapping(replace(SCHEDULED, schedule=False), seed=2)
    flat.load_state_dict({k: v for k, v in theta.state_dict().items() if k not in ("step_offsets", "momenta")})
    assert not torch.allclose(trained[-1], trainer_losses(G, flat)[-1], rtol=1e-3)  # the schedule changes the path


def test_a_new_schedule_is_the_flat_descent_until_trained(G):
    theta = LandscapeMapping(SCHEDULED, seed=2)
    assert theta.schedule() == ([pytest.approx(10.0)] * 3, [0.5] * 3)
    flat = LandscapeMapping(replace(SCHEDULED, schedule=False), seed=2)
    assert torch.allclose(trainer_losses(G, theta), trainer_losses(G, flat))


def test_training_moves_the_schedule_and_a_learned_momentum_stays_below_one(G):
    config = LandscapeTrainConfig(mapping=replace(SCHEDULED, width=8), inner_steps=3, batch=2, max_iterations=2,
                                  validate_every=0, objective="log_last", theta_lr=1e-2)
    state = run_job(train_landscape(G, config))
    steps, momenta = state.theta.schedule()
    assert len(steps) == 3 and steps != [pytest.approx(10.0)] * 3
    assert momenta != [0.5] * 3
    with torch.no_grad():
        state.theta.momenta.fill_(1.5)
    assert state.theta.schedule()[1][2] < 1.0


def test_a_schedule_is_saved_and_loaded_and_a_damaged_one_refused(G, tmp_path):
    theta = scheduled_theta()
    save_mapping(theta, tmp_path / "theta", {})
    loaded, _ = load_mapping(tmp_path / "theta")
    assert loaded.schedule() == theta.schedule()
    save_mapping(LandscapeMapping(replace(SCHEDULED, schedule=False)), tmp_path / "flat", {})
    meta = (tmp_path / "flat" / "theta.json").read_text().replace('"schedule": false', '"schedule": true')
    (tmp_path / "flat" / "theta.json").write_text(meta)
    with pytest.raises(ModelLoadError, match="do not match"):
        load_mapping(tmp_path / "flat")


def test_the_method_steps_as_torch_sgd_when_the_schedule_is_flat():
    theta = LandscapeMapping(replace(SCHEDULED, momentum=0.7, step=0.1), seed=2)
    a = torch.tensor([[1.0, -2.0]], requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    ours = ThetaSteps([a], theta, base=0.1)
    torchs = torch.optim.SGD([b], lr=0.1, momentum=0.7)
    for _ in range(4):
        for p, opt in ((a, ours), (b, torchs)):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    assert torch.allclose(a, b)


ADAPTIVE = replace(SCHEDULED, adaptive=True)


def test_an_adaptive_theta_steps_as_its_schedule_until_trained_and_the_method_follows_the_trainer(G):
    theta = LandscapeMapping(ADAPTIVE, seed=2)
    untrained = trainer_losses(G, theta)
    assert torch.allclose(untrained, trainer_losses(G, LandscapeMapping(SCHEDULED, seed=2)))
    with torch.no_grad():  # a step network that answers: other step sizes and momenta for each face
        theta.step_net[-1].weight.normal_(0, 0.5)
    trained = trainer_losses(G, theta)
    assert not torch.allclose(trained[-1], untrained[-1], rtol=1e-3)
    assert torch.allclose(trained, method_losses(G, theta), rtol=1e-4)


LOSS_AWARE = replace(ADAPTIVE, loss_aware=True)


def test_a_loss_aware_theta_reads_each_faces_loss_the_same_way_in_the_trainer_and_the_method(G):
    theta = LandscapeMapping(LOSS_AWARE, seed=2)
    assert theta.step_net[0].in_features == 5  # the gradient's three signals and the loss's two
    untrained = trainer_losses(G, theta)
    assert torch.allclose(untrained, trainer_losses(G, LandscapeMapping(SCHEDULED, seed=2)))
    with torch.no_grad():  # only the loss's inputs answer: a step that depends on how the loss fell
        theta.step_net[0].weight[:, :3].zero_()
        theta.step_net[0].weight[:, 3:].normal_(0, 3.0)
        theta.step_net[-1].weight.normal_(0, 0.5)
    trained = trainer_losses(G, theta)
    assert not torch.allclose(trained[-1], untrained[-1], rtol=1e-3)
    assert torch.allclose(trained, method_losses(G, theta), rtol=1e-4)
    with pytest.raises(ValueError, match="loss"):
        heavy_ball_step(theta, 0, torch.ones(2, 100), {})


def test_fitting_a_run_to_the_model_keeps_every_descent_setting(G):
    from core.landscape.learning import fit_to_model

    fitted = fit_to_model(G, LandscapeTrainConfig(mapping=LOSS_AWARE)).mapping
    assert fitted.adaptive and fitted.loss_aware and fitted.schedule and fitted.momentum == LOSS_AWARE.momentum


@torch.no_grad()
def test_an_adapted_step_stays_within_its_bounds():
    theta = LandscapeMapping(ADAPTIVE, seed=2)
    theta.step_net[-1].bias.fill_(50.0)  # asks for an e^50 step and a momentum of 50.5
    scale, shift = theta.adaptation(torch.zeros(4, 3))
    assert float(scale.max()) == pytest.approx(math.exp(ADAPT_RANGE), rel=1e-4) and float(shift.min()) == 50.0
    memory: dict = {}
    grad = torch.ones(4, 100)
    heavy_ball_step(theta, 0, grad, memory)
    step = heavy_ball_step(theta, 1, grad, memory)  # v = μ·∇ + ∇ with μ held at MAX_MOMENTUM
    expected = float(theta.step_size) * math.exp(ADAPT_RANGE) * (1 + MAX_MOMENTUM)
    assert torch.allclose(step, torch.full_like(step, expected), rtol=1e-4)


def test_training_an_adaptive_theta_moves_its_step_network(G):
    config = LandscapeTrainConfig(mapping=replace(ADAPTIVE, width=8), inner_steps=3, batch=2, max_iterations=2,
                                  validate_every=0, objective="log_last")
    state = run_job(train_landscape(G, config))
    assert float(state.theta.step_net[-1].weight.detach().abs().sum()) > 0
