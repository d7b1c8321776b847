import json

import numpy as np
import pytest
import torch

from core.device import to_uint8_hwc
from core.directions import (
    Direction,
    DirectionLibrary,
    apply_direction,
    apply_directions,
    check_direction,
    conditional,
    contact_sheet,
    dcgan_latent_weights,
    direction_from_two_latents,
    direction_strip,
    discover_directions,
    find_direction,
    fit_boundary,
    import_ganspace,
    import_interfacegan,
    latent_scale,
    layer_activations,
    pca_directions,
    principal_components,
    sefa_basis,
    sefa_directions,
    supervised_direction,
)
from core.directions.apply import sampled_scale
from core.errors import InvalidInputError


def unit(seed: int, shape=(100,)) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(shape)
    return (v / np.linalg.norm(v)).astype(np.float32)


def make(name: str, seed: int = 0, shape=(100,), **fields) -> Direction:
    return Direction(name=name, vector=unit(seed, shape), space=fields.pop("space", "z"),
                     model_id=fields.pop("model_id", "test@0"), method=fields.pop("method", "pca"), **fields)


# -- SeFa ------------------------------------------------------------------------------------------------------
def test_sefa_vectors_are_unit_orthogonal_sorted_and_match_the_top_singular_vector(G):
    directions, values = sefa_directions(G, 8)
    V = np.stack([d.vector for d in directions]).astype(np.float64)  # [8, 100]
    np.testing.assert_allclose(V @ V.T, np.eye(8), atol=1e-5)
    assert np.all(np.diff(values) <= 0) and values[-1] > 0
    assert [d.name for d in directions] == [f"sefa-{k:02d}" for k in range(8)]
    (A,) = dcgan_latent_weights(G)  # [C·16, 100]
    assert A.shape == (512 * 16, 100)
    _, s, vh = torch.linalg.svd(A.double(), full_matrices=False)
    assert abs(float(vh[0].numpy() @ V[0])) == pytest.approx(1.0, abs=1e-6)
    assert values[0] == pytest.approx(float(s[0] ** 2), rel=1e-6)
    assert directions[0].scale == pytest.approx(1.0) and directions[0].provenance["component"] == 0


def test_sefa_basis_is_generic_over_several_layers():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((30, 6)), torch.from_numpy(rng.standard_normal((20, 6)))]
    basis, values = sefa_basis(weights, 3)
    gram = weights[0].T @ weights[0] + weights[1].numpy().T @ weights[1].numpy()
    np.testing.assert_allclose(gram @ basis.T, basis.T * values, atol=1e-9)  # eigenpairs of Σ AᵀA
    with pytest.raises(InvalidInputError, match="between 1 and 6"):
        sefa_basis(weights, 7)


# -- PCA -------------------------------------------------------------------------------------------------------
def test_pca_directions_are_unit_deterministic_and_ordered(G):
    first, ratios = pca_directions(G, 5, samples=200, seed=3)
    again, ratios_again = pca_directions(G, 5, samples=200, seed=3)
    other, _ = pca_directions(G, 5, samples=200, seed=4)
    for d, e in zip(first, again, strict=True):
        assert d.vector.tobytes() == e.vector.tobytes()
        assert np.linalg.norm(d.vector) == pytest.approx(1.0, abs=1e-6)
    assert np.array_equal(ratios, ratios_again)
    assert np.all(np.diff(ratios) <= 0) and 0 < ratios.sum() < 1
    assert not np.array_equal(first[0].vector, other[0].vector)
    assert first[0].provenance["layer"] == "blocks.0" and first[0].method == "pca"


def test_principal_components_find_the_long_axis_either_way():
    rng = np.random.default_rng(1)
    axis = unit(7, (5,)).astype(np.float64)
    for n in (4, 500):  # Gram route (n ≤ F) and covariance route (n > F)
        x = rng.standard_normal((n, 5)) * 0.1 + rng.standard_normal((n, 1)) * 3 * axis
        comps, coords, ratios = principal_components(x, 1 if n == 4 else 2)
        assert abs(comps[0] @ axis) > 0.99 and ratios[0] > 0.9
        assert coords.shape == (n, len(comps))


