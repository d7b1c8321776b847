"""Every inversion method on a (tiny, random-weight) StyleGAN2: spaces w and w+, K starts, masks, operators, the
fallbacks' warnings, encoder training and pivotal tuning of ``G.net`` (buffers left alone)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.generators.tuning import tuned_copy, weight_delta
from core.inversion import InversionConfig, invert
from core.inversion.encoder import find_encoder
from core.inversion.encoder_training import EncoderTrainConfig, run_encoder_training
from core.jobs import run_job

PIXEL = InversionConfig(steps=30).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def target(tiny_stylegan2):
    return tiny_stylegan2.sample(1, 1234)  # [1, 3, 32, 32]


@pytest.mark.parametrize(("space", "shape"), [("w", (32,)), ("w+", (8, 32))])
def test_direct_inversion_in_w_and_w_plus_with_k_starts(tiny_stylegan2, target, space, shape):
    records: list = []
    result = run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(space=space, starts=3)), records.append)
    assert result.space == space and result.latents.shape == (3, *shape) and result.images.shape == (3, 32, 32, 3)
    assert (result.losses < 0.5 * records[0].start_losses).all()  # each start improved a lot
    assert len({round(float(v), 5) for v in records[0].start_losses}) == 3  # three different starts


def test_the_plain_warm_up_hands_over_to_adam_when_it_diverges(tiny_stylegan2, target):
    """The warm-up's step (10, measured on the DCGAN's z) explodes in this model's w: Adam takes over at once."""
    with_warmup = run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(warmup_steps=10, start="prior")))
    assert with_warmup.history[1]["total"] > 5 * with_warmup.history[0]["total"]  # the one plain step diverged
    assert with_warmup.losses[0] < 0.5 * with_warmup.history[0]["total"]  # and the run still inverted


def test_auto_starts_style_based_models_at_the_mean_w(tiny_stylegan2, target):
    """Like NVIDIA's projector and PTI: the first start is w_avg (a face), the others are prior draws."""
    records: list = []
    run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(steps=1, starts=2, warmup_steps=0)), records.append)
    at_mean = run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(steps=1, starts=1, warmup_steps=0,
                                                                        start="mean")), lambda r: None)
    drawn: list = []
    run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(steps=1, starts=2, warmup_steps=0, start="prior")),
            drawn.append)
    assert float(records[0].start_losses[0]) == pytest.approx(float(at_mean.history[0]["total"]), rel=1e-5)
    assert float(records[0].start_losses[1]) == pytest.approx(float(drawn[0].start_losses[1]), rel=1e-5)
    assert float(records[0].start_losses[0]) != pytest.approx(float(drawn[0].start_losses[0]), rel=1e-3)


def test_masks_and_operators_in_w_plus(tiny_stylegan2, target):
    mask = torch.zeros(32, 32)
    mask[8:24, 8:24] = 1.0
    for operator in (None, "downsample4", "grayscale"):
        config = PIXEL.with_changes(space="w+", operator=operator, starts=2)
        records: list = []
        result = run_job(invert(tiny_stylegan2, target, config, mask), records.append)
        assert result.latents.shape == (2, 8, 32) and not result.warnings
        assert result.losses.max() < records[0].start_losses.min()


@pytest.mark.parametrize("method", ["landscape", "encoder", "hybrid"])
def test_methods_without_theta_or_encoder_fall_back_with_a_clear_warning(tiny_stylegan2, target, method, tmp_path):
    config = PIXEL.with_changes(method=method, steps=3, landscape=str(tmp_path), encoder=str(tmp_path))
    result = run_job(invert(tiny_stylegan2, target, config))
    what = "landscape mapping θ" if method == "landscape" else "encoder"
    assert result.warnings[0].startswith(f"No {what} for tiny at '{tmp_path}'")
    assert "train" in result.warnings[0] and result.warnings[0].endswith("Used the direct method instead.")
    assert result.config.method == "direct" and result.latents.shape == (1, 32)


