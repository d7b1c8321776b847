"""A θ whose starts lean towards the encoder's guess of the target (``MappingConfig.encoder_start``): the method
and the trainer start alike, several starts stay several, a missing encoder is said and not fatal, the gate
compares like with like and states what the guess adds, and files keep λ."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.device import seeded_generator
from core.errors import ModelLoadError
from core.inversion import InversionConfig, invert
from core.inversion.encoder_start import encoded_targets, encoder_for_theta
from core.inversion.theta_descent import blended_start, landscape_descent, prior_radius, start_from
from core.jobs import run_job
from core.landscape.gate import baselines, gate, without_encoder_start
from core.landscape.learning import LandscapeTrainConfig, target_starts
from core.theta.mapping import LandscapeMapping, MappingConfig, load_mapping, save_mapping
from core.theta.registry import learning_note
from tests.core.landscape.paths import RECIPE

GUIDED = replace(RECIPE, encoder_start=0.85)
PIXEL = InversionConfig(method="landscape", steps=3, preview_every=1000).with_changes(loss_lpips=0.0)


def guided(weight: float = 0.85) -> LandscapeMapping:
    return LandscapeMapping(replace(RECIPE, encoder_start=weight), seed=2).requires_grad_(False)


def draws(k: int) -> torch.Tensor:
    """The method's start draws for seeds 0 … k − 1."""
    return torch.stack([torch.randn(100, generator=seeded_generator(i)) for i in range(k)])


def test_the_method_starts_where_the_trainer_does(G):
    theta, targets = guided(), G.sample(3, 21)
    codes = encoded_targets(G, theta, targets)
    method = landscape_descent(G, theta, PIXEL.with_changes(starts=3), codes=codes).param.detach()
    assert torch.allclose(method, target_starts(G, theta, draws(3), targets), atol=1e-6)
    assert not torch.allclose(method, theta.start(draws(3)), atol=1e-2)  # the guess moved them
    assert encoded_targets(G, LandscapeMapping(RECIPE), targets) is None  # λ = 0: no encoder is even looked for


def test_starts_lean_towards_the_guess_keep_the_prior_radius_and_stay_several(G):
    theta, target = guided(), G.sample(1, 8)
    codes = encoded_targets(G, theta, target)
    random_starts = theta.start(draws(4))
    starts = blended_start(theta, random_starts, codes)
    toward = start_from(theta, codes.flatten(1))[0]
    lean = torch.nn.functional.cosine_similarity(starts, toward[None], dim=1)
    assert bool((lean > 0.8).all())  # λ = 0.85: most of each start is the guess
    assert bool((lean > torch.nn.functional.cosine_similarity(random_starts, toward[None], dim=1)).all())
    assert torch.allclose(starts.norm(dim=1), torch.full((4,), prior_radius(100)), rtol=0.1)
    assert torch.linalg.matrix_rank(starts - starts.mean(0)) == 3  # four starts, four different faces to reach
    same = blended_start(guided(1.0), random_starts, codes)
    assert torch.allclose(same, toward.expand(4, -1), atol=1e-5)  # λ = 1: every start is the guess itself


def test_a_masked_target_is_encoded_as_the_encoder_method_sees_it(G):
    theta, target = guided(), G.sample(1, 8)
    mask = torch.zeros(1, 64, 64)
    mask[:, 20:40, 20:40] = 1.0
    painted = target.clone()
    painted[..., 20:40, 20:40] = 1.0  # what lies under the brush must not matter
    assert torch.equal(encoded_targets(G, theta, target, mask), encoded_targets(G, theta, painted, mask))
    assert not torch.equal(encoded_targets(G, theta, target), encoded_targets(G, theta, painted))


def test_without_an_encoder_the_method_says_so_and_starts_at_random(G, tmp_path):
    save_mapping(guided(), tmp_path / "theta", {"generator_id": G.model_id, "ready": True})
    config = PIXEL.with_changes(landscape=str(tmp_path / "theta"), encoder=str(tmp_path / "none"))
    result = run_job(invert(G, G.sample(1, 3), config))
    assert result.config.method == "landscape" and result.steps_done == 3
    assert "encoder's guess" in result.warnings[0] and "No encoder" in result.warnings[0]
    with pytest.raises(ModelLoadError, match="No encoder"):
        encoder_for_theta(G, tmp_path / "none")


def test_the_gate_compares_like_with_like_and_states_what_the_guess_adds(G):
    theta = guided()
    contenders = baselines(theta)
    assert contenders["identity_initial_step"].config.encoder_start == 0.85  # θ must beat the same starts
    assert contenders["direct_default"].config.encoder_start == 0.0  # the direct method has no encoder
    alone = without_encoder_start(theta)
    assert alone.config.encoder_start == 0.0
    assert all(torch.equal(a, b) for a, b in zip(alone.state_dict().values(), theta.state_dict().values(),
                                                   strict=True))
    verdict = gate(G, theta, n=4, budgets=(2,))
    assert set(verdict["encoder_start_gain"]) == {"2"} and verdict["encoder_start_gain"]["2"]["n"] == 4
    assert "random_starts" not in verdict["psnr"] and "random_starts" not in verdict["paired"]
    assert "encoder_start_gain" not in gate(G, LandscapeMapping(RECIPE, seed=2), n=2, budgets=(2,))


def test_lambda_is_saved_checked_and_named_in_the_methods_help(tmp_path):
    gate_record = {"learned_gain": {"10": {"mean": 0.5, "se": 0.1}}, "learned": True,
                   "encoder_start_gain": {"10": {"mean": 1.3, "se": 0.15}}}
    save_mapping(guided(), tmp_path / "theta", {"gate": gate_record})
    loaded, _ = load_mapping(tmp_path / "theta")
    assert loaded.config.encoder_start == 0.85
    assert "encoder's guess of the photo: +1.30 ± 0.15 dB at 10 steps over random starts" in learning_note(
        tmp_path / "theta")
    with pytest.raises(ModelLoadError, match="encoder_start"):
        MappingConfig.from_dict({**GUIDED.to_dict(), "encoder_start": 1.5})
    with pytest.raises(Exception, match="encoder_start"):
        LandscapeTrainConfig(mapping=replace(GUIDED, encoder_start=-0.1)).validate()
    assert np.isclose(MappingConfig.from_dict(GUIDED.to_dict()).encoder_start, 0.85)