def test_layer_activations_capture_the_layer_and_remove_the_hook(G):
    z = G.sample_latent(4, 0)
    acts = layer_activations(G.net, "blocks.0", lambda: G.synthesize(z))
    with torch.no_grad():
        expected = G.net.blocks[0](z[:, :, None, None])
    assert torch.equal(acts, expected) and acts.shape == (4, 512, 4, 4)
    assert not G.net.blocks[0]._forward_hooks
    with pytest.raises(InvalidInputError, match="no layer 'nope'"):
        layer_activations(G.net, "nope", lambda: None)


# -- supervised and two photos ---------------------------------------------------------------------------------
def test_supervised_direction_separates_labels_made_from_a_hidden_direction(G):
    hidden = unit(11)
    z = G.sample_latent(300, 1000).numpy()  # [300, 100]
    labels = z @ hidden > 0.3
    direction = supervised_direction(G, z, labels, "hidden")
    assert float(direction.vector @ hidden) > 0.85  # points from "no" to "yes"
    assert direction.provenance["training_accuracy"] >= 0.95 and direction.provenance["labels"] == 300
    scores = z @ direction.vector
    assert scores[labels].mean() > scores[~labels].mean() + 1.0
    flipped, _, _ = fit_boundary(z, ~labels)
    assert float(flipped @ direction.vector) == pytest.approx(-1.0, abs=1e-3)
    with pytest.raises(InvalidInputError, match="at least two"):
        fit_boundary(z[:5], [True, False, False, False, False])


def test_direction_from_two_latents_records_its_length_and_reaches_b(G):
    a, b = G.sample_latent(2, 7).numpy()
    direction = direction_from_two_latents(a, b, G, "a-to-b")
    assert direction.method == "two-photos"
    assert direction.provenance["length"] == pytest.approx(float(np.linalg.norm(b - a)), rel=1e-6)
    reached = apply_direction(a, direction, direction.provenance["alpha_to_b"])
    np.testing.assert_allclose(reached, b, atol=1e-5)
    with pytest.raises(InvalidInputError, match="same"):
        direction_from_two_latents(a, a, G)


# -- apply, conditional, scale ---------------------------------------------------------------------------------
def test_conditional_edit_is_orthogonal_to_the_others():
    age, glasses, beard = make("age", 1), make("glasses", 2), make("beard", 3)
    result = conditional(age, [glasses, beard])
    assert abs(float(result.vector @ glasses.vector)) < 1e-6 and abs(float(result.vector @ beard.vector)) < 1e-6
    assert np.linalg.norm(result.vector) == pytest.approx(1.0, abs=1e-6)
    assert result.provenance["conditioned_on"] == ["glasses", "beard"] and result.name == "age"
    with pytest.raises(InvalidInputError, match="nothing is left"):
        conditional(glasses, [glasses.replace(name="copy")])


def test_apply_then_unapply_restores_the_latent_numpy_and_torch(G):
    smile, age = make("smile", 1, scale=0.5), make("age", 2, scale=2.0)
    z = G.sample_latent(3, 0)  # [3, 100] torch
    edited = apply_directions(z, [(smile, 1.5), (age, -1.0)])
    assert isinstance(edited, torch.Tensor) and edited.dtype == z.dtype and edited.device == z.device
    assert float((edited - z)[0] @ torch.from_numpy(smile.vector.copy())) == pytest.approx(0.75 - 2.0 * float(
        smile.vector @ age.vector), abs=1e-5)
    back = apply_directions(edited, [(smile, -1.5), (age, 1.0)])
    torch.testing.assert_close(back, z, atol=1e-6, rtol=0)
    single = z[0].numpy().astype(np.float64)  # one code, numpy, float64 kept
    moved = apply_direction(single, smile, 2.0)
    assert moved.dtype == np.float64 and moved.shape == (100,)
    np.testing.assert_allclose(apply_direction(moved, smile, -2.0), single, atol=1e-12)
    assert np.array_equal(z[0].numpy(), single.astype(np.float32))  # the input was not modified


