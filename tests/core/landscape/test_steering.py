"""A steering θ (``MappingConfig.steer``): a network bends each step's direction. Untrained it steps exactly as
its recipe; trained, the method takes the trainer's steps; training moves it; it survives a save and a load."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.errors import ModelLoadError
from core.jobs import run_job
from core.landscape.gate import untrained_recipe
from core.landscape.learning import LandscapeTrainConfig, fit_to_model, train_landscape
from core.theta.mapping import LandscapeMapping, MappingConfig, load_mapping, save_mapping
from core.theta.step_rule import heavy_ball_step
from tests.core.landscape.paths import RECIPE, method_losses, trainer_losses

STEERING = replace(RECIPE, steer=True)


def bent(config: MappingConfig = STEERING) -> LandscapeMapping:
    """A steering θ whose network answers (its last layer drawn, not zero)."""
    theta = LandscapeMapping(config, seed=2)
    with torch.no_grad():
        theta.steer_net[-1].weight.normal_(0, 0.2, generator=torch.Generator().manual_seed(5))
    return theta.requires_grad_(False)


def test_an_untrained_steering_theta_steps_as_its_recipe_and_the_method_follows_the_trainer(G):
    untrained = trainer_losses(G, LandscapeMapping(STEERING, seed=2))
    assert torch.allclose(untrained, trainer_losses(G, LandscapeMapping(RECIPE, seed=2)))
    theta = bent()
    steered = trainer_losses(G, theta)
    assert not torch.allclose(steered[-1], untrained[-1], rtol=1e-3)  # the network changes the path
    assert torch.allclose(steered, method_losses(G, theta), rtol=1e-4)


def test_the_correction_is_relative_to_the_velocity_and_depends_on_the_step():
    theta = bent()
    grad = torch.randn(3, 100, generator=torch.Generator().manual_seed(1))
    plain = LandscapeMapping(RECIPE, seed=2).requires_grad_(False)
    steps = [heavy_ball_step(theta, 0, grad * scale, {}) for scale in (1.0, 1000.0)]
    scale = float(steps[0].abs().max())  # entries near zero are compared against the step's size, not their own
    assert torch.allclose(steps[1] / 1000.0, steps[0], rtol=1e-4, atol=1e-5 * scale)  # the loss level: same path
    assert not torch.allclose(steps[0], heavy_ball_step(plain, 0, grad, {}), rtol=1e-3)
    memory: dict = {}
    heavy_ball_step(theta, 0, grad, memory)
    later = heavy_ball_step(theta, 1, grad, dict(memory))
    again = heavy_ball_step(theta, 2, grad, dict(memory))
    assert not torch.allclose(later, again, rtol=1e-4)  # each step has a layer of its own (its one-hot input)


def test_training_moves_the_steering_network_and_the_gate_resets_it(G):
    config = LandscapeTrainConfig(mapping=replace(STEERING, width=8), inner_steps=3, batch=2, max_iterations=2,
                                  validate_every=0, objective="log_last")
    state = run_job(train_landscape(G, config))
    assert float(state.theta.steer_net[-1].weight.detach().abs().sum()) > 0
    assert float(untrained_recipe(state.theta).steer_net[-1].weight.abs().sum()) == 0
    assert fit_to_model(G, config).mapping.steer


def test_a_steering_theta_is_saved_and_loaded_and_a_damaged_one_refused(G, tmp_path):
    theta = bent()
    save_mapping(theta, tmp_path / "theta", {})
    loaded, _ = load_mapping(tmp_path / "theta")
    assert torch.allclose(trainer_losses(G, loaded), trainer_losses(G, theta))
    save_mapping(LandscapeMapping(RECIPE), tmp_path / "plain", {})
    meta = (tmp_path / "plain" / "theta.json").read_text().replace('"steer": false', '"steer": true')
    (tmp_path / "plain" / "theta.json").write_text(meta)
    with pytest.raises(ModelLoadError, match="do not match"):
        load_mapping(tmp_path / "plain")
