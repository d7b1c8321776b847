"""The identity term of the inversion objective and the identity distance in reports."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from core.alignment import framing_for
from core.device import from_uint8_hwc
from core.generators import load_generator
from core.imageio import load_photo
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.metrics import reconstruction_metrics
from core.objectives import identity
from core.objectives.compose import LossWeights, Objective
from core.objectives.operators import Grayscale
from core.placement import Placement
from core.resources import resources_dir, sample_photos


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.fixture(scope="module")
def target(G):
    photo = load_photo(sample_photos()[0])
    return from_uint8_hwc(Placement.default_for(photo).target(photo.pixels, G.resolution))


def test_the_identity_term_is_the_embedding_distance_and_counts_in_the_total(G, target):
    objective = Objective(G, target, None, LossWeights(lpips=0.0, identity=0.5))
    latent = G.sample_latent(3, 0).requires_grad_(True)
    images = G.synthesize(latent)
    terms = objective(images, latent)
    assert terms["identity"].shape == (3,) and torch.isfinite(terms["identity"]).all()
    expected = identity.identity_loss(framing_for(G))(images, target)
    assert torch.allclose(terms["identity"], expected, atol=1e-5)
    assert torch.allclose(terms["total"], terms["pixel"] + 0.5 * terms["identity"], atol=1e-6)
    terms["total"].sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0
    assert "identity" not in Objective(G, target, None, LossWeights(lpips=0.0))(images.detach(), latent)


def test_under_a_degradation_the_identity_term_is_off_and_says_so(G, target):
    objective = Objective(G, target, None, LossWeights(lpips=0.0, identity=1.0), operator=Grayscale())
    assert objective.identity is None and any("identity term" in w for w in objective.warnings)


def test_damaged_identity_weights_turn_the_term_off_visibly(G, target, tmp_path, monkeypatch):
    shutil.copytree(resources_dir() / "framing", tmp_path / "framing")  # the model's framing stays known
    folder = tmp_path / "identity"
    folder.mkdir()
    (folder / identity.weights_path().name).write_bytes(b"not safetensors")
    monkeypatch.setenv("LANDSCAPE_STUDIO_RESOURCES", str(tmp_path))
    monkeypatch.setattr(identity, "_cache", {})
    config = InversionConfig(steps=2, preview_every=10_000).with_changes(loss_lpips=0.0, loss_identity=1.0)
    result = run_job(invert(G, target, config))
    assert any("identity term is off" in w for w in result.warnings)
    assert np.isfinite(result.losses).all()


def test_reports_give_the_identity_distance_with_the_models_framing(G, target):
    images = torch.cat([target, torch.flip(target, dims=[2])])
    metrics = reconstruction_metrics(images, target, framing_for(G))
    assert metrics["identity"] is not None and metrics["identity"][0] == 0.0 < metrics["identity"][1]
    assert reconstruction_metrics(images, target)["identity"] is None
