"""Diverse inpainting (K candidates, ranking, diversity, more like this / different), compositing, BRGM priors."""

import numpy as np
import pytest
import torch

from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.imageio import CropBox
from core.inpainting.diverse import (
    InpaintConfig,
    blur_fill,
    diversity,
    inpaint,
    more_different,
    starts_like,
)
from core.jobs import CancelToken, run_job
from core.metrics import psnr
from core.objectives import LossWeights, Objective, perceptual
from core.objectives.priors import colinearity
from core.placement import composite, fill_weights

BOX = (slice(20, 44), slice(20, 44))  # a centre box: eyes, nose and mouth of the model's framing


@pytest.fixture(scope="module")
def box_mask():
    mask = torch.zeros(64, 64)
    mask[BOX] = 1
    return mask


@pytest.fixture(scope="module")
def face(G):
    return G.sample(1, 1_999_600_000)


@pytest.fixture(scope="module")
def run(G, face, box_mask):
    """One default run (8 candidates × 100 steps), with its progress records."""
    records = []
    result = run_job(inpaint(G, face, box_mask, InpaintConfig()), records.append)
    return result, records


def test_progress_carries_each_candidates_loss_and_a_gallery(run):
    _, records = run
    assert [r.step for r in records] == list(range(101))
    assert all(r.start_losses.shape == (8,) for r in records)
    shown = [r for r in records if r.preview is not None]
    assert [r.step for r in shown] == list(range(0, 101, 10))
    assert shown[0].preview.shape == (8, 64, 64, 3) and shown[0].preview.dtype == np.uint8


def test_candidates_are_ranked_by_their_fit_to_the_known_pixels(run):
    result, _ = run
    assert result.candidates.shape == (8, 64, 64, 3) and result.candidates.dtype == np.uint8
    assert result.latents.shape == (8, 100) and sorted(result.order.tolist()) == list(range(8))
    assert (np.diff(result.fit) >= 0).all() and (np.diff(result.fit_psnr) <= 0).all()
    assert np.array_equal(result.candidates, result.inversion.images[result.order])
    summary = result.summary()
    assert summary["ranking"] == result.order.tolist() and summary["candidates"][0]["rank"] == 0
    assert summary["diversity"]["metric"] == "lpips_alex"  # LPIPS's weights ship with the app
    assert set(result.timings) == {"invert", "rank", "diversity", "total"}


def test_the_best_candidate_beats_a_blur_fill_inside_the_mask(run, face, box_mask):
    result, _ = run
    region = box_mask[None, None]
    ours = float(psnr(from_uint8_hwc(result.candidates[:1]), face, region))
    blur = float(psnr(blur_fill(face, box_mask), face, region))
    assert ours > blur + 3.0, (ours, blur)  # measured 26.3 vs 21.1 dB on this face


def test_candidates_differ_inside_the_mask_and_agree_outside(run, box_mask, tmp_path, monkeypatch):
    result, _ = run
    images = from_uint8_hwc(result.candidates)
    assert result.diversity == pytest.approx(diversity(images, box_mask)[0])
    # measured in pixels (LPIPS's receptive fields reach across the mask's edge): no LPIPS weights here
    monkeypatch.setattr(perceptual, "weights_path", lambda net="vgg": tmp_path / f"{net}.safetensors")
    inside, metric = diversity(images, box_mask)
    outside, _ = diversity(images, 1 - box_mask)
    assert metric == "pixel_rmse"
    assert inside > 0.05 and inside > 1.2 * outside, (inside, outside)  # measured RMSE 0.064 inside, 0.047 outside
    top_inside, _ = diversity(images[:4], box_mask)  # the best-fitting half agrees closely where the photo is known
    top_outside, _ = diversity(images[:4], 1 - box_mask)
    assert top_outside < 0.025 and top_inside > 1.4 * top_outside, (top_inside, top_outside)  # 0.032 vs 0.019


def test_blur_fill_keeps_known_pixels_and_never_reads_the_masked_ones(face, box_mask):
    filled = blur_fill(face, box_mask)
    assert torch.equal(filled[:, :, ~box_mask.bool()], face[:, :, ~box_mask.bool()])
    other = face.clone()
    other[:, :, box_mask.bool()] = 1.0
    assert torch.allclose(blur_fill(other, box_mask), filled)


def test_the_same_seed_gives_the_same_candidates(G, face, box_mask):
    config = InpaintConfig(candidates=2, steps=3)
    a, b = run_job(inpaint(G, face, box_mask, config)), run_job(inpaint(G, face, box_mask, config))
    assert np.array_equal(a.candidates, b.candidates) and np.array_equal(a.latents, b.latents)


def test_more_like_this_starts_near_the_chosen_latent(G, face, box_mask):
    chosen = G.sample_latent(1, 123)[0].numpy()
    starts = starts_like(G, chosen, 4, sigma=0.3, seed=5)
    assert starts.shape == (4, 100) and starts.dtype == np.float32
    assert np.array_equal(starts, starts_like(G, chosen, 4, 0.3, seed=5))
    assert not np.array_equal(starts, starts_like(G, chosen, 4, 0.3, seed=6))
    assert np.std(starts - chosen) == pytest.approx(0.3, rel=0.15)
    kept = starts_like(G, chosen, 4, sigma=0.3, seed=5, keep_chosen=True)
    assert np.array_equal(kept[0], chosen) and np.array_equal(kept[1:], starts[1:])
    records = []
    run_job(inpaint(G, face, box_mask, InpaintConfig(candidates=4, steps=0), start=starts), records.append)
    assert np.allclose(records[0].latent, starts)


