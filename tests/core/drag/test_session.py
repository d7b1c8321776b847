"""The drag job on a real (tiny, random-weight) StyleGAN2: what it optimises, what it reports, Stop, the mask and
the refusals. Whether drags *arrive* on a trained face model is measured by ``python -m bench drag``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.drag import DragPoint, DragSettings, drag_job
from core.errors import InvalidInputError
from core.generators import load_generator
from core.jobs import CancelToken, run_job

POINTS = [DragPoint((0.5, 0.5), (0.7, 0.5)), DragPoint((0.25, 0.75), (0.25, 0.6))]


def _start(G) -> np.ndarray:
    return G.sample_latent(1, 3, "w")[0].numpy()


def test_only_the_free_rows_change_and_every_step_is_reported(tiny_stylegan2):
    G = tiny_stylegan2
    records = []
    settings = DragSettings(steps=4, rows=3, preview_every=2)
    result = run_job(drag_job(G, _start(G), "w", POINTS, settings=settings), records.append)
    start = G.ws(torch.from_numpy(_start(G))[None], "w")[0].numpy()
    assert result.latent.shape == (G.num_ws, G.w_dim) and result.latent.dtype == np.float32
    np.testing.assert_array_equal(result.latent[3:], start[3:])  # the finer rows are untouched
    assert np.abs(result.latent[:3] - start[:3]).max() > 1e-4
    assert [r.step for r in records] == [0, 1, 2, 3, 4] and result.steps == 4 and not result.stopped
    assert [r.image is not None for r in records] == [True, False, True, False, True]
    assert len(result.distances) == 5 and result.distances[0] == pytest.approx((0.2 * 256 + 0.15 * 256) / 2)
    with torch.no_grad():
        image = G.synthesize(torch.from_numpy(result.latent)[None], "w+")
    expected = image.clamp(-1, 1).add(1).mul(127.5).round().byte()[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(result.image, expected)
    np.testing.assert_array_equal(records[-1].image, result.image)
    assert all(0.0 <= v <= 1.0 for r in records for h in r.handles for v in h)


def test_a_w_plus_start_and_a_stop_keep_the_code_reached(tiny_stylegan2):
    G = tiny_stylegan2
    start = G.ws(torch.from_numpy(_start(G))[None], "w")[0].numpy()
    token = CancelToken()
    seen = []

    def on_step(progress):
        seen.append(progress.step)
        if progress.step == 2:
            token.cancel()

    result = run_job(drag_job(G, start, "w+", POINTS, settings=DragSettings(steps=50), cancel=token), on_step)
    assert result.stopped and result.steps == 2 and seen == [0, 1, 2]
    assert np.abs(result.latent - start).max() > 1e-4


def _outside_change(G, mask) -> float:
    """How far the features moved in the left half (which the mask, when given, says must stay)."""
    result = run_job(drag_job(G, _start(G), "w", [DragPoint((0.75, 0.5), (0.9, 0.5))],
                              settings=DragSettings(steps=6), mask=mask))
    with torch.no_grad():
        before = G.drag_features(G.ws(torch.from_numpy(_start(G))[None], "w"))
        after = G.drag_features(torch.from_numpy(result.latent)[None])
    half = before.shape[-1] // 2
    return float((after - before)[..., :half].abs().mean())


def test_the_mask_holds_what_may_not_move(tiny_stylegan2):
    may_move = np.zeros((32, 32), np.float32)
    may_move[:, 16:] = 1.0  # only the right half may move
    assert _outside_change(tiny_stylegan2, may_move) < 0.5 * _outside_change(tiny_stylegan2, None)


def test_refusals(tiny_stylegan2):
    dcgan = load_generator("default", "cpu")
    with pytest.raises(InvalidInputError, match="StyleGAN-family"):
        run_job(drag_job(dcgan, dcgan.sample_latent(1, 0)[0].numpy(), None, POINTS))
    G = tiny_stylegan2
    for settings, message in [(DragSettings(rows=0), r"8 w\+ rows"), (DragSettings(steps=0), "steps"),
                              (DragSettings(stride=float("nan")), "positive"),
                              (DragSettings(preview_every=0), "1 step")]:
        with pytest.raises(InvalidInputError, match=message):
            run_job(drag_job(G, _start(G), "w", POINTS, settings=settings))
    with pytest.raises(InvalidInputError, match="at least one"):
        run_job(drag_job(G, _start(G), "w", []))


def test_features_are_the_128_px_level_or_the_last_of_a_smaller_model(tiny_stylegan2):
    ws = tiny_stylegan2.ws(torch.from_numpy(_start(tiny_stylegan2))[None], "w")
    features = tiny_stylegan2.drag_features(ws)
    assert features.shape[0] == 1 and features.shape[-2:] == (32, 32)
