"""The "encoder" and "hybrid" methods: starts from the encoder, refinement, consistency term, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InvalidInputError
from core.evaluation import held_out_faces
from core.inversion import InversionConfig, invert
from core.inversion.encoder import find_encoder, shipped_encoder_dir
from core.inversion.encoder_methods import encoder_view
from core.inversion.encoder_training import EncoderTrainConfig, run_encoder_training
from core.inversion.theta_descent import prior_radius
from core.jobs import run_job
from core.metrics import psnr

PIXEL = InversionConfig().with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def tiny_encoder(G, tmp_path_factory):
    """A briefly trained encoder (structure tests; the quality tests use the shipped one)."""
    folder = tmp_path_factory.mktemp("encoder")
    config = EncoderTrainConfig(width=8, batch=16, iterations=20, validate_every=0, lr=3e-3)
    run_job(run_encoder_training(G, config, folder, held_out=4))
    return folder


def _images(result) -> torch.Tensor:
    return torch.from_numpy(result.images).permute(0, 3, 1, 2).float() / 127.5 - 1


def test_encoder_method_is_one_pass_of_the_encoder(G, tiny_encoder):
    target = G.sample(1, 77)
    config = PIXEL.with_changes(method="encoder", encoder=str(tiny_encoder), steps=50)
    steps: list = []
    result = run_job(invert(G, target, config), steps.append)
    encoder, _ = find_encoder(G, tiny_encoder)
    assert len(steps) == 1 and result.steps_done == 0 and result.config.steps == 50
    assert np.array_equal(result.latents, encoder(target).numpy())
    assert result.config.method == "encoder" and not result.warnings


def test_k_starts_spread_around_the_encoders_latent(G, tiny_encoder):
    config = PIXEL.with_changes(method="encoder", encoder=str(tiny_encoder), starts=3)
    result = run_job(invert(G, G.sample(1, 5), config))
    first = result.latents[0]
    assert not np.allclose(result.latents[1], first) and not np.allclose(result.latents[2], result.latents[1])
    assert (result.latents[1] - first).std() == pytest.approx(0.5, rel=0.3)


def test_hybrid_refines_from_the_encoder_start(G, tiny_encoder):
    target = G.sample(1, 9)
    config = PIXEL.with_changes(method="hybrid", encoder=str(tiny_encoder), steps=10, refine="direct")
    steps: list = []
    result = run_job(invert(G, target, config), steps.append)
    encoder, _ = find_encoder(G, tiny_encoder)
    assert np.allclose(steps[0].latent, encoder(target).numpy())
    assert len(steps) == 11 and result.losses[0] < steps[0].best_loss


def test_the_consistency_term_enters_the_loss(G, tiny_encoder):
    config = PIXEL.with_changes(method="hybrid", encoder=str(tiny_encoder), steps=3, consistency=0.5)
    result = run_job(invert(G, G.sample(1, 9), config))
    assert all("consistency" in h for h in result.history)
    first = result.history[0]
    assert first["total"] == pytest.approx(first["pixel"] + first["consistency"], rel=1e-5)


def test_hybrid_can_refine_in_the_landscape_space(G, tiny_encoder):
    config = PIXEL.with_changes(method="hybrid", encoder=str(tiny_encoder), steps=12, refine="landscape")
    steps: list = []
    result = run_job(invert(G, G.sample(1, 9), config), steps.append)
    encoder, _ = find_encoder(G, tiny_encoder)
    assert steps[0].z is not None  # it descends in θ's space first
    start, guess = steps[0].latent.reshape(-1), encoder(G.sample(1, 9)).numpy().reshape(-1)
    # θ(z₀) is E(y) moved along its own direction to the radius of θ's prior starts (an encoder's codes are short)
    assert np.dot(start, guess) / (np.linalg.norm(start) * np.linalg.norm(guess)) == pytest.approx(1, abs=1e-5)
    assert np.linalg.norm(start) == pytest.approx(prior_radius(100), rel=1e-3) != pytest.approx(np.linalg.norm(guess))
    assert result.steps_done == 12


def test_the_prior_radius_is_the_mean_length_of_standard_normal_draws():
    draws = torch.randn(200_000, 100, generator=torch.Generator().manual_seed(0))
    assert prior_radius(100) == pytest.approx(float(draws.norm(dim=1).mean()), abs=2e-3)
    assert prior_radius(1) == pytest.approx(np.sqrt(2 / np.pi))  # E|ε| for one dimension


def test_auto_refines_through_a_ready_theta_and_directly_without_one(G, tiny_encoder, tmp_path):
    """The default "auto" is "landscape" where the model has a ready θ (the shipped one here) and "direct",
    without a warning, where it has none; the result's config names what ran."""
    target = G.sample(1, 9)
    base = PIXEL.with_changes(method="hybrid", encoder=str(tiny_encoder), steps=4)
    assert base.refine == "auto"
    auto, landscape = (run_job(invert(G, target, base.with_changes(refine=r))) for r in ("auto", "landscape"))
    assert np.array_equal(auto.latents, landscape.latents) and auto.config.refine == "landscape"
    no_theta = base.with_changes(landscape=str(tmp_path))
    auto, direct = (run_job(invert(G, target, no_theta.with_changes(refine=r))) for r in ("auto", "direct"))
    assert np.array_equal(auto.latents, direct.latents) and auto.config.refine == "direct" and not auto.warnings
    asked = run_job(invert(G, target, no_theta.with_changes(refine="landscape")))
    assert "Refined with the direct method instead" in asked.warnings[0]


