import numpy as np
import pytest
import torch

from core.errors import InvalidInputError
from core.inversion import InversionConfig, invert
from core.inversion.schedules import learning_rate, noise_strength
from core.jobs import CancelToken, run_job

FAST = InversionConfig(steps=20, preview_every=5).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def target(G):
    return G.sample(1, 1_999_000_000)


def test_config_round_trips_through_a_dict():
    config = FAST.with_changes(starts=3, loss_prior=0.01)
    assert InversionConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidInputError, match="Unknown inversion settings: stepz"):
        InversionConfig.from_dict({"stepz": 3})


@pytest.mark.parametrize("change", [{"steps": -1}, {"lr": 0.0}, {"lr": float("nan")}, {"starts": 0},
                                    {"method": "magic"}, {"schedule": "cyclic"}, {"noise_ramp": 0.0}])
def test_out_of_range_settings_are_refused(change):
    with pytest.raises(InvalidInputError):
        FAST.with_changes(**change).validate()


def test_schedules():
    assert learning_rate(0, 100, 0.2) == learning_rate(99, 100, 0.2) == 0.2
    assert learning_rate(0, 100, 0.2, "rampdown") == 0.0  # warm-up starts at 0
    assert learning_rate(50, 100, 0.2, "rampdown") == pytest.approx(0.2)
    assert learning_rate(100, 100, 0.2, "rampdown") == pytest.approx(0.0)
    assert noise_strength(0, 100, 0.05) == 0.05
    assert noise_strength(75, 100, 0.05) == 0.0


def test_steps_are_yielded_with_previews_and_the_loss_falls(G, target):
    job = invert(G, target, FAST)
    records = []
    result = run_job(job, records.append)
    assert [r.step for r in records] == list(range(21))
    assert [r.step for r in records if r.preview is not None] == [0, 5, 10, 15, 20]
    assert records[0].preview.shape == (1, 64, 64, 3) and records[0].preview.dtype == np.uint8
    assert records[-1].best_loss < records[0].losses["total"] / 2
    assert set(records[0].losses) == {"pixel", "total"}
    assert result.steps_done == 20 and not result.cancelled
    assert result.latents.shape == (1, 100) and result.images.shape == (1, 64, 64, 3)
    assert float(result.losses[0]) == pytest.approx(min(r["total"] for r in result.history))


def test_the_same_seed_gives_the_same_result(G, target):
    a = run_job(invert(G, target, FAST.with_changes(starts=2, noise=0.05)))
    b = run_job(invert(G, target, FAST.with_changes(starts=2, noise=0.05)))
    c = run_job(invert(G, target, FAST.with_changes(starts=2, noise=0.05, seed=1)))
    assert np.array_equal(a.latents, b.latents) and np.array_equal(a.images, b.images)
    assert not np.array_equal(a.latents, c.latents)


def test_starts_come_from_the_prior_not_the_dead_mean(G, target):
    result = run_job(invert(G, target, FAST.with_changes(steps=0, starts=4)))
    assert np.allclose(result.latents, G.sample_latent(4, FAST.seed).numpy())


def test_cancel_stops_within_a_step_and_keeps_the_best(G, target):
    token = CancelToken()
    job = invert(G, target, FAST.with_changes(steps=500), cancel=token)

    def on_step(step):
        if step.step == 3:
            token.cancel()

    result = run_job(job, on_step)
    assert result.cancelled and result.steps_done == 3
    assert len(result.history) == 4
    assert float(result.losses[0]) == min(r["total"] for r in result.history)


def test_masked_pixels_do_not_influence_the_run(G, target):
    mask = torch.zeros(64, 64)
    mask[:32] = 1  # ignore the top half
    scribbled = target.clone()
    scribbled[..., :32, :] = 1.0  # whatever is there must not matter
    a = run_job(invert(G, target, FAST, mask=mask))
    b = run_job(invert(G, scribbled, FAST, mask=mask))
    assert np.array_equal(a.latents, b.latents)
    c = run_job(invert(G, scribbled, FAST))
    assert not np.array_equal(a.latents, c.latents)


def test_k_targets_are_k_independent_problems(G):
    targets = G.sample(2, 1_999_000_001)
    both = run_job(invert(G, targets, FAST.with_changes(starts=2)))
    alone = run_job(invert(G, targets[:1], FAST))  # its start is the first row of the batch's starts
    assert both.latents.shape == (2, 100)
    assert np.allclose(both.latents[0], alone.latents[0], atol=1e-3)


def test_the_prior_term_is_reported_when_weighted(G, target):
    result = run_job(invert(G, target, FAST.with_changes(loss_prior=0.1)))
    assert "prior" in result.history[0] and result.history[0]["prior"] > 0


@pytest.mark.parametrize("bad", ["nan", "shape"])
def test_bad_targets_are_refused(G, target, bad):
    broken = target.clone()
    if bad == "nan":
        broken[0, 0, 0, 0] = float("nan")
    else:
        broken = broken[..., :32, :32]
    with pytest.raises(InvalidInputError):
        run_job(invert(G, broken, FAST))


def test_a_plain_descent_warm_up_hands_over_to_adam(G, target):
    config = FAST.with_changes(warmup_steps=5, warmup_step=10.0)
    records = []
    result = run_job(invert(G, target, config), records.append)
    z0 = G.sample_latent(1, 0)
    manual = z0.clone().requires_grad_(True)
    loss = ((G.synthesize(manual) - target).square().mean())  # the first plain step, by hand
    loss.backward()
    assert np.allclose(records[1].latent, (z0 - 10.0 * manual.grad).numpy(), atol=1e-5)
    assert result.steps_done == 20 and records[-1].best_loss < records[5].losses["total"]
    with pytest.raises(InvalidInputError):
        FAST.with_changes(warmup_step=0.0).validate()