def test_more_different_draws_seeds_not_yet_shown(G):
    config = InpaintConfig(candidates=8, seed=3)
    later = more_different(config)
    assert later.seed == 11 and later.candidates == 8
    shown, new = G.sample_latent(8, config.seed).numpy(), G.sample_latent(8, later.seed).numpy()
    assert not any(np.allclose(a, b) for a in shown for b in new)


def test_cancel_keeps_every_candidate_so_far(G, face, box_mask):
    token = CancelToken()

    def on_step(step):
        if step.step == 2:
            token.cancel()

    result = run_job(inpaint(G, face, box_mask, InpaintConfig(candidates=3, steps=50), cancel=token), on_step)
    assert result.cancelled and result.inversion.steps_done == 2 and len(result.candidates) == 3


@pytest.mark.parametrize(("mask", "config", "message"), [
    (torch.zeros(64, 64), InpaintConfig(), "marks no pixel"),
    (torch.ones(32, 32), InpaintConfig(), "must be 64×64"),
    (None, InpaintConfig(candidates=17), "At most 16 candidates"),
    (None, InpaintConfig(candidates=0), "between 1 and 64"),
    (None, InpaintConfig(steps=-1), "steps"),
])
def test_bad_inputs_are_refused(G, face, box_mask, mask, config, message):
    with pytest.raises(InvalidInputError, match=message):
        run_job(inpaint(G, face, box_mask if mask is None else mask, config))


def test_config_round_trips():
    config = InpaintConfig(candidates=4, prior=0.1)
    assert InpaintConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidInputError, match="Unknown inpainting settings"):
        InpaintConfig.from_dict({"candidatez": 3})


# -- compositing into the photo ---------------------------------------------------------------------------------

@pytest.fixture
def photo_and_mask():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), dtype=np.float32)
    mask[30:70, 50:100] = 1.0
    mask[0:10, 0:10] = 1.0  # masked, but outside the crop: cannot be filled
    return photo, mask


@pytest.mark.parametrize("feather", [0.0, 0.03, 0.2])
def test_composite_leaves_every_unmasked_pixel_bit_identical(photo_and_mask, feather):
    photo, mask = photo_and_mask
    candidate = np.full((64, 64, 3), 7, dtype=np.uint8)
    out = composite(photo, candidate, mask, CropBox(40, 20, 80), feather)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    assert np.array_equal(out[:10, :10], photo[:10, :10])  # masked outside the crop: untouched
    assert (out[49:51, 74:76] == 7).all()  # deep inside the mask (past the widest ramp): the candidate
    assert not np.shares_memory(out, photo)


def test_composite_accepts_a_uint8_mask_and_refuses_a_wrong_size(photo_and_mask):
    photo, mask = photo_and_mask
    candidate = np.zeros((64, 64, 3), dtype=np.uint8)
    as_float = composite(photo, candidate, mask, CropBox(40, 20, 80))
    assert np.array_equal(composite(photo, candidate, (mask * 255).astype(np.uint8), CropBox(40, 20, 80)), as_float)
    with pytest.raises(InvalidInputError, match="size of the photo"):
        composite(photo, candidate, mask[:100], CropBox(40, 20, 80))


def test_fill_weights_ramp_inside_the_mask_only():
    mask = np.zeros((40, 40), dtype=np.float32)
    mask[5:35, 5:35] = 1.0
    alpha = fill_weights(mask, 6.0)
    assert (alpha[mask == 0] == 0).all() and alpha[20, 20] == 1.0
    row = alpha[20, 5:21]
    assert (np.diff(row) >= 0).all() and 0 < row[0] < 0.2  # rises from the mask's edge towards its middle
    thin = np.zeros((9, 9), dtype=np.float32)
    thin[4, :] = 1.0
    assert fill_weights(thin, 6.0)[4, 4] == 1.0  # a thin stroke still reaches full weight along its middle


# -- BRGM priors ------------------------------------------------------------------------------------------------

def test_colinearity_is_zero_for_identical_layers_and_positive_otherwise():
    layer = torch.randn(2, 1, 8, generator=torch.Generator().manual_seed(0))
    same = layer.expand(2, 5, 8) * torch.tensor([1.0, 2.0, 0.5, 3.0, 1.0]).view(1, 5, 1)  # parallel: lengths differ
    assert torch.allclose(colinearity(same), torch.zeros(2), atol=1e-6)
    mixed = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    assert (colinearity(mixed) > 0.5).all()
    assert torch.equal(colinearity(torch.randn(3, 100)), torch.zeros(3))  # z has no layers


def test_colinearity_pulls_layers_together():
    ws = torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    before = float(colinearity(ws.detach()))
    colinearity(ws).sum().backward()
    with torch.no_grad():
        ws -= 0.5 * ws.grad
    assert float(colinearity(ws.detach())) < before


def test_colinearity_is_a_loss_weight_and_inactive_for_z(G, face):
    assert LossWeights(colinearity=0.1).colinearity == 0.1
    with pytest.raises(InvalidInputError, match="colinearity"):
        LossWeights(colinearity=-1).validate()
    objective = Objective(G, face, None, LossWeights(lpips=0.0, colinearity=1.0))
    assert "colinearity" not in objective(face, G.sample_latent(1, 0))
    assert "needs per-layer latents" in objective.warnings[0]
