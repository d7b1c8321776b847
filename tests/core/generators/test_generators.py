import hashlib
import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from core.errors import InvalidInputError, ModelLoadError
from core.generators import load_generator
from core.resources import resources_dir

MODEL_DIR = resources_dir() / "models" / "dcgan_digiface"


def test_default_model_shape_and_range(G):
    assert G.resolution == 64
    assert G.latent_spaces["z"].shape == (100,)
    images = G.sample(4, seed=3)
    assert images.shape == (4, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0.1  # real faces, not a constant


def test_sampling_is_seeded(G):
    assert torch.equal(G.sample(2, 7), G.sample(2, 7))
    assert not torch.equal(G.sample(2, 7), G.sample(2, 8))


def test_batchnorm_is_in_eval_mode_so_images_do_not_depend_on_the_batch(G):
    z = G.sample_latent(5, 11)
    alone = G.synthesize(z[:1])
    together = G.synthesize(z)[:1]
    assert torch.allclose(alone, together, atol=1e-5)


def test_mean_latent_is_a_dead_point(G):
    """Why inversion starts at random: at z = 0 every first-layer activation is cut by ReLU."""
    z = G.mean_latent().clone().requires_grad_(True)
    G.synthesize(z).square().sum().backward()
    assert torch.count_nonzero(z.grad) == 0


def test_model_id_names_the_weights():
    digest = hashlib.sha256((MODEL_DIR / "generator.safetensors").read_bytes()).hexdigest()
    G = load_generator("default")
    assert G.model_id == f"dcgan-digiface@{digest[:16]}"
    assert load_generator(MODEL_DIR / "generator.safetensors").model_id == G.model_id


def test_provenance_and_license_ship_with_the_model():
    provenance = json.loads((MODEL_DIR / "provenance.json").read_text())
    digest = hashlib.sha256((MODEL_DIR / "generator.safetensors").read_bytes()).hexdigest()
    assert provenance["converted_sha256"] == digest
    assert provenance["source_package"] == "gan-face-generate" and provenance["source_version"] == "1.1.1"
    assert provenance["max_image_error_vs_float32_in_255ths"] <= 1.0
    assert "Permission is hereby granted" in (MODEL_DIR / "LICENSE").read_text()


def test_unknown_space_is_refused(G):
    with pytest.raises(InvalidInputError, match="no latent space 'w'"):
        G.synthesize(torch.zeros(1, 100), space="w")


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelLoadError, match="No model file"):
        load_generator(tmp_path / "nothing.safetensors")


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelLoadError, match="plain Python pickle"):
        load_generator(path)
    assert not marker.exists()


def test_corrupt_safetensors(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ModelLoadError, match="not a readable safetensors"):
        load_generator(path)


def test_unknown_architecture(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"architecture": "vae"})
    with pytest.raises(ModelLoadError, match="unknown architecture 'vae'"):
        load_generator(path)


def test_weights_that_do_not_match_the_layout(tmp_path):
    path = tmp_path / "wrong.safetensors"
    meta = {"architecture": "dcgan", "z_dim": "100", "channels": "512,256,128,64"}
    save_file({"blocks.0.conv.weight": torch.zeros(3, 3)}, str(path), metadata=meta)
    with pytest.raises(ModelLoadError, match="does not match the DCGAN layout"):
        load_generator(path)


def test_a_seed_names_one_face_whatever_the_batch(G):
    assert torch.equal(G.sample_latent(5, 100)[2], G.sample_latent(1, 102)[0])
    assert torch.equal(G.sample_latent(3, 3), G.sample_latent(8, 3)[:3])
