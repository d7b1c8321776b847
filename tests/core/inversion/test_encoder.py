"""The encoder network, its file format and its trainer (real training runs, kept tiny)."""

from __future__ import annotations

import json

import pytest
import torch

from core.errors import InvalidInputError, ModelLoadError
from core.evaluation import validation_faces
from core.inversion.encoder import EncoderConfig, LatentEncoder, find_encoder, load_encoder, save_encoder
from core.inversion.encoder_training import (
    EncoderTrainConfig,
    encoder_psnr,
    load_encoder_checkpoint,
    new_encoder_state,
    run_encoder_training,
    save_encoder_checkpoint,
    train_encoder,
)
from core.jobs import CancelToken, run_job

TINY = EncoderTrainConfig(width=8, batch=8, iterations=12, validate_every=6, validation_faces=4, lr=2e-3)


def test_encoder_maps_images_to_latents_of_the_models_shape(G):
    encoder = LatentEncoder(EncoderConfig(64, (100,), 8))
    assert encoder(G.sample(3, 0)).shape == (3, 100)
    with pytest.raises(ModelLoadError, match="power-of-two"):
        LatentEncoder(EncoderConfig(48, (100,), 8))


def test_save_and_load_round_trip_bit_exactly(G, tmp_path):
    encoder = LatentEncoder(EncoderConfig(64, (100,), 8), seed=3)
    save_encoder(encoder, tmp_path / "e", {"generator_id": G.model_id, "space": "z"})
    loaded, meta = load_encoder(tmp_path / "e")
    for (name, a), (_, b) in zip(encoder.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert meta["encoder"]["width"] == 8
    found, _ = find_encoder(G, tmp_path / "e")
    images = G.sample(2, 5)
    assert torch.equal(found(images), encoder(images).detach())


def test_find_encoder_refuses_another_models_or_a_broken_encoder(G, tmp_path):
    encoder = LatentEncoder(EncoderConfig(64, (100,), 8))
    save_encoder(encoder, tmp_path / "other", {"generator_id": "someone-else@123", "space": "z"})
    with pytest.raises(ModelLoadError, match="trained for someone-else"):
        find_encoder(G, tmp_path / "other")
    with pytest.raises(ModelLoadError, match="No encoder"):
        find_encoder(G, tmp_path / "missing")
    save_encoder(encoder, tmp_path / "broken", {"generator_id": G.model_id, "space": "z"})
    (tmp_path / "broken" / "encoder.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="readable encoder"):
        find_encoder(G, tmp_path / "broken")
    meta = json.loads((tmp_path / "other" / "encoder.json").read_text())
    (tmp_path / "other" / "encoder.json").write_text(json.dumps({**meta, "schema_version": 99}))
    with pytest.raises(ModelLoadError, match="schema 99"):
        load_encoder(tmp_path / "other")


def test_training_lowers_the_loss_and_is_deterministic(G):
    config = EncoderTrainConfig(width=8, batch=16, iterations=30, validate_every=0, lr=3e-3)
    faces = validation_faces(G, 8)
    before = encoder_psnr(G, new_encoder_state(G, config).encoder.eval(), faces)
    steps: list = []
    state = run_job(train_encoder(G, config), steps.append)
    assert len(steps) == 30 and state.iteration == 30
    assert sum(s.loss for s in steps[-5:]) < sum(s.loss for s in steps[:5])
    assert encoder_psnr(G, state.encoder, faces) > before + 1.0
    again = run_job(train_encoder(G, config))
    for a, b in zip(state.encoder.state_dict().values(), again.encoder.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_resumed_training_equals_one_straight_run(G, tmp_path):
    straight = run_job(train_encoder(G, TINY))
    token = CancelToken()
    half = run_job(train_encoder(G, TINY, None, token), lambda s: token.cancel() if s.iteration == 5 else None)
    assert half.iteration == 5
    save_encoder_checkpoint(half, TINY, tmp_path)
    resumed, config = load_encoder_checkpoint(G, tmp_path)
    finished = run_job(train_encoder(G, config, resumed))
    assert finished.iteration == 12
    for a, b in zip(straight.encoder.state_dict().values(), finished.encoder.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert finished.best_iteration == straight.best_iteration


def test_a_whole_run_saves_the_best_validated_encoder_with_its_figures(G, tmp_path):
    steps: list = []
    run_job(run_encoder_training(G, TINY, tmp_path / "run", held_out=4), steps.append)
    meta = json.loads((tmp_path / "run" / "encoder.json").read_text())
    scored = [s for s in steps if s.validation_psnr is not None]
    assert [s.iteration for s in scored] == [6, 12]
    best = max(scored, key=lambda s: s.validation_psnr)
    assert meta["selected_iteration"] == best.iteration
    assert meta["validation_psnr"] == pytest.approx(best.validation_psnr, abs=1e-3)
    assert meta["generator_id"] == G.model_id and meta["iterations"] == 12
    assert meta["held_out_psnr"] > 5
    find_encoder(G, tmp_path / "run")


def test_a_cancelled_run_keeps_its_checkpoint_and_saves_no_encoder(G, tmp_path):
    token = CancelToken()
    token.cancel()
    run_job(run_encoder_training(G, TINY, tmp_path / "run", cancel=token))
    assert (tmp_path / "run" / "checkpoint" / "checkpoint.json").is_file()
    assert not (tmp_path / "run" / "encoder.json").exists()


def test_bad_settings_are_refused(G):
    with pytest.raises(InvalidInputError, match="batch"):
        run_job(train_encoder(G, EncoderTrainConfig(batch=0)))
    with pytest.raises(InvalidInputError, match="latent and image"):
        run_job(train_encoder(G, EncoderTrainConfig(latent_weight=0, image_weight=0)))


def test_smaller_passes_give_the_encoder_the_same_gradient_and_figures(G):
    """A 1024-px model's batch goes through E and G in passes that fit memory (core.memory): the summed gradient and
    the batch's figures are the whole batch's."""
    from core.inversion.encoder_training import _backward_in_passes

    config = EncoderTrainConfig(width=8, batch=6)
    x = G.sample_latent(6, 77)
    with torch.no_grad():
        y = G.synthesize(x)

    def run(per_pass: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        encoder = new_encoder_state(G, config).encoder.train()
        figures = _backward_in_passes(G, encoder, x, y, config, per_pass)
        return figures, [p.grad.clone() for p in encoder.parameters()]

    whole, whole_grads = run(6)
    for per_pass in (1, 4):
        figures, grads = run(per_pass)
        torch.testing.assert_close(figures, whole, rtol=1e-5, atol=1e-6)
        for a, b in zip(grads, whole_grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * float(b.abs().max()))
