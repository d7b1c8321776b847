"""Training θ on a model's coarse image (``--coarse-image``): θ learns on the cheaper image and is gated on the
exact one, and a model without a coarse image refuses before anything is written.

The FFHQ case needs the user's FFHQ install (``make`` installs it); without it, it skips."""

from __future__ import annotations

import statistics

import pytest
import torch

from core.errors import InvalidInputError
from core.evaluation import held_out_faces
from core.generators import load_generator
from core.generators.coarse_view import CoarseImage
from core.generators.ffhq_install import find_data
from core.jobs import run_job
from core.landscape import run_training
from core.landscape.gate import landscape_psnr
from core.landscape.learning import LandscapeTrainConfig
from core.theta.mapping import MappingConfig, load_mapping

TINY = LandscapeTrainConfig(mapping=MappingConfig(width=16), inner_steps=2, batch=1, max_iterations=1,
                            validate_every=0, minutes=60, coarse_image=True)


def test_a_model_without_a_coarse_image_refuses_before_writing_anything(G, tmp_path):
    with pytest.raises(InvalidInputError, match="no coarse image"):
        CoarseImage(G)
    with pytest.raises(InvalidInputError, match="no coarse image"):
        run_job(run_training(G, TINY, tmp_path / "theta"))
    assert not (tmp_path / "theta").exists()


@pytest.mark.skipif(find_data() is None, reason="the FFHQ model (random-face) is not installed")
def test_theta_trains_on_the_coarse_image_and_is_gated_on_the_exact_one(tmp_path):
    ffhq = load_generator("ffhq")
    coarse = CoarseImage(ffhq)
    w = ffhq.sample_latent(2, 5)
    assert torch.equal(coarse.synthesize(w), ffhq.synthesize_coarse(w))  # the view's image is the coarse one
    assert torch.equal(coarse.sample_latent(2, 5), w) and coarse.model_id == ffhq.model_id

    outcome = run_job(run_training(ffhq, TINY, tmp_path, gate_faces=2, gate_budgets=(1,)))
    theta, meta = load_mapping(tmp_path)
    assert outcome.iterations == 1 and meta["train"]["coarse_image"] is True
    assert meta["generator_id"] == ffhq.model_id  # a θ of FFHQ itself: the editor's methods find it
    exact_scores, coarse_scores = (landscape_psnr(model, theta, held_out_faces(model, 2), 1)
                                   for model in (ffhq, coarse))
    assert meta["gate"]["psnr"]["theta"]["1"] == round(statistics.fmean(exact_scores), 3)  # gated on the exact image
    assert meta["gate"]["psnr"]["theta"]["1"] != round(statistics.fmean(coarse_scores), 3)  # which can be told apart