def test_layer_range_only_touches_those_layers():
    coarse = make("pose", 4, shape=(8,), space="w+", layers=(1, 3))
    ws = np.zeros((2, 6, 8), dtype=np.float32)  # [N, num_ws, w_dim]
    out = apply_directions(ws, [(coarse, 1.0)])
    changed = np.abs(out).sum(axis=(0, 2)) > 0
    assert changed.tolist() == [False, True, True, False, False, False]
    np.testing.assert_allclose(out[1, 2], coarse.vector, atol=1e-7)
    everywhere = apply_directions(ws[0], [(coarse.replace(layers=None), 1.0)])  # [num_ws, w_dim]
    assert (np.abs(everywhere).sum(axis=1) > 0).all()
    with pytest.raises(InvalidInputError, match="6 layers"):
        apply_directions(ws, [(coarse.replace(layers=(4, 9)), 1.0)])
    with pytest.raises(InvalidInputError, match="another"):
        apply_directions(np.zeros((3, 100), np.float32), [(coarse, 1.0)])


def test_latent_scale_is_one_std_of_z(G):
    v = unit(5)
    assert latent_scale(G, v) == pytest.approx(1.0, abs=1e-9)
    z = G.sample_latent(4000, 0).numpy()
    assert float((z @ v).std()) == pytest.approx(latent_scale(G, v), abs=0.05)
    stretched = np.random.default_rng(0).standard_normal((4000, 3)) * np.array([3.0, 1.0, 0.5])
    assert sampled_scale(stretched, np.array([1.0, 0, 0])) == pytest.approx(3.0, rel=0.05)
    per_layer = np.repeat(stretched[:, None, :], 4, axis=1)  # [n, num_ws, w_dim]
    assert sampled_scale(per_layer, np.array([0, 0, 2.0])) == pytest.approx(0.5, rel=0.05)


# -- Direction and library -------------------------------------------------------------------------------------
def test_direction_is_unit_read_only_and_validated():
    d = Direction("x", np.arange(1, 5, dtype=np.float64), "z", "m@1", "imported")
    assert d.vector.dtype == np.float32 and np.linalg.norm(d.vector) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError):
        d.vector[0] = 0
    for bad, match in [({"vector": np.zeros(4)}, "zero"), ({"vector": np.array([1.0, np.nan])}, "NaN"),
                       ({"name": " x"}, "name"), ({"scale": 0.0}, "scale"), ({"value_range": (2, 1)}, "range"),
                       ({"layers": (3, 3)}, "layers"), ({"provenance": {"bad": object()}}, "JSON")]:
        with pytest.raises(InvalidInputError, match=match):
            d.replace(**bad)


def test_library_save_load_round_trips_bit_exactly(tmp_path):
    library = DirectionLibrary([make("smile", 1, method="supervised", scale=0.97,
                                     provenance={"training_accuracy": np.float64(0.9), "labels": 40}),
                                make("Smile!", 2, value_range=(-2.0, 5.0)),
                                make("pose", 3, shape=(8,), space="w+", layers=(0, 4))])
    library.save(tmp_path / "lib")
    loaded = DirectionLibrary.load(tmp_path / "lib")
    assert loaded.names() == ["smile", "Smile!", "pose"]
    for a, b in zip(library, loaded, strict=True):
        assert a.vector.tobytes() == b.vector.tobytes() and a.vector.shape == b.vector.shape
        assert a.to_dict() == b.to_dict()
    index = json.loads((tmp_path / "lib" / "library.json").read_text())
    assert index["schema_version"] == 1
    assert [e["file"] for e in index["directions"]] == ["smile.npy", "smile-2.npy", "pose.npy"]
    assert "vector" not in index["directions"][0]


