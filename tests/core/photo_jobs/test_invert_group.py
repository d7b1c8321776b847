"""Photos inverted together give each photo what it gets alone (same starts, per-coordinate Adam), and methods
that cannot share a batch are refused."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import load_photo
from core.inversion import InversionConfig
from core.jobs import run_job
from core.photo_jobs.invert import invert_photo
from core.photo_jobs.invert_group import groupable, invert_photos
from core.placement import Placement
from core.resources import sample_photos


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


def test_a_group_gives_each_photo_its_own_inversion(G):
    photos = [load_photo(p) for p in sample_photos()]
    placed = [(photo, Placement.default_for(photo)) for photo in photos]
    config = InversionConfig(steps=15, starts=2, warmup_steps=3).with_changes(loss_lpips=0.0)
    together = run_job(invert_photos(G, placed, config=config))
    for (photo, placement), grouped in zip(placed, together, strict=True):
        alone = run_job(invert_photo(G, photo, placement=placement, config=config))
        np.testing.assert_allclose(grouped.result.latents, alone.result.latents, atol=1e-4)
        np.testing.assert_allclose(grouped.result.losses, alone.result.losses, rtol=1e-4)
        assert grouped.result.config == config and grouped.result.latents.shape[0] == 2
        assert [h["best"] for h in grouped.result.history] == pytest.approx([h["best"] for h in alone.result.history],
                                                                            rel=1e-4)
        assert np.abs(grouped.photo.astype(int) - alone.photo.astype(int)).max() <= 1
    assert not np.array_equal(together[0].result.latents, together[1].result.latents)


def test_methods_that_carry_per_photo_state_are_not_grouped(G):
    assert groupable(InversionConfig()) and not groupable(InversionConfig(noise=0.05))
    for method in ("pivotal", "landscape", "hybrid", "encoder"):
        assert not groupable(InversionConfig(method=method))
    photo = load_photo(sample_photos()[0])
    with pytest.raises(InvalidInputError, match="one photo at a time"):
        run_job(invert_photos(G, [(photo, Placement.default_for(photo))], config=InversionConfig(method="pivotal")))
