"""core.sessions with a pivotal tuning: the document's WeightDelta, its round trip in the .lsproj and refusals."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidInputError
from core.generators.tuning import WeightDelta
from core.inversion import InversionConfig, InversionResult
from core.sessions import CURRENT_SCHEMA, Document, load_project, save_project, tuned_weights
from tests.core.sessions.test_sessions import CROP, SAMPLE, _assert_same, _document, _manifest, _npz, _rewrite

MODEL = "dcgan_digiface-1234abcd"  # the model id of test_sessions._document
SHAPES = {"mapping.fc0.bias": (8,), "torgb.weight": (3, 8), "style.affine": (2, 3, 4), "conv0.weight": (4, 3, 3, 3)}
INFO = {"steps": 5, "lr": 3e-4, "cancelled": False, "stopped_early": True, "reconstruction_loss": 0.0123,
        "seconds": 1.5, "notes": {"locality": [0.1, 0.2]}}


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    target = tmp_path / "astronaut.png"
    shutil.copyfile(SAMPLE, target)
    return target


def _delta(base: str = MODEL, seed: int = 0) -> WeightDelta:
    rng = np.random.default_rng(seed)
    return WeightDelta(base, {name: rng.standard_normal(shape).astype(np.float32) for name, shape in SHAPES.items()},
                       dict(INFO))


def _tuned(photo: Path) -> Document:
    return _document(photo).with_changes(tuning=_delta())


def _saved(tmp_path: Path, photo: Path) -> Path:
    return save_project(_tuned(photo), tmp_path / "tuned.lsproj")


def _forge(path: Path, arrays: dict[str, np.ndarray | None] | None = None, manifest: dict | None = None) -> None:
    """Rewrite a saved project with some arrays replaced (or removed: None) and some manifest keys replaced."""
    with zipfile.ZipFile(path) as zf:
        stored = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
    for key, array in (arrays or {}).items():
        if array is None:
            stored.pop(key)
        else:
            stored[key] = array
    changed = _manifest(path) | (manifest or {})
    _rewrite(path, {"arrays.npz": _npz(**stored), "project.json": json.dumps(changed).encode()})


def _tuning_entry(path: Path, **changes: object) -> dict:
    return {"tuning": _manifest(path)["tuning"] | changes}


# ---- round trip ----------------------------------------------------------------------------------------------


def test_tuning_round_trips_bit_exact(tmp_path: Path, photo_file: Path) -> None:
    doc = _tuned(photo_file)
    path = save_project(doc, tmp_path / "tuned.lsproj")
    loaded, _ = load_project(path)
    _assert_same(doc, loaded)
    a, b = doc.tuning, loaded.tuning
    assert list(b.delta) == list(SHAPES)  # the order of the parameters is kept
    for name in SHAPES:
        x, y = a.delta[name], b.delta[name]
        assert y.dtype == np.float32 and y.shape == x.shape and y.tobytes() == x.tobytes(), name
        assert not y.flags.writeable
    assert (b.base_model_id, b.info, b.digest, b.tuned_model_id) == (a.base_model_id, INFO, a.digest, a.tuned_model_id)
    manifest = _manifest(path)
    assert manifest["schema_version"] == CURRENT_SCHEMA == 5
    assert manifest["tuning"] == {"base_model_id": MODEL, "info": INFO, "parameters": list(SHAPES)}
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(io.BytesIO(zf.read("arrays.npz"))) as npz:
        assert {f"tune_{i}.npy" for i in range(len(SHAPES))} <= set(npz.namelist())


def test_untuned_project_stores_null_and_no_tune_arrays(tmp_path: Path, photo_file: Path) -> None:
    path = save_project(_document(photo_file), tmp_path / "plain.lsproj")
    assert _manifest(path)["tuning"] is None
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(io.BytesIO(zf.read("arrays.npz"))) as npz:
        assert not [name for name in npz.namelist() if name.startswith("tune_")]
    assert load_project(path)[0].tuning is None


def test_an_empty_tuning_round_trips(tmp_path: Path, photo_file: Path) -> None:
    """Tuning that changed no weight (all deltas zero are left out) is still a tuning, with no parameters."""
    doc = _document(photo_file).with_changes(tuning=WeightDelta(MODEL, {}, {"steps": 0}))
    loaded, _ = load_project(save_project(doc, tmp_path / "empty.lsproj"))
    assert loaded.tuning.delta == {} and loaded.tuning.digest == doc.tuning.digest


def test_schema_1_project_opens_without_tuning(tmp_path: Path, photo_file: Path) -> None:
    """A project as schema 1 wrote it: no "tuning" key (and so no tune arrays)."""
    doc = _document(photo_file)
    path = save_project(doc, tmp_path / "old.lsproj")
    manifest = _manifest(path)
    del manifest["tuning"]
    manifest["schema_version"] = 1
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    loaded, _ = load_project(path)
    assert loaded.tuning is None
    _assert_same(doc, loaded)
    resaved = _manifest(save_project(loaded, tmp_path / "resaved.lsproj"))  # saving upgrades it
    assert resaved["schema_version"] == CURRENT_SCHEMA and resaved["tuning"] is None


# ---- refusals when loading --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("array", "match"), [
    (np.zeros(8, dtype=np.float64), "float64 of shape"),  # wrong dtype
    (np.zeros(8, dtype=np.float16), "float16 of shape"),
    (np.zeros((1, 1, 1, 1, 8), dtype=np.float32), r"shape \(1, 1, 1, 1, 8\)"),  # 5 dims
    (np.array(1.0, dtype=np.float32), r"shape \(\)"),  # 0 dims
    (np.zeros((0, 8), dtype=np.float32), r"shape \(0, 8\)"),  # empty
])
def test_forged_tune_array_is_refused(tmp_path: Path, photo_file: Path, array: np.ndarray, match: str) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, {"tune_0": array})
    with pytest.raises(InvalidInputError, match=rf"array 'tune_0 \(tuned weight 'mapping\.fc0\.bias'\)' is .*{match}"):
        load_project(path)


def test_tune_array_of_another_shape_than_the_document_can_hold_is_refused(tmp_path: Path, photo_file: Path,
                                                                          monkeypatch) -> None:
    path = _saved(tmp_path, photo_file)
    monkeypatch.setattr(tuned_weights, "MAX_VALUES", 100)  # conv0.weight has 108 values
    with pytest.raises(InvalidInputError, match=r"tune_3 \(tuned weight 'conv0\.weight'\)' is float32 of shape"):
        load_project(path)


def test_total_size_is_refused_from_the_headers_before_reading_data(tmp_path: Path, photo_file: Path,
                                                                   monkeypatch) -> None:
    path = _saved(tmp_path, photo_file)
    monkeypatch.setattr(tuned_weights, "MAX_TOTAL_VALUES", 150)  # each array fits, all four (164 values) do not
    read = []
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: read.append(a))
    with pytest.raises(InvalidInputError, match="tuned weights hold 164 values, more than the 150"):
        load_project(path)
    assert read == []


def test_listed_parameter_without_its_array_is_refused(tmp_path: Path, photo_file: Path) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, {"tune_2": None, "tune_3": None})
    with pytest.raises(InvalidInputError, match=r"arrays\.npz lacks tune_2\.npy, the delta of the tuned weight "
                                                r"'style\.affine'; 2 of the 4 listed tuned weights are missing"):
        load_project(path)


def test_manifest_listing_more_parameters_than_arrays_is_refused(tmp_path: Path, photo_file: Path) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, manifest=_tuning_entry(path, parameters=[*SHAPES, "extra.weight"]))
    with pytest.raises(InvalidInputError, match=r"lacks tune_4\.npy, the delta of the tuned weight 'extra\.weight'"):
        load_project(path)


def test_tune_arrays_not_listed_are_refused(tmp_path: Path, photo_file: Path) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, manifest={"tuning": None})
    with pytest.raises(InvalidInputError, match=r"unexpected members: tune_0\.npy"):
        load_project(path)


@pytest.mark.parametrize(("entry", "match"), [
    ({"parameters": ["a", "a", "b", "c"]}, "listed twice"),
    ({"parameters": ["a", "", "b", "c"]}, "not text of 1 to 200 characters"),
    ({"parameters": ["a", "x" * 201, "b", "c"]}, "not text of 1 to 200 characters"),
    ({"parameters": ["a", 7, "b", "c"]}, "name 7 is not text"),
    ({"parameters": "a,b"}, "parameters: list of names"),
    ({"info": [1, 2]}, "info: object"),
    ({"base_model_id": None}, "base_model_id: text"),
])
def test_malformed_tuning_entry_is_refused(tmp_path: Path, photo_file: Path, entry: dict, match: str) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, manifest=_tuning_entry(path, **entry))
    with pytest.raises(InvalidInputError, match=rf"the tuning in project\.json is not valid: .*{match}"):
        load_project(path)


def test_too_many_parameters_are_refused(tmp_path: Path, photo_file: Path, monkeypatch) -> None:
    path = _saved(tmp_path, photo_file)
    monkeypatch.setattr(tuned_weights, "MAX_PARAMETERS", 3)
    with pytest.raises(InvalidInputError, match="tunes 4 parameters, more than the 3"):
        load_project(path)
    with pytest.raises(InvalidInputError, match="Cannot save the project's tuned weights: it tunes 4 parameters"):
        save_project(_tuned(photo_file), tmp_path / "big.lsproj")  # saving refuses what loading would
    assert not (tmp_path / "big.lsproj").exists()


def test_schema_2_manifest_without_tuning_key_is_refused(tmp_path: Path, photo_file: Path) -> None:
    path = _saved(tmp_path, photo_file)
    manifest = _manifest(path)
    del manifest["tuning"]
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    with pytest.raises(InvalidInputError, match=r"'tuning' in project\.json is missing"):
        load_project(path)


def test_tuning_for_another_model_or_with_nan_in_a_file_is_refused(tmp_path: Path, photo_file: Path) -> None:
    path = _saved(tmp_path, photo_file)
    _forge(path, manifest=_tuning_entry(path, base_model_id="stylegan2_ffhq-00000000"))
    with pytest.raises(InvalidInputError, match=r"made for the model 'stylegan2_ffhq-00000000'.*'dcgan_digiface"):
        load_project(path)
    path = _saved(tmp_path, photo_file)
    _forge(path, {"tune_1": np.full((3, 8), np.nan, dtype=np.float32)})
    with pytest.raises(InvalidInputError, match=r"could not be opened: .*'torgb\.weight' contains NaN"):
        load_project(path)


# ---- the document ------------------------------------------------------------------------------------------------


def test_document_refuses_a_tuning_for_another_model() -> None:
    base = Document(Path("x.png"), "0" * 64, CROP, model_id=MODEL, latents=np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="made for the model 'other-model', but the document's model is"):
        base.with_changes(tuning=_delta("other-model"))
    with pytest.raises(InvalidInputError, match="document's model is 'none'"):
        base.with_changes(model_id="", tuning=_delta())
    with pytest.raises(InvalidInputError, match="no latent"):
        base.with_changes(latents=None, tuning=_delta())
    with pytest.raises(InvalidInputError, match="must be a WeightDelta"):
        base.with_changes(tuning={"conv.weight": np.zeros(3, dtype=np.float32)})


@pytest.mark.parametrize(("delta", "match"), [
    ({"w": np.zeros(3, dtype=np.float64)}, "must be a float32 array"),
    ({"w": [0.0, 1.0]}, "must be a float32 array"),
    ({"w": np.zeros((1, 1, 1, 1, 2), dtype=np.float32)}, "expected 1 or 2 or 3 or 4"),
    ({"w": np.array(2.0, dtype=np.float32)}, "expected 1 or 2 or 3 or 4"),
    ({"w": np.float32(2.0)}, "got float32, not an array"),
    ({"w": np.array([1.0, np.inf], dtype=np.float32)}, "NaN or infinite"),
    ({"": np.zeros(3, dtype=np.float32)}, "non-empty text"),
    ({3: np.zeros(3, dtype=np.float32)}, "non-empty text"),
])
def test_document_refuses_a_malformed_tuning(delta: dict, match: str) -> None:
    base = Document(Path("x.png"), "0" * 64, CROP, model_id=MODEL, latents=np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(InvalidInputError, match=match):
        base.with_changes(tuning=WeightDelta(MODEL, delta, {}))


def test_document_refuses_info_that_is_not_json() -> None:
    base = Document(Path("x.png"), "0" * 64, CROP, model_id=MODEL, latents=np.zeros((1, 4), dtype=np.float32))
    for info in ({"loss": float("nan")}, {"loss": np.float32(1.0)}):
        with pytest.raises(InvalidInputError, match="not plain JSON"):
            base.with_changes(tuning=WeightDelta(MODEL, {}, info))


def test_document_keeps_read_only_copies_of_the_tuning() -> None:
    delta = _delta()
    doc = Document(Path("x.png"), "0" * 64, CROP, model_id=MODEL, latents=np.zeros((1, 4), dtype=np.float32),
                   tuning=delta)
    before = doc.tuning.digest
    delta.delta["torgb.weight"][0, 0] = 99.0
    delta.delta["new.weight"] = np.ones(2, dtype=np.float32)
    delta.info["steps"] = 1000
    assert doc.tuning.digest == before and doc.tuning.info["steps"] == 5 and "new.weight" not in doc.tuning.delta
    assert all(not a.flags.writeable for a in doc.tuning.delta.values())
    again = doc.with_changes(feather=0.2).tuning
    assert all(again.delta[n] is doc.tuning.delta[n] for n in SHAPES)  # already frozen: not copied again


def test_with_result_adopts_the_results_tuning(photo_file: Path) -> None:
    config = InversionConfig(steps=5, starts=1)
    images = np.zeros((1, 64, 64, 3), dtype=np.uint8)

    def result(tuning: WeightDelta | None) -> InversionResult:
        return InversionResult(latents=np.ones((1, 100), dtype=np.float32), losses=np.array([0.2]), images=images,
                               history=[], config=config, model_id=MODEL, space="w", steps_done=5, cancelled=False,
                               seconds=0.1, tuning=tuning)

    doc = _document(photo_file).with_result(result(_delta()))
    assert doc.tuning.digest == _delta().digest
    assert doc.with_result(result(None)).tuning is None  # a new untuned inversion drops the old tuning


def test_a_real_models_tuning_reopens_to_the_same_images(tmp_path: Path, photo_file: Path, G) -> None:
    """Every parameter of the embedded model nudged: the reopened delta gives bit-identical images."""
    import torch

    from core.generators.tuning import tuned_copy, weight_delta

    tuned = tuned_copy(G)
    with torch.no_grad():
        for i, param in enumerate(tuned.net.parameters()):
            param.add_(torch.randn(param.shape, generator=torch.Generator().manual_seed(i)) * 1e-3)
    delta = weight_delta(G, tuned, {"steps": 1})
    doc = _document(photo_file).with_changes(model_id=G.model_id, tuning=delta)
    loaded, _ = load_project(save_project(doc, tmp_path / "real.lsproj"))
    assert loaded.tuning.tuned_model_id == delta.tuned_model_id
    latent = G.sample_latent(2, 7)
    with torch.no_grad():
        assert torch.equal(tuned_copy(G, loaded.tuning).synthesize(latent), tuned_copy(G, delta).synthesize(latent))
