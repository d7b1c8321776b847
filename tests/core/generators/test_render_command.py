"""``landscape-studio render``: PNG and raw NPY outputs for the DCGAN and a StyleGAN2 checkpoint, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli import main
from core.generators import load_generator
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Net


@pytest.fixture(scope="module")
def sg2_path(tmp_path_factory):
    torch.manual_seed(0)
    net = StyleGAN2Net(StyleGAN2Config(resolution=32, style_dim=32, n_mlp=2, channel_max=16))
    path = tmp_path_factory.mktemp("render") / "tiny.pt"
    torch.save({"g_ema": net.state_dict(), "latent_avg": 0.1 * torch.randn(32)}, path)
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


def test_dcgan_png_and_raw_npy(tmp_path):
    G = load_generator("default")
    z = G.sample_latent(1, seed=3)[0].numpy()  # [100]
    np.save(tmp_path / "z.npy", z)
    assert main(["render", "--latent", str(tmp_path / "z.npy"), "--out", str(tmp_path / "face.png")]) == 0
    assert Image.open(tmp_path / "face.png").size == (64, 64)
    assert main(["render", "--space", "z", "--latent", str(tmp_path / "z.npy"), "--out", str(tmp_path / "x.npy")]) == 0
    raw = np.load(tmp_path / "x.npy")
    assert raw.dtype == np.float32 and raw.shape == (1, 3, 64, 64)
    with torch.no_grad():
        np.testing.assert_allclose(raw, G.synthesize(torch.from_numpy(z[None])).numpy(), atol=1e-6)


def test_stylegan2_spaces_truncation_and_noise(tmp_path, sg2_path):
    G = load_generator(sg2_path)
    ws = G.sample_latent(2, seed=1, space="w+").numpy()  # [2, 8, 32]
    np.save(tmp_path / "ws.npy", ws)
    assert main(["render", "--model", str(sg2_path), "--space", "w+", "--latent", str(tmp_path / "ws.npy"),
                 "--out", str(tmp_path / "pair.png")]) == 0
    assert Image.open(tmp_path / "pair.png").size == (64, 32)  # two faces side by side
    np.save(tmp_path / "z.npy", G.sample_latent(1, seed=2, space="z")[0].numpy())
    assert main(["render", "--model", str(sg2_path), "--space", "z", "--latent", str(tmp_path / "z.npy"),
                 "--truncation", "0", "--noise", "none", "--out", str(tmp_path / "avg.npy")]) == 0
    G.noise_mode = "none"
    with torch.no_grad():
        average = G.synthesize(G.w_avg[None], "w").numpy()
    np.testing.assert_allclose(np.load(tmp_path / "avg.npy"), average, atol=1e-5)


def test_bad_latent_shape_is_one_error_line(tmp_path, capsys, sg2_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 7), dtype=np.float32))
    code = main(["render", "--model", str(sg2_path), "--space", "w", "--latent", str(tmp_path / "bad.npy"),
                 "--out", str(tmp_path / "o.png")])
    assert code == 2 and "(3, 7)" in _error_line(capsys)
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--space", "w"], "no latent space 'w'"),
    (["--truncation", "0.7"], "truncation applies to StyleGAN"),
    (["--noise", "random"], "no noise inputs"),
])
def test_dcgan_refuses_stylegan_options(tmp_path, capsys, extra, message):
    np.save(tmp_path / "z.npy", np.zeros(100, dtype=np.float32))
    code = main(["render", "--latent", str(tmp_path / "z.npy"), "--out", str(tmp_path / "o.png"), *extra])
    assert code == 2 and message in _error_line(capsys)


def test_unknown_output_suffix(tmp_path, capsys):
    np.save(tmp_path / "z.npy", np.zeros(100, dtype=np.float32))
    assert main(["render", "--latent", str(tmp_path / "z.npy"), "--out", str(tmp_path / "o.tif")]) == 2
    assert ".npy, .png" in _error_line(capsys)