def test_rename_remove_and_duplicates(tmp_path):
    library = DirectionLibrary([make("a", 1), make("b", 2), make("c", 3)])
    library.save(tmp_path)
    library.rename("b", "beard")
    assert library.names() == ["a", "beard", "c"] and library.get("beard").name == "beard"
    removed = library.remove("a")
    assert removed.name == "a" and "a" not in library
    library.save(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == ["beard.npy", "c.npy"]
    assert DirectionLibrary.load(tmp_path).names() == ["beard", "c"]
    with pytest.raises(InvalidInputError, match="already exists"):
        library.add(make("c", 9))
    with pytest.raises(InvalidInputError, match="already exists"):
        library.rename("beard", "c")
    with pytest.raises(InvalidInputError, match=r"no direction named 'zz' \(known: beard, c\)"):
        library.get("zz")


def _saved(tmp_path, *directions):
    folder = tmp_path / "lib"
    DirectionLibrary(list(directions) or [make("smile", 1)]).save(folder)
    return folder


@pytest.mark.parametrize(("damage", "match"), [
    (lambda f: (f / "library.json").unlink(), "no direction library"),
    (lambda f: (f / "library.json").write_text("{not json"), "damaged"),
    (lambda f: (f / "library.json").write_text('{"schema_version": 7, "directions": []}'), "schema version 7"),
    (lambda f: (f / "smile.npy").unlink(), "does not exist"),
    (lambda f: (f / "smile.npy").write_bytes(b"\x93NUMPY garbage"), "smile.npy"),
    (lambda f: np.save(f / "smile.npy", np.ones(7, np.float32)), r"shape \(7,\)"),
    (lambda f: np.save(f / "smile.npy", np.full(100, np.nan, np.float32)), "NaN"),
    (lambda f: np.save(f / "smile.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True), "unpickled"),
    (lambda f: np.save(f / "smile.npy", np.arange(100)), "floating-point"),
])
def test_broken_libraries_give_clear_errors(tmp_path, damage, match):
    folder = _saved(tmp_path)
    damage(folder)
    with pytest.raises(InvalidInputError, match=match):
        DirectionLibrary.load(folder)


def test_library_refuses_files_outside_its_folder(tmp_path):
    folder = _saved(tmp_path)
    index = json.loads((folder / "library.json").read_text())
    index["directions"][0]["file"] = "../secret.npy"
    (folder / "library.json").write_text(json.dumps(index))
    with pytest.raises(InvalidInputError, match="outside the library"):
        DirectionLibrary.load(folder)


def test_check_direction_against_the_model(G):
    check_direction(make("ok", 1, model_id=G.model_id), G)
    with pytest.raises(InvalidInputError, match="another model"):
        check_direction(make("w", 1, shape=(512,)), G)
    with pytest.raises(InvalidInputError, match="no latent space 'w'"):
        check_direction(make("w", 1, space="w"), G)


# -- importers and lookup --------------------------------------------------------------------------------------
def test_import_interfacegan_boundary(G, tmp_path):
    boundary = unit(3)[None] * 2.0  # [1, D], not unit on disk
    np.save(tmp_path / "boundary_smile.npy", boundary)
    d = import_interfacegan(tmp_path / "boundary_smile.npy", G)
    assert d.name == "boundary_smile" and d.method == "imported" and d.vector.shape == (100,)
    np.testing.assert_allclose(d.vector, unit(3), atol=1e-6)
    assert d.model_id == G.model_id and d.scale == pytest.approx(1.0)
    np.save(tmp_path / "flat.npy", unit(4))
    assert import_interfacegan(tmp_path / "flat.npy", G, name="flat").vector.shape == (100,)
    np.save(tmp_path / "w.npy", unit(4, (1, 512)))
    with pytest.raises(InvalidInputError, match="needs 100"):
        import_interfacegan(tmp_path / "w.npy", G)
    bad = unit(5)
    bad[3] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        import_interfacegan(tmp_path / "inf.npy", G)


def test_import_ganspace_components(G, tmp_path):
    comps = np.stack([unit(k) for k in range(4)])[:, None, :]  # [K, 1, D]
    np.savez(tmp_path / "dcgan_comps.npz", lat_comp=comps, lat_stdev=np.array([0.5, 0.4, 0.3, 0.2]),
             lat_mean=np.zeros((1, 100)), var_ratio=np.array([0.4, 0.2, 0.1, 0.05]))
    directions = import_ganspace(tmp_path / "dcgan_comps.npz", G)
    assert [d.name for d in directions] == [f"dcgan_comps-{k:02d}" for k in range(4)]
    assert [d.scale for d in directions] == [0.5, 0.4, 0.3, 0.2]
    assert directions[1].provenance["explained_variance"] == 0.2
    np.testing.assert_allclose(directions[2].vector, unit(2), atol=1e-6)
    np.savez(tmp_path / "flat.npz", lat_comp=comps[:, 0])  # [K, D], no stdev: measured
    assert import_ganspace(tmp_path / "flat.npz", G, prefix="g")[0].scale == pytest.approx(1.0)
    np.savez(tmp_path / "wrong.npz", lat_comp=np.ones((2, 1, 512), np.float32))
    with pytest.raises(InvalidInputError, match="another model"):
        import_ganspace(tmp_path / "wrong.npz", G)
    np.savez(tmp_path / "nostd.npz", lat_comp=comps, lat_stdev=np.array([1.0, 1.0]))
    with pytest.raises(InvalidInputError, match="lat_stdev"):
        import_ganspace(tmp_path / "nostd.npz", G)


def test_find_direction_by_name_library_order_or_path(G, tmp_path):
    mine = DirectionLibrary([make("smile", 1, model_id=G.model_id)])
    shipped = DirectionLibrary([make("smile", 2), make("age", 3)])
    assert find_direction("smile", G, [mine, shipped]) is mine.get("smile")
    assert find_direction("age", G, [mine, shipped]) is shipped.get("age")
    np.save(tmp_path / "hat.npy", unit(6))
    assert find_direction(str(tmp_path / "hat.npy"), G, [mine]).name == "hat"
    with pytest.raises(InvalidInputError, match="Known directions: age, smile"):
        find_direction("smiel", G, [mine, shipped])


# -- pictures ----------------------------------------------------------------------------------------------------
def test_direction_strip_rows_are_seeds_and_columns_alphas(G):
    d = make("x", 1, model_id=G.model_id)
    strip = direction_strip(G, d, seeds=(5, 9), alphas=(-2.0, 0.0, 2.0))
    assert strip.shape == (2 * 64, 3 * 64, 3) and strip.dtype == np.uint8
    faces = to_uint8_hwc(G.sample(1, 9))[0]
    assert np.array_equal(strip[64:, 64:128], faces)  # seed 9 at α = 0 is the plain face
    assert not np.array_equal(strip[64:, :64], faces)
    sheet = contact_sheet(G, [d, make("y", 2)], seeds=(0,), alphas=(-1.0, 1.0))
    assert sheet.dtype == np.uint8 and sheet.shape[0] > 2 * 64 and sheet.shape[1] > 2 * 64


def test_discover_names_and_unknown_method(G):
    directions, values = discover_directions(G, "sefa", 2)
    assert [d.name for d in directions] == ["sefa-00", "sefa-01"] and len(values) == 2
    with pytest.raises(InvalidInputError, match="sefa, pca"):
        discover_directions(G, "ica", 2)
