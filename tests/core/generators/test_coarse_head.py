"""FFHQ's coarse image (a to-image layer fitted after its 128-px block) and descents that start on it.

The fit needs the user's FFHQ install (``make`` installs it); without it the FFHQ cases skip. The descent's
bookkeeping is checked on the embedded model too, which has no coarse image and must ignore the setting.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import InvalidInputError
from core.generators import coarse_head, load_generator
from core.generators.ffhq_install import find_data
from core.generators.mobilestylegan import MobileStyleGANGenerator
from core.inversion import InversionConfig, invert
from core.inversion.optimize import build_objective
from core.jobs import run_job

needs_model = pytest.mark.skipif(find_data() is None, reason="the FFHQ model (random-face) is not installed")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("user-data")


@pytest.fixture(scope="module")
def G(data_dir: Path) -> MobileStyleGANGenerator:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANDSCAPE_STUDIO_DATA", str(data_dir))
        model = load_generator("ffhq")
        assert isinstance(model, MobileStyleGANGenerator)
        model.synthesize_coarse(model.sample_latent(1, 0, "w"), "w")  # fits the head (≈ 10 s) and keeps it
    return model


@needs_model
def test_the_coarse_image_is_close_to_the_exact_one_and_differentiable(G: MobileStyleGANGenerator) -> None:
    w = G.sample_latent(2, 40, "w").requires_grad_(True)
    coarse = G.synthesize_coarse(w, "w")
    exact = G.synthesize(w, "w").detach()
    assert coarse.shape == exact.shape == (2, 3, 256, 256)
    psnr = -10 * math.log10(float((((coarse.detach() - exact) / 2) ** 2).mean()))
    assert psnr > 20, psnr  # soft, but the same face (24 dB on held-out samples when fitted)
    other = G.synthesize(G.sample_latent(1, 41, "w"), "w").detach()
    near = coarse[0].detach()
    assert float((near - exact[0]).square().mean()) < float((near - other[0]).square().mean())
    coarse.square().mean().backward()
    assert w.grad is not None and bool(torch.isfinite(w.grad).all()) and float(w.grad.abs().max()) > 0


@needs_model
def test_the_head_is_kept_and_a_damaged_one_is_set_aside(G: MobileStyleGANGenerator, data_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(data_dir))
    folder = coarse_head.head_folder(G.model_id)
    channels = G.net.coarse_head.shape[0] - 1
    kept = coarse_head.load_head(G.model_id, channels)
    assert kept is not None and torch.equal(kept, G.net.coarse_head.cpu())
    assert coarse_head.load_head(G.model_id + "x", channels) is None  # another version of the weights: refit
    assert not folder.exists() and len(list(folder.parent.glob(f"{folder.name}.damaged-*"))) == 1
    coarse_head.save_head(G.model_id, kept, 24.0)
    (folder / f"{coarse_head.STEM}.safetensors").write_bytes(b"not a tensor file")
    assert coarse_head.load_head(G.model_id, channels) is None
    assert not folder.exists() and len(list(folder.parent.glob(f"{folder.name}.damaged-*"))) >= 1


@needs_model
def test_a_descent_starts_coarse_and_ends_exact(G: MobileStyleGANGenerator) -> None:
    target = G.synthesize(G.sample_latent(1, 50, "w"), "w").detach()
    config = InversionConfig(steps=3, coarse_steps=2, warmup_steps=0, lr=0.01).with_changes(loss_lpips=0.0)
    coarse = run_job(invert(G, target, config))
    exact = run_job(invert(G, target, config.with_changes(coarse_steps=0)))
    assert coarse.history[0]["total"] != exact.history[0]["total"]  # step 0 saw the coarse image
    # the best is chosen among exact images only: its reported loss is its exact image's
    objective = build_objective(G, target, config)
    best = torch.from_numpy(coarse.best_latent[None])
    with torch.no_grad():
        loss = float(objective(G.synthesize(best, "w"), best)["total"][0])
    assert coarse.losses[coarse.best_index] == pytest.approx(loss, rel=1e-4)
    assert coarse.history[-1]["best"] == pytest.approx(loss, rel=1e-4)


def test_a_model_without_a_coarse_image_ignores_the_setting() -> None:
    G = load_generator("default")
    assert not G.has_coarse_image
    target = G.synthesize(G.sample_latent(1, 7), None).detach()
    config = InversionConfig(steps=4).with_changes(loss_lpips=0.0)
    plain = run_job(invert(G, target, config))
    coarse = run_job(invert(G, target, config.with_changes(coarse_steps=3)))
    assert np.array_equal(plain.latents, coarse.latents) and plain.history == coarse.history


def test_coarse_steps_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="coarse_steps"):
        InversionConfig(coarse_steps=-1).validate()
    config = InversionConfig(coarse_steps=7)
    assert InversionConfig.from_dict(config.to_dict()) == config
