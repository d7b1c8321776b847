"""Directions and inpainting on a (tiny, random-weight) StyleGAN2: SeFa from the style affines, PCA of w, layer
ranges of w+, the discover command, and diverse inpainting in w and w+."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.cli import main
from core.directions import DirectionLibrary, apply_directions, check_direction, pca_directions, sefa_directions
from core.errors import InvalidInputError
from core.inpainting import InpaintConfig, inpaint
from core.jobs import run_job


def official_sefa(G, count: int) -> np.ndarray:
    """The official SeFa recipe, written out: the styled convs' and the last to-RGB's affine weights [out, w_dim]
    concatenated, each output row normalised, top eigenvectors of AᵀA."""
    convs = [G.net.conv1.conv, *(c.conv for c in G.net.convs), G.net.to_rgbs[-1].conv]
    a = torch.cat([c.modulation.weight for c in convs]).double().numpy()  # [Σ in_ch, w_dim]
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(a.T @ a)
    return vectors[:, np.argsort(values)[::-1][:count]].T


def test_style_weights_are_one_affine_per_w_plus_row(tiny_stylegan2):
    G = tiny_stylegan2
    rows = [row for row, _ in G.style_layers()]
    assert rows == list(range(G.num_ws))
    weights = G.style_weights()
    assert len(weights) == 8 and all(w.shape[1] == 32 for w in weights)
    assert len(G.style_weights((0, 4))) == 4
    with pytest.raises(InvalidInputError, match="out of range"):
        G.style_weights((2, 9))


def test_sefa_uses_every_layers_style_affine(tiny_stylegan2):
    G = tiny_stylegan2
    directions, values = sefa_directions(G, 5)
    expected = official_sefa(G, 5)
    for d, e in zip(directions, expected, strict=True):
        assert d.space == "w" and d.layers is None and d.vector.shape == (32,)
        assert abs(float(d.vector @ e)) == pytest.approx(1.0, abs=1e-5)  # the same axis (sign fixed by us)
        assert d.provenance["normalized"] is True
    assert list(values) == sorted(values, reverse=True)
    assert sum(d.provenance["share"] for d in directions) < 1
    for d in directions:
        check_direction(d, G)


def test_sefa_on_a_layer_range_moves_only_those_rows(tiny_stylegan2):
    G = tiny_stylegan2
    directions, _ = sefa_directions(G, 3, layers=(0, 4))
    coarse = directions[0]
    assert coarse.space == "w+" and coarse.layers == (0, 4) and coarse.provenance["layers"] == [0, 4]
    check_direction(coarse, G)
    ws = G.sample_latent(2, 5, "w+")  # [2, 8, 32]
    moved = apply_directions(ws, [(coarse, 2.0)])
    changed = (moved - ws).abs().sum(dim=(0, 2)) > 0
    assert changed.tolist() == [True] * 4 + [False] * 4
    torch.testing.assert_close(moved[:, 0] - ws[:, 0], torch.from_numpy(2.0 * coarse.scale * coarse.vector)[None]
                               .expand(2, -1))
    with torch.no_grad():
        assert not torch.allclose(G.synthesize(moved, "w+"), G.synthesize(ws, "w+"))


def test_a_w_direction_edits_w_and_every_row_of_w_plus(tiny_stylegan2):
    G = tiny_stylegan2
    d = sefa_directions(G, 1)[0][0]
    w = G.sample_latent(1, 3, "w")
    ws = G.convert_latent(w, "w", "w+")
    with torch.no_grad():
        torch.testing.assert_close(G.synthesize(apply_directions(ws, [(d, 1.5)]), "w+"),
                                   G.synthesize(apply_directions(w, [(d, 1.5)]), "w"))


def test_pca_of_w_samples(tiny_stylegan2):
    directions, ratios = pca_directions(tiny_stylegan2, 4, samples=300)
    assert [d.space for d in directions] == ["w"] * 4 and directions[0].vector.shape == (32,)
    assert directions[0].provenance["layer"] is None and list(ratios) == sorted(ratios, reverse=True)
    w = tiny_stylegan2.sample_latent(300, 0, "w").numpy()
    top = np.linalg.svd(w - w.mean(0), full_matrices=False)[2][0]
    assert abs(float(directions[0].vector @ top)) == pytest.approx(1.0, abs=1e-4)
    assert directions[0].scale == pytest.approx(float(((w - w.mean(0)) @ directions[0].vector).std()), rel=0.15)


def test_directions_discover_command_on_a_stylegan2_checkpoint(tiny_stylegan2_path, tmp_path, capsys):
    out = tmp_path / "lib"
    assert main(["directions", "discover", "--method", "sefa", "--count", "3", "--model", str(tiny_stylegan2_path),
                 "--out", str(out), "--sheet", str(tmp_path / "sheet.png")]) == 0
    library = DirectionLibrary.load(out)
    assert library.names() == ["sefa-00", "sefa-01", "sefa-02"] and {d.space for d in library} == {"w"}
    assert main(["directions", "discover", "--method", "sefa", "--count", "2", "--layers", "0-3", "--model",
                 str(tiny_stylegan2_path), "--out", str(tmp_path / "coarse")]) == 0
    assert {d.layers for d in DirectionLibrary.load(tmp_path / "coarse")} == {(0, 4)}
    assert main(["directions", "list", "--library", str(tmp_path / "coarse"), "--model",
                 str(tiny_stylegan2_path)]) == 0
    assert "0–3" in capsys.readouterr().out
    assert main(["directions", "discover", "--method", "pca", "--count", "2", "--samples", "100", "--model",
                 str(tiny_stylegan2_path), "--out", str(tmp_path / "pca")]) == 0


@pytest.mark.parametrize(("space", "shape"), [(None, (32,)), ("w+", (8, 32))])
def test_inpainting_gives_k_ranked_candidates(tiny_stylegan2, space, shape):
    G = tiny_stylegan2
    target = G.sample(1, 77)
    mask = torch.zeros(32, 32)
    mask[10:22, 6:26] = 1.0
    config = InpaintConfig(candidates=3, steps=20, space=space, colinearity=0.1 if space else 0.0)
    result = run_job(inpaint(G, target, mask, config))
    assert result.latents.shape == (3, *shape) and result.candidates.shape == (3, 32, 32, 3)
    assert list(result.fit) == sorted(result.fit) and result.diversity > 0
    assert not [w for w in result.warnings if "colinearity" in w]