@pytest.fixture(scope="module")
def tiny_encoder(tiny_stylegan2, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sg2_encoder")
    config = EncoderTrainConfig(width=8, batch=4, iterations=3, validate_every=0)
    steps: list = []
    run_job(run_encoder_training(tiny_stylegan2, config, folder, held_out=2), steps.append)
    assert [s.iteration for s in steps] == [1, 2, 3] and all(np.isfinite(s.loss) for s in steps)
    return folder


def test_encoder_training_predicts_the_default_space(tiny_stylegan2, tiny_encoder):
    encoder, meta = find_encoder(tiny_stylegan2, tiny_encoder)
    assert meta["space"] == "w" and encoder.config.latent_shape == (32,) and encoder.config.resolution == 32
    assert encoder(tiny_stylegan2.sample(2, 0)).shape == (2, 32)


def test_encoder_and_hybrid_serve_a_w_plus_run(tiny_stylegan2, tiny_encoder, target):
    """An encoder of w starts a w+ run: its code broadcast over the rows (consistency term included)."""
    encoder, _ = find_encoder(tiny_stylegan2, tiny_encoder)
    one = run_job(invert(tiny_stylegan2, target, PIXEL.with_changes(method="encoder", encoder=str(tiny_encoder),
                                                                    space="w+")))
    expected = encoder(target)[:, None].expand(-1, 8, -1)
    np.testing.assert_allclose(one.latents, expected.numpy(), atol=1e-6)
    config = PIXEL.with_changes(method="hybrid", encoder=str(tiny_encoder), space="w+", steps=5, starts=2,
                                consistency=0.1)
    records: list = []
    hybrid = run_job(invert(tiny_stylegan2, target, config), records.append)
    assert hybrid.latents.shape == (2, 8, 32) and not hybrid.warnings and "consistency" in records[0].losses
    refine = config.with_changes(refine="landscape", consistency=0.0)
    assert "Refined with the direct method instead" in run_job(invert(tiny_stylegan2, target, refine)).warnings[0]


def test_pivotal_tuning_tunes_the_synthesis_weights_and_keeps_the_buffers(tiny_stylegan2, target):
    G = tiny_stylegan2
    buffers = {k: v.clone() for k, v in G.net.named_buffers()}
    buffers["w_avg"] = G.w_avg.clone()
    config = PIXEL.with_changes(method="pivotal", pivot="direct", steps=10, tune_steps=5, space="w+")
    result = run_job(invert(G, target, config))
    delta = result.tuning
    assert delta is not None and delta.base_model_id == G.model_id and delta.info["steps"] == 5
    names = set(delta.delta)
    assert names <= {n for n, _ in G.net.named_parameters()}  # parameters only: no noise, kernels or w_avg
    assert not any(n.startswith("style.") for n in names)  # the mapping does not take part in a w+ image
    assert "input.input" in names and "to_rgbs.2.conv.weight" in names
    for key, value in G.net.named_buffers():  # the original is untouched
        assert torch.equal(value, buffers[key])
    tuned = tuned_copy(G, delta)
    for key, value in tuned.net.named_buffers():  # the copy keeps every buffer (noise constants, w_avg, FIR)
        assert torch.equal(value, buffers[key]), key
    assert torch.equal(tuned.w_avg, G.w_avg) and tuned.noise_mode == "const"
    torch.testing.assert_close(tuned.latent_stats("w")[1], G.latent_stats("w")[1])
    pivot = torch.from_numpy(result.latents)
    with torch.no_grad():
        image = ((tuned.synthesize(pivot, "w+") + 1) * 127.5).round().clamp(0, 255).byte()
    assert np.array_equal(image.permute(0, 2, 3, 1).numpy(), result.images)  # what the result shows reloads
    assert set(weight_delta(G, tuned, {}).delta) == names
