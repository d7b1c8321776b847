"""Truncation and style mixing as edits: exact pulls toward a point, on the real generators, through every path
that applies edits (the sliders' rule, projects, the command line)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from core.cli import main
from core.directions import find_direction, layer_range, seed_mix, style_mix, truncation
from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import CropBox
from core.inversion.report import save_npy
from core.photo_jobs import edited_latent
from core.resources import resources_dir
from core.sessions import Document, EditedDirection
from core.sessions.store import load_project, save_project
from tests.app.models.tiny_stylegan2 import write_tiny_stylegan2

SAMPLE = resources_dir() / "samples" / "astronaut.png"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = write_tiny_stylegan2(tmp_path_factory.mktemp("models") / "tiny.pt")
    return path, load_generator(str(path), "cpu")


def test_truncation_pulls_the_edited_code_toward_the_average(tiny):
    _, G = tiny
    w = G.sample_latent(1, 3, G.default_space)[0].numpy()
    average = G.mean_latent(G.default_space)[0].numpy()
    psi = truncation(G)
    for alpha in (0.0, 0.3, 1.0):
        moved, _ = edited_latent(G, w, [(psi, alpha)])
        expected = G.truncation(torch.from_numpy(w)[None], 1 - alpha)[0].numpy()  # the generator's own rule
        np.testing.assert_allclose(moved, expected, atol=1e-6)
    np.testing.assert_allclose(edited_latent(G, w, [(psi, 1.0)])[0], average, atol=1e-6)
    dcgan = load_generator("default", "cpu")
    z = dcgan.sample_latent(1, 1)[0].numpy()
    np.testing.assert_allclose(edited_latent(dcgan, z, [(truncation(dcgan), 0.25)])[0], 0.75 * z, atol=1e-6)


def test_mixing_gives_a_layer_range_the_other_codes_styles(tiny):
    _, G = tiny
    count = G.space("w+").shape[0]
    assert layer_range(G, "coarse")[0] == 0 and layer_range(G, "fine")[1] == count
    w = G.sample_latent(1, 3, G.default_space)[0].numpy()
    mix = seed_mix(G, 9, "middle")
    start, stop = mix.layers
    moved, space = edited_latent(G, w, [(mix, 1.0)])
    assert space == "w+" and moved.shape == (count, w.shape[-1])
    np.testing.assert_allclose(moved[start:stop], G.sample_latent(1, 9, "w")[0].numpy()[None].repeat(stop - start, 0),
                               atol=1e-6)
    np.testing.assert_allclose(np.delete(moved, np.s_[start:stop], 0), w[None].repeat(count - (stop - start), 0),
                               atol=1e-6)
    half, _ = edited_latent(G, w, [(mix, 0.5)])
    np.testing.assert_allclose(half[start], (w + moved[start]) / 2, atol=1e-6)
    whole = G.sample_latent(1, 4, "w+")[0].numpy()  # a per-layer source gives each row its own
    rows = edited_latent(G, w, [(style_mix(G, whole, "w+", (1, 3), label="photo"), 1.0)])[0]
    np.testing.assert_allclose(rows[1:3], whole[1:3], atol=1e-6)
    with pytest.raises(InvalidInputError, match="StyleGAN-family"):
        seed_mix(load_generator("default", "cpu"), 1, "coarse")
    with pytest.raises(InvalidInputError, match="outside"):
        layer_range(G, (2, count + 1))


def test_a_project_keeps_and_applies_a_mix_and_a_truncation(tiny, tmp_path):
    _, G = tiny
    w = G.sample_latent(2, 3, "w+").numpy()  # two starts of per-layer codes
    mix = style_mix(G, G.sample_latent(1, 8, "w+")[0].numpy(), "w+", "coarse", label="other photo")
    psi = truncation(G, "w+")
    edits = tuple(EditedDirection(name=d.name, vector=d.vector, scale=d.scale, alpha=a, layers=d.layers,
                                  method=d.method) for d, a in ((mix, 1.0), (psi, 0.4)))
    photo = SAMPLE.read_bytes()
    doc = Document(None, hashlib.sha256(photo).hexdigest(), CropBox(0, 0, 32), embedded_photo=photo, latents=w,
                   best_index=1, edits=edits)
    expected, _ = edited_latent(G, w[1], [(mix, 1.0), (psi, 0.4)], "w+")
    np.testing.assert_allclose(doc.edited_latent(), expected, atol=1e-5)
    assert mix.vector.ndim == 2  # a whole per-layer code: the project file must take it back
    path = save_project(doc, tmp_path / "styled.lsproj")
    again, _photo = load_project(path)
    assert [e.method for e in again.edits] == ["style-mix", "truncation"]
    np.testing.assert_allclose(again.edited_latent(), expected, atol=1e-5)


def test_the_command_line_names_them(tiny, tmp_path, capsys):
    path, G = tiny
    latent = save_npy(tmp_path / "latent.npy", G.sample_latent(1, 2, G.default_space)[0].numpy())
    source = save_npy(tmp_path / "other.npy", G.sample_latent(1, 5, G.default_space)[0].numpy())
    args = ["edit", str(SAMPLE), "--model", str(path), "--latent", str(latent), "--crop", "150,60,200"]
    assert main([*args, "--truncation", "0.7", "--mix", "coarse:seed=3", "--mix", f"1-3:{source}",
                 "--out", str(tmp_path / "styled.png")]) == 0
    assert "truncation +0.3, mix seed 3 (coarse) +1, mix other.npy (layers 1–2) +1" in capsys.readouterr().out
    assert find_direction("mix:fine:seed=4", G, []).layers == layer_range(G, "fine")
    for bad, message in (("mix:top:seed=1", "Unknown layer range"), ("mix:coarse:seed=x", "whole number"),
                         ("mix:coarse:photo.png", "mix:LAYERS:seed=N")):
        with pytest.raises(InvalidInputError, match=message):
            find_direction(bad, G, [])
    assert main([*args, "--truncation", "1.5", "--out", str(tmp_path / "bad.png")]) == 2
    assert "--truncation must be from 0" in capsys.readouterr().err
