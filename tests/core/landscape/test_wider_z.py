"""Z wider than X (``extra_dims``): z = (u, e), x = A(u + MLP(u, e)). Untrained, the extra dims change nothing
(the gate's "untrained" θ is the recipe); once the MLP has learned anything they steer x, the trainer and the
method take the same steps through them, and the width survives a save, a load and the command line."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.cli import main
from core.errors import ModelLoadError
from core.inversion.theta_descent import preimage
from core.theta.mapping import LandscapeMapping, MappingConfig, load_mapping, save_mapping
from tests.core.landscape.paths import method_losses, trainer_losses

WIDER = MappingConfig(width=16, momentum=0.5, keep_radius=True, horizon=3, schedule=True, extra_dims=12)


def trained_theta() -> LandscapeMapping:
    """A wider θ whose MLP has learned something (its last layer no longer zero)."""
    theta = LandscapeMapping(WIDER, seed=2)
    with torch.no_grad():
        theta.mlp[-1].weight.normal_(0, 0.02)
    return theta.requires_grad_(False)


def test_an_untrained_wider_theta_descends_as_the_recipe(G):
    wider, narrow = LandscapeMapping(WIDER, seed=2), LandscapeMapping(replace(WIDER, extra_dims=0), seed=2)
    eps = torch.randn(3, 100, generator=torch.Generator().manual_seed(1))
    z = wider.start(eps)
    assert z.shape == (3, 112) and wider.z_size == 112 and torch.equal(z[:, 100:], torch.zeros(3, 12))
    assert torch.equal(wider(z), eps)
    assert torch.allclose(trainer_losses(G, wider), trainer_losses(G, narrow), rtol=1e-5)


def test_once_learned_the_extra_dims_steer_x_and_the_method_follows_the_trainer(G):
    theta = trained_theta()
    z = theta.start(torch.randn(2, 100, generator=torch.Generator().manual_seed(1))).requires_grad_(True)
    theta(z).square().sum().backward()
    assert float(z.grad[:, 100:].abs().max()) > 0  # descent moves them
    moved = z.detach().clone()
    moved[:, 100:] += 1.0
    assert not torch.allclose(theta(moved), theta(z.detach()))
    assert torch.allclose(trainer_losses(G, theta), method_losses(G, theta), rtol=1e-4)


def test_a_preimage_in_a_wider_z_maps_back_to_its_latent():
    theta = trained_theta()
    x = torch.randn(2, 100, generator=torch.Generator().manual_seed(3))
    z = preimage(theta, x)
    assert z.shape == (2, 112) and float((theta(z) - x).abs().max()) < 1e-5


def test_the_width_is_saved_loaded_and_checked(tmp_path):
    theta = trained_theta()
    save_mapping(theta, tmp_path / "theta", {})
    loaded, meta = load_mapping(tmp_path / "theta")
    assert loaded.config.extra_dims == 12 and meta["mapping"]["extra_dims"] == 12
    z = theta.start(torch.randn(2, 100, generator=torch.Generator().manual_seed(1)))
    assert torch.equal(loaded(z), theta(z))
    with pytest.raises(ModelLoadError, match="extra_dims"):
        MappingConfig.from_dict({**WIDER.to_dict(), "extra_dims": -1})


def test_train_landscape_makes_z_wider_on_request(tmp_path):
    out = tmp_path / "theta"
    assert main(["train-landscape", "--model", "default", "--recipe", "plain", "--extra-dims", "8", "--iterations",
                 "1", "--batch", "2", "--inner-steps", "2", "--width", "8", "--validate-every", "0",
                 "--gate-faces", "2", "--out", str(out), "--quiet"]) == 0
    theta, meta = load_mapping(out)
    assert meta["mapping"]["extra_dims"] == 8 and theta.mlp[0].in_features == 108
