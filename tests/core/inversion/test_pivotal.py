"""Pivotal tuning inversion on the real embedded DCGAN and a real photo crop (small step counts: fast on CPU)."""

import json

import numpy as np
import pytest
import torch

from core.device import from_uint8_hwc, to_uint8_hwc
from core.generators.tuning import tuned_copy
from core.imageio import CropBox, crop_and_resize, load_photo
from core.inversion import InversionConfig, invert
from core.inversion.pivotal import locality_latents, pivot_config
from core.jobs import CancelToken, run_job
from core.metrics import psnr
from core.resources import sample_face_crop, sample_photos

PIVOTAL = InversionConfig(method="pivotal", pivot="direct", steps=20, tune_steps=30,
                          preview_every=10).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def crop(G):
    """A real face: the first bundled sample photo cropped to its recorded face box, [1, 3, R, R]."""
    path = sample_photos()[0]
    box = CropBox.from_dict(sample_face_crop(path))
    return from_uint8_hwc(crop_and_resize(load_photo(path).pixels, box, G.resolution), G.device)


@pytest.fixture(scope="module")
def before(G):
    """G's images of a few seeds before any tuning ran."""
    return G.sample(3, 7)


@pytest.fixture(scope="module")
def run(G, crop, before):
    records = []
    result = run_job(invert(G, crop, PIVOTAL), records.append)
    return result, records


def _pivot_image(G, result):
    with torch.no_grad():
        return G.synthesize(torch.from_numpy(result.latents).to(G.device))


def test_tuning_beats_the_pivot_clearly(G, crop, run):
    result, _ = run
    pivot_psnr = float(psnr(_pivot_image(G, result), crop)[0])
    tuned_psnr = float(psnr(from_uint8_hwc(result.images, G.device), crop)[0])
    assert tuned_psnr > pivot_psnr + 3.0
    assert float(result.losses[0]) == pytest.approx(result.tuning.info["reconstruction_loss"])
    assert result.losses[0] < result.history[PIVOTAL.steps]["total"] / 3


def test_steps_follow_the_pivot_with_previews(run):
    result, records = run
    assert [r.step for r in records] == list(range(51))
    assert {r.steps for r in records[21:]} == {50}
    assert [r.step for r in records[21:] if r.preview is not None] == [30, 40, 50]
    tuning = records[-1]
    assert set(tuning.losses) == {"pixel", "reconstruction", "locality", "total"}
    assert tuning.losses["total"] == pytest.approx(tuning.losses["reconstruction"] + tuning.losses["locality"])
    assert tuning.start_losses.shape == (1,) and tuning.preview.shape == (1, 64, 64, 3)
    assert np.array_equal(tuning.latent, result.latents) and result.latents.shape == (1, 100)
    assert tuning.best_loss == min(r.losses["total"] for r in records[21:])
    assert [h["step"] for h in result.history] == list(range(51))
    assert result.steps_done == 50 and not result.cancelled and result.config == PIVOTAL
    info = result.tuning.info
    assert info["steps"] == 30 and not info["stopped_early"] and info["lr"] == PIVOTAL.tune_lr
    assert info["seconds"] > 0 and info["locality"] > 0
    json.dumps(result.summary())  # storable in a session or a report


def test_the_delta_reproduces_the_images_and_names_a_new_model(G, run):
    result, _ = run
    tuned = tuned_copy(G, result.tuning)
    assert tuned.model_id == result.tuning.tuned_model_id != G.model_id
    assert result.model_id == result.tuning.base_model_id == G.model_id
    with torch.no_grad():
        images = to_uint8_hwc(tuned.synthesize(torch.from_numpy(result.latents)))
    assert np.array_equal(images, result.images)  # loading the delta gives exactly the result's images


def test_the_original_generator_is_unchanged(G, run, before):
    assert torch.equal(G.sample(3, 7), before)
    assert not any(p.requires_grad for p in G.net.parameters()) and not G.net.training