def test_without_an_encoder_both_methods_fall_back_to_direct_and_say_so(G, tmp_path):
    for method in ("encoder", "hybrid"):
        config = PIXEL.with_changes(method=method, encoder=str(tmp_path / "none"), steps=2)
        result = run_job(invert(G, G.sample(1, 3), config))
        assert result.config.method == "direct"
        assert "No encoder" in result.warnings[0] and "direct method instead" in result.warnings[0]


def test_encoder_methods_refuse_given_starts(G):
    with pytest.raises(InvalidInputError, match="draws its own starts"):
        invert(G, G.sample(1, 0), PIXEL.with_changes(method="hybrid"), start=G.sample_latent(1, 0))
    with pytest.raises(InvalidInputError, match="refine"):
        invert(G, G.sample(1, 0), PIXEL.with_changes(method="hybrid", refine="sideways"))


def test_the_encoder_sees_masked_pixels_as_the_known_pixels_mean_colour():
    target = torch.rand(1, 3, 8, 8) * 2 - 1
    mask = torch.zeros(8, 8)
    mask[2:5, 2:6] = 1
    view = encoder_view(target, mask)
    known = mask == 0
    assert torch.equal(view[..., known], target[..., known])
    expected = target[..., known].mean(dim=-1)  # [1, 3]
    assert torch.allclose(view[..., 3, 3], expected, atol=1e-6)



def test_the_shipped_encoder_reconstructs_held_out_faces_in_one_pass(G):
    assert (shipped_encoder_dir(G) / "encoder.json").is_file(), "the default model ships an encoder"
    faces = held_out_faces(G, 8)
    result = run_job(invert(G, faces, PIXEL.with_changes(method="encoder", starts=8)))
    random = G.synthesize(G.sample_latent(8, 123))
    assert float(psnr(_images(result), faces).mean()) > float(psnr(random, faces).mean()) + 3.0


def test_hybrid_beats_direct_at_the_same_small_budget(G):
    faces = held_out_faces(G, 8)
    scores = {}
    for method in ("direct", "hybrid"):
        result = run_job(invert(G, faces, PIXEL.with_changes(method=method, starts=8, steps=20)))
        scores[method] = float(psnr(_images(result), faces).mean())
    assert scores["hybrid"] > scores["direct"] + 1.0
