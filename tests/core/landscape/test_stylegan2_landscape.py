"""Loss landscapes and landscape learning on a (tiny, random-weight) StyleGAN2 whose default space is w."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli import main
from core.errors import InvalidInputError
from core.inversion import InversionConfig, invert
from core.inversion.theta_descent import preimage
from core.jobs import run_job
from core.landscape import SliceConfig, landscape_trajectory, latent_trajectory, slice_for_photo
from core.landscape.learning import (
    LandscapeTrainConfig,
    mapping_config_for,
    stable_step,
    train_landscape,
)
from core.theta import LandscapeMapping, MappingConfig, load_mapping, save_mapping, theta_latent

PIXEL = InversionConfig(steps=12, preview_every=1000).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def target(tiny_stylegan2):
    return tiny_stylegan2.sample(1, 4321)


@pytest.fixture(scope="module")
def ready_theta(tiny_stylegan2, tmp_path_factory):
    """An untrained standardized θ for the tiny model, marked ready (structure tests)."""
    G = tiny_stylegan2
    theta = LandscapeMapping(mapping_config_for(G, width=16, step=1.0, horizon=4))
    theta.set_frame(*G.latent_stats())
    folder = tmp_path_factory.mktemp("sg2_theta")
    save_mapping(theta, folder, {"generator_id": G.model_id, "space": "w", "ready": True})
    return folder


@pytest.mark.parametrize(("space", "dirs"), [("w", "random"), ("w", "trajectory"), ("w+", "random"),
                                             ("w+", "trajectory")])
def test_slices_in_w_and_w_plus(tiny_stylegan2, target, space, dirs):
    config = PIXEL.with_changes(space=space)
    steps: list = []
    result = run_job(invert(tiny_stylegan2, target, config), steps.append)
    path = np.concatenate([latent_trajectory(steps), result.best_latent[None]])
    sliced = run_job(slice_for_photo(tiny_stylegan2, target, None, config, SliceConfig(dirs=dirs, grid=5), path))
    assert sliced.loss.shape == (5, 5) and np.isfinite(sliced.loss).all()
    assert sliced.axes.shape == (2, *result.best_latent.shape)
    assert sliced.center_loss == pytest.approx(float(result.losses[0]), rel=1e-4)
    if dirs == "trajectory":
        assert sliced.trajectory.shape == (len(path), 2)


def test_a_standardized_theta_starts_on_the_models_gaussian(tiny_stylegan2):
    G = tiny_stylegan2
    mapping = mapping_config_for(G, width=8)
    assert mapping.z_dim == 32 and mapping.standardized
    theta = LandscapeMapping(mapping)
    mean, std = G.latent_stats()
    theta.set_frame(mean, std)
    z = torch.randn(3, 32)
    torch.testing.assert_close(theta_latent(G, theta, z), mean + std * z)
    assert theta_latent(G, theta, z, "w+").shape == (3, 8, 32)
    torch.testing.assert_close(preimage(theta, mean + std * z), z, atol=1e-5, rtol=0)
    with pytest.raises(InvalidInputError, match="mapping_config_for"):
        run_job(train_landscape(G, LandscapeTrainConfig(mapping=MappingConfig(width=8), max_iterations=1)))
    with pytest.raises(InvalidInputError, match="plain θ does not suit"):
        run_job(train_landscape(G, LandscapeTrainConfig(mapping=MappingConfig(z_dim=32), max_iterations=1)))


def test_two_training_iterations_on_w(tiny_stylegan2):
    G = tiny_stylegan2
    step = stable_step(G, mapping_config_for(G, width=16))
    assert 0 < step < 10  # the DCGAN's step diverges in this model's w
    config = LandscapeTrainConfig(mapping=mapping_config_for(G, width=16, step=step), inner_steps=3, batch=4,
                                  max_iterations=2, validate_every=2, validation_faces=2)
    records: list = []
    state = run_job(train_landscape(G, config), records.append)
    assert state.iteration == 2 and len(records) == 2 and records[1].validation is not None
    assert all(np.isfinite(r.step_losses).all() for r in records)
    assert records[0].step_losses[-1] < records[0].step_losses[0]  # descent in Z lowers the loss
    torch.testing.assert_close(state.theta.x_mean, G.latent_stats()[0])


def test_landscape_method_and_z_slice_with_a_theta_of_w(tiny_stylegan2, target, ready_theta):
    G = tiny_stylegan2
    theta, meta = load_mapping(ready_theta)
    assert meta["mapping"]["standardized"] is True
    for space, shape in (("w", (32,)), ("w+", (8, 32))):
        config = PIXEL.with_changes(method="landscape", landscape=str(ready_theta), space=space)
        steps: list = []
        result = run_job(invert(G, target, config), steps.append)
        assert not result.warnings and result.latents.shape == (1, *shape)
        assert steps[0].z.shape == (1, 32) and result.losses[0] < steps[0].losses["total"]
        path = landscape_trajectory(steps)
        sliced = run_job(slice_for_photo(G, target, None, config, SliceConfig(space="z", grid=3), path, theta=theta))
        assert np.isfinite(sliced.loss).all()
    in_z = run_job(invert(G, target, PIXEL.with_changes(method="landscape", landscape=str(ready_theta), space="z")))
    assert "cannot use it" in in_z.warnings[0] and in_z.warnings[0].endswith("Used the direct method instead.")


def test_train_landscape_command_on_a_stylegan2_checkpoint(tiny_stylegan2_path, tmp_path, capsys):
    out = tmp_path / "theta"
    assert main(["train-landscape", "--model", str(tiny_stylegan2_path), "--out", str(out), "--iterations", "2",
                 "--recipe", "plain", "--inner-steps", "2", "--batch", "2", "--width", "16", "--gate-faces", "2",
                 "--validate-every", "0", "--quiet"]) == 0
    meta = json.loads((out / "theta.json").read_text())
    assert meta["space"] == "w" and meta["iterations"] == 2 and meta["mapping"]["z_dim"] == 32
    assert meta["mapping"]["standardized"] and meta["mapping"]["step"] < 10
    assert all(np.isfinite(v) for row in meta["gate"]["psnr"].values() for v in row.values())
    assert "READY" in capsys.readouterr().out