def test_locality_keeps_latents_near_the_pivot_as_they_were(G, crop, run):
    with_locality, _ = run
    without = run_job(invert(G, crop, PIVOTAL.with_changes(tune_locality=0.0)))
    pivot = torch.from_numpy(with_locality.latents)
    assert np.array_equal(pivot.numpy(), without.latents)  # same pivot: only the tuning differs
    nearby = locality_latents(G, pivot, "z", seed=424_242, n=8)  # not the draws the tuning saw

    def drift(result):
        with torch.no_grad():
            return float((tuned_copy(G, result.tuning).synthesize(nearby) - G.synthesize(nearby)).square().mean())

    assert drift(with_locality) < drift(without) / 2
    # off, the locality latents are not even rendered: the term is exactly 0, where on it measured their drift
    assert without.tuning.info["locality"] == 0.0 < with_locality.tuning.info["locality"]
    assert torch.allclose((nearby - pivot).flatten(1).norm(dim=1), torch.full((8,), 3.0), atol=1e-4)


def test_tuning_stops_early_once_the_target_is_reached(G, crop, run):
    full, _ = run
    pivot_loss = full.history[PIVOTAL.steps]["total"]
    records = []
    result = run_job(invert(G, crop, PIVOTAL.with_changes(tune_target=pivot_loss * 0.7)), records.append)
    info = result.tuning.info
    assert info["stopped_early"] and 0 < info["steps"] < PIVOTAL.tune_steps
    assert result.steps_done == PIVOTAL.steps + info["steps"] == records[-1].step
    assert records[-1].losses["reconstruction"] <= pivot_loss * 0.7 and records[-1].preview is not None


def test_cancel_keeps_the_weights_tuned_so_far(G, crop):
    token = CancelToken()

    def on_step(step):
        if step.step == PIVOTAL.steps + 2:
            token.cancel()

    result = run_job(invert(G, crop, PIVOTAL, cancel=token), on_step)
    assert result.cancelled and result.tuning.info["steps"] == 2 and result.steps_done == PIVOTAL.steps + 2
    with torch.no_grad():
        images = to_uint8_hwc(tuned_copy(G, result.tuning).synthesize(torch.from_numpy(result.latents)))
    assert np.array_equal(images, result.images)


def test_cancel_during_the_pivot_returns_it_untuned(G, crop):
    token = CancelToken()
    token.cancel()
    result = run_job(invert(G, crop, PIVOTAL, cancel=token))
    assert result.cancelled and result.tuning is None and result.steps_done == 0
    assert result.latents.shape == (1, 100) and result.images.shape == (1, 64, 64, 3)


def test_the_same_config_gives_the_same_tuning(G, crop):
    config = PIVOTAL.with_changes(steps=5, tune_steps=5)
    a = run_job(invert(G, crop, config))
    b = run_job(invert(G, crop, config))
    c = run_job(invert(G, crop, config.with_changes(seed=1)))
    assert a.tuning.digest == b.tuning.digest and np.array_equal(a.images, b.images)
    assert c.tuning.digest != a.tuning.digest


def test_several_starts_and_a_mask_tune_the_best_start_only(G, crop):
    mask = torch.zeros(64, 64)
    mask[20:40, 20:40] = 1.0  # brushed out: ignored by the reconstruction loss
    config = PIVOTAL.with_changes(steps=5, tune_steps=3, starts=3)
    result = run_job(invert(G, crop, config, mask=mask))
    pivot = run_job(invert(G, crop, config.with_changes(method="direct"), mask=mask))
    assert np.array_equal(result.latents, pivot.best_latent[None]) and result.losses.shape == (1,)
    assert result.tuning.info["steps"] == 3 and result.history[0]["step"] == 0


def test_a_hybrid_pivot_refines_directly_unless_told_otherwise():
    """"auto" refines through θ for hybrid, but a θ-refined pivot tunes worse (docstring of pivot_config)."""
    config = InversionConfig(method="pivotal", pivot="hybrid")
    assert config.refine == "auto" and pivot_config(config).refine == "direct"
    assert pivot_config(config).method == "hybrid"
    assert pivot_config(config.with_changes(refine="landscape")).refine == "landscape"
