"""The FFHQ MobileStyleGAN in PyTorch against OpenVINO's own outputs (golden numbers written by
``packaging/check_mobilestylegan.py golden``), its StyleGAN vocabulary, and damaged installs.

The model is the user's install (``make`` installs ``random-face`` with --no-deps); without it these tests skip.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ModelLoadError
from core.generators import load_generator
from core.generators.ffhq_install import DATA_FILES, FFHQ_MODEL, find_data, install_from_wheel, user_install_dir
from core.generators.mobilestylegan import MobileStyleGANGenerator

GOLDEN = Path(__file__).parent / "golden" / "ffhq_openvino.npz"
INSTALLED = find_data()
needs_model = pytest.mark.skipif(INSTALLED is None, reason="the FFHQ model (random-face) is not installed")


@pytest.fixture(scope="module")
def G() -> MobileStyleGANGenerator:
    torch.manual_seed(0)
    model = load_generator("ffhq")
    assert isinstance(model, MobileStyleGANGenerator)
    return model


@needs_model
def test_equals_openvino_on_the_golden_seeds(G: MobileStyleGANGenerator) -> None:
    golden = np.load(GOLDEN, allow_pickle=False)
    rows, cols = golden["rows"], golden["cols"]
    for seed in (0, 1):
        z = torch.from_numpy(golden[f"z{seed}"])
        with torch.no_grad():
            w = G.mapping(z)
            image = G.render(w, "w")[0].numpy()  # [3, 1024, 1024]
        assert np.abs(w[:, :32].numpy() - golden[f"style{seed}"]).max() < 1e-4
        assert np.abs(image[:, rows, cols] - golden[f"pixels{seed}"]).max() < 1e-3
        pooled = image.reshape(3, 16, 64, 16, 64).mean(axis=(2, 4))
        assert np.abs(pooled - golden[f"pooled{seed}"]).max() < 1e-4


@needs_model
def test_working_image_is_the_render_area_averaged(G: MobileStyleGANGenerator) -> None:
    w = G.sample_latent(1, 3, "w")
    with torch.no_grad():
        small, big = G.synthesize(w, "w"), G.render(w, "w")
    assert small.shape == (1, 3, 256, 256) and big.shape == (1, 3, 1024, 1024)
    assert (torch.nn.functional.avg_pool2d(big, 4) - small).abs().max() < 1e-4
    assert G.resolution == 256 and G.render_resolution == 1024


@needs_model
def test_w_plus_rows_feed_their_own_layers(G: MobileStyleGANGenerator) -> None:
    w = G.sample_latent(2, 5, "w")
    with torch.no_grad():
        shared = G.synthesize(w, "w")
        ws = G.ws(w, "w").clone()  # [2, 23, 512]
        assert ws.shape == (2, G.num_ws, 512) and G.num_ws == 23
        assert (G.synthesize(ws, "w+") - shared).abs().max() < 1e-5
        ws[:, -1] = G.w_avg  # the finest row only: colour detail changes, the face does not move
        fine = G.synthesize(ws, "w+")
        ws[:, 0] = G.w_avg
        coarse = G.synthesize(ws, "w+")
    assert 0 < (fine - shared).abs().mean() < (coarse - shared).abs().mean()
    single = G.synthesize(w[1:], "w")  # a batch is the same faces as one at a time
    assert (single - shared[1:]).abs().max() < 1e-3


@needs_model
def test_a_cpu_batch_run_face_by_face_equals_the_whole_batch_with_its_gradient(G: MobileStyleGANGenerator) -> None:
    w = G.sample_latent(2, 9, "w").requires_grad_(True)
    by_face = G.synthesize(w, "w")  # on a CPU: one face a pass
    (grad_by_face,) = torch.autograd.grad(by_face.square().mean(), w)
    whole = G.net.working(G.ws(w, "w"))
    (grad_whole,) = torch.autograd.grad(whole.square().mean(), w)
    assert (by_face - whole).abs().max() < 1e-4
    assert (grad_by_face - grad_whole).abs().max() < 1e-4 * grad_whole.abs().max()


@needs_model
def test_truncation_and_style_weights(G: MobileStyleGANGenerator) -> None:
    w = G.sample_latent(1, 7, "w")
    assert torch.allclose(G.truncation(w, 0.0), G.w_avg[None])
    assert torch.allclose(G.truncation(w, 1.0), w)
    weights = G.style_weights()
    assert len(weights) == 23 and all(a.shape[1] == 512 for a in weights)
    assert weights[0].shape[0] == 512 and weights[-1].shape[0] == 64  # the input block's 512 channels … to-image's
    assert len(G.style_weights((20, 23))) == 3


@needs_model
def test_a_partial_or_edited_install_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(tmp_path))
    folder = user_install_dir()
    folder.mkdir(parents=True)
    assert INSTALLED is not None
    for name in DATA_FILES:
        shutil.copyfile(INSTALLED / name, folder / name)
    (folder / "SynthesisNetwork.bin").unlink()
    with pytest.raises(ModelLoadError, match=r"'SynthesisNetwork.bin' is missing"):
        load_generator(FFHQ_MODEL)
    data = (INSTALLED / "SynthesisNetwork.bin").read_bytes()
    (folder / "SynthesisNetwork.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"'SynthesisNetwork.bin' .* is damaged or was changed"):
        load_generator(FFHQ_MODEL)
    shutil.copyfile(INSTALLED / "SynthesisNetwork.bin", folder / "SynthesisNetwork.bin")
    text = (folder / "MappingNetwork.xml").read_text().replace('type="PReLU"', 'type="Relu"', 1)
    (folder / "MappingNetwork.xml").write_text(text)
    with pytest.raises(ModelLoadError, match=r"'MappingNetwork.xml' .* is damaged or was changed"):
        load_generator(FFHQ_MODEL)


def test_only_the_released_wheel_installs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(tmp_path / "data"))
    fake = tmp_path / "random_face-2021.7.21.1-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        for name in DATA_FILES:
            archive.writestr(f"random_face/data/{name}", b"not a network")
    with pytest.raises(ModelLoadError, match=r"not random_face-2021.7.21.1-py3-none-any.whl as released"):
        install_from_wheel(fake)
    with pytest.raises(ModelLoadError, match=r"does not exist"):
        install_from_wheel(tmp_path / "missing.whl")
    assert not user_install_dir().exists()


def test_without_an_install_the_message_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(tmp_path))
    monkeypatch.setattr("core.generators.mobilestylegan.find_data", lambda: None)
    with pytest.raises(ModelLoadError, match=r"not installed.*pip install --no-deps random-face==2021.7.21.1"):
        load_generator("ffhq")


WHEEL = Path(__file__).resolve().parents[3] / ".venv" / "wheels" / "random_face-2021.7.21.1-py3-none-any.whl"


@pytest.mark.skipif(not WHEEL.is_file(), reason="make keeps the downloaded wheel in .venv/wheels; it is not here")
def test_the_released_wheel_installs_into_the_users_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(tmp_path))
    folder = install_from_wheel(WHEEL)
    assert folder == user_install_dir() and sorted(p.name for p in folder.iterdir()) == sorted(DATA_FILES)
    assert find_data() == folder
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".ffhq-install-")]  # no staging left
