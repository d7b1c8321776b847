"""core.sessions: the document, the .lsproj project file (bit-exact round trip, atomic save, refusals), migrations."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.alignment import Alignment
from core.errors import ImageSaveError, InvalidInputError
from core.imageio import CropBox, load_photo
from core.inversion import InversionConfig, InversionResult
from core.sessions import (
    CURRENT_SCHEMA,
    Document,
    EditedDirection,
    load_project,
    migrate,
    save_project,
    store,
)
from core.sessions import migrations as migrations_module

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "astronaut.png"
CROP = CropBox(150, 40, 200)
SCALARS = ("photo_path", "photo_sha256", "crop", "model_id", "space", "embedded_photo", "inversion", "best_index",
           "feather", "created", "app_version")
ARRAYS = ("mask", "latents", "image", "edited_image")


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    target = tmp_path / "astronaut.png"
    shutil.copyfile(SAMPLE, target)
    return target


def _direction(name: str, seed: int, dim: int = 100, layers: tuple[int, int] | None = None) -> EditedDirection:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return EditedDirection(name, vector, scale=0.7 + seed, alpha=-1.25 * seed, layers=layers, method="pca")


def _document(photo: Path, embed: bool = False) -> Document:
    """A document as the editor would have it after an inversion with K=3 starts and two edits."""
    rng = np.random.default_rng(0)
    pixels = load_photo(photo).pixels
    mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
    mask[60:120, 200:260] = 255
    mask[70, 210] = 37  # a soft brush value survives too
    config = InversionConfig(steps=50, starts=3, seed=4).with_changes(loss_lpips=0.0)
    return Document.for_photo(
        photo, CROP, embed=embed, model_id="dcgan_digiface-1234abcd", space="z", mask=mask,
        inversion=config.to_dict(), latents=rng.standard_normal((3, 100)).astype(np.float32), best_index=2,
        image=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
        edits=(_direction("smile", 1), _direction("age", 2)),
        edited_image=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), feather=0.12,
    )


def _assert_same(a: Document, b: Document) -> None:
    for name in SCALARS:
        assert getattr(a, name) == getattr(b, name), name
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert len(a.edits) == len(b.edits)
    for e, f in zip(a.edits, b.edits, strict=True):
        assert (e.name, e.scale, e.alpha, e.layers, e.method) == (f.name, f.scale, f.alpha, f.layers, f.method)
        assert e.vector.dtype == f.vector.dtype == np.float32 and e.vector.tobytes() == f.vector.tobytes()


def _rewrite(path: Path, change: dict[str, bytes | None]) -> None:
    """Rebuild the project zip with some members replaced (bytes), removed (None) or added."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members.update(change)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            if data is not None:
                zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)


def _manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("project.json"))


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _saved(tmp_path: Path, photo_file: Path, embed: bool = False) -> tuple[Document, Path]:
    doc = _document(photo_file, embed)
    return doc, save_project(doc, tmp_path / "edit.lsproj")


# ---- round trip ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("embed", [False, True])
def test_round_trip_is_bit_exact(tmp_path: Path, photo_file: Path, embed: bool) -> None:
    doc, path = _saved(tmp_path, photo_file, embed)
    loaded, photo = load_project(path)
    _assert_same(doc, loaded)
    assert photo.pixels.tobytes() == load_photo(photo_file).pixels.tobytes()
    assert photo.source == photo_file.resolve()
    assert _manifest(path)["schema_version"] == CURRENT_SCHEMA


def test_embedded_photo_survives_the_original_being_deleted(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file, embed=True)
    original = load_photo(photo_file).pixels
    photo_file.unlink()
    loaded, photo = load_project(path)
    assert loaded.embedded_photo == SAMPLE.read_bytes()
    assert photo.pixels.tobytes() == original.tobytes()
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "photo.png", "project.json"]


def test_composite_after_reopening_is_byte_identical(tmp_path: Path, photo_file: Path) -> None:
    doc, path = _saved(tmp_path, photo_file)
    before = doc.composited(load_photo(photo_file).pixels)
    loaded, photo = load_project(path)
    after = loaded.composited(photo.pixels)
    assert after.tobytes() == before.tobytes()
    outside = np.ones(photo.pixels.shape[:2], dtype=bool)
    outside[CROP.y : CROP.y + CROP.size, CROP.x : CROP.x + CROP.size] = False
    assert np.array_equal(after[outside], photo.pixels[outside])
    assert not np.array_equal(after[~outside], photo.pixels[~outside])
    # the edited image is what is pasted; without it, the adopted reconstruction
    unedited = loaded.with_changes(edited_image=None).composited(photo.pixels)
    assert not np.array_equal(unedited, after)


def test_minimal_document_round_trips(tmp_path: Path, photo_file: Path) -> None:
    """A photo just opened: no mask, no inversion, no edits."""
    doc = Document.for_photo(photo_file, CropBox.centered(512, 512))
    loaded, photo = load_project(save_project(doc, tmp_path / "fresh.lsproj"))
    _assert_same(doc, loaded)
    assert loaded.composited(photo.pixels).tobytes() == photo.pixels.tobytes()


def test_project_folder_moved_with_its_photo_still_opens(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(path, moved / path.name)
    shutil.move(photo_file, moved / photo_file.name)
    loaded, _ = load_project(moved / path.name)
    assert loaded.photo_path == (moved / photo_file.name).resolve()


# ---- the document ----------------------------------------------------------------------------------------------


def test_edited_latent_adds_alpha_scale_vector() -> None:
    latents = np.random.default_rng(1).standard_normal((2, 100)).astype(np.float32)
    smile, age = _direction("smile", 1), _direction("age", 2)
    doc = Document(Path("x.png"), "0" * 64, CROP, latents=latents, best_index=1, edits=(smile, age))
    expected = latents[1] + np.float32(smile.alpha * smile.scale) * smile.vector
    expected += np.float32(age.alpha * age.scale) * age.vector
    assert doc.edited_latent().dtype == np.float32
    np.testing.assert_array_equal(doc.edited_latent(), expected)
    np.testing.assert_array_equal(doc.with_changes(edits=()).edited_latent(), latents[1])


def test_edited_latent_respects_the_layer_range() -> None:
    latents = np.zeros((1, 6, 8), dtype=np.float32)  # [K, num_ws, w_dim]
    edit = EditedDirection("pose", np.ones(8, dtype=np.float32), scale=2.0, alpha=0.5, layers=(1, 3))
    moved = Document(None, "0" * 64, CROP, embedded_photo=b"x", latents=latents, edits=(edit,)).edited_latent()
    assert moved[1:3].tolist() == [[1.0] * 8] * 2 and not moved[[0, 3, 4, 5]].any()
    with pytest.raises(InvalidInputError, match="layers"):
        Document(None, "0" * 64, CROP, embedded_photo=b"x", latents=latents, edits=(edit.with_changes(layers=(4, 7)),))


def test_with_result_adopts_an_inversion_and_clears_edits(tmp_path: Path, photo_file: Path) -> None:
    config = InversionConfig(steps=5, starts=2)
    images = np.random.default_rng(3).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    result = InversionResult(latents=np.ones((2, 100), dtype=np.float32), losses=np.array([0.5, 0.2]), images=images,
                             history=[], config=config, model_id="m-1", space="z", steps_done=5, cancelled=False,
                             seconds=0.1)
    doc = _document(photo_file).with_result(result)
    assert (doc.model_id, doc.space, doc.best_index, doc.edits, doc.edited_image) == ("m-1", "z", 1, (), None)
    assert doc.image.tobytes() == images[1].tobytes() and doc.inversion == config.to_dict()
    assert InversionConfig.from_dict(load_project(save_project(doc, tmp_path / "r.lsproj"))[0].inversion) == config


def test_document_refuses_inconsistent_state() -> None:
    base = Document(Path("x.png"), "0" * 64, CROP)
    with pytest.raises(InvalidInputError, match="uint8"):
        base.with_changes(image=np.zeros((64, 64, 3), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="best start"):
        base.with_changes(latents=np.zeros((2, 4), dtype=np.float32), best_index=2)
    with pytest.raises(InvalidInputError, match="dimensions"):
        base.with_changes(latents=np.zeros((1, 4), dtype=np.float32), edits=(_direction("smile", 1),))
    with pytest.raises(InvalidInputError, match="path or an embedded copy"):
        Document(None, "0" * 64, CROP)
    with pytest.raises(InvalidInputError, match="feather"):
        base.with_changes(feather=0.9)


def test_document_arrays_are_read_only_copies() -> None:
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    doc = Document(Path("x.png"), "0" * 64, CROP, image=image)
    image[0, 0, 0] = 9
    assert doc.image[0, 0, 0] == 0 and not doc.image.flags.writeable
    assert doc.with_changes(feather=0.1).image is doc.image  # already frozen: not copied again


# ---- atomic save -------------------------------------------------------------------------------------------------


def test_failed_save_keeps_the_previous_project(tmp_path: Path, photo_file: Path, monkeypatch) -> None:
    doc, path = _saved(tmp_path, photo_file)
    old = path.read_bytes()
    real_fdopen = os.fdopen

    class FullDisk:
        """A file whose disk fills up half-way through the write."""

        def __init__(self, f) -> None:
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.f.close()

        def write(self, data: bytes) -> int:
            self.f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    with pytest.raises(ImageSaveError, match="disk is full"):
        save_project(doc.with_changes(feather=0.3, edits=()), path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["astronaut.png", "edit.lsproj"]  # no temp file left
    _assert_same(doc, load_project(path)[0])


def test_save_refuses_wrong_suffix_missing_folder_and_changed_photo(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file)
    with pytest.raises(InvalidInputError, match=r"\.lsproj"):
        save_project(doc, tmp_path / "astronaut.png")  # would overwrite the photo itself
    with pytest.raises(ImageSaveError, match="does not exist"):
        save_project(doc, tmp_path / "missing" / "edit.lsproj")
    photo_file.write_bytes(photo_file.read_bytes() + b"\0")
    with pytest.raises(InvalidInputError, match="changed on disk"):
        save_project(doc, tmp_path / "edit.lsproj")
    assert not (tmp_path / "edit.lsproj").exists()


# ---- photo checks --------------------------------------------------------------------------------------------


def test_moved_photo_is_a_clear_error(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    photo_file.rename(tmp_path / "renamed.png")
    with pytest.raises(InvalidInputError, match=r"moved or edited since the project 'edit\.lsproj' was saved.*embed"):
        load_project(path)


def test_edited_photo_is_a_clear_error(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    photo_file.write_bytes(photo_file.read_bytes() + b"\0")  # still decodes, but is not the same file
    with pytest.raises(InvalidInputError, match="different contents"):
        load_project(path)


# ---- refusals ------------------------------------------------------------------------------------------------


def test_not_a_zip_or_truncated_is_refused(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match="not a valid Landscape Studio project"):
        load_project(path)
    path.write_bytes(b"hello, not a zip")
    with pytest.raises(InvalidInputError, match="zip data cannot be read"):
        load_project(path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_project(tmp_path / "nope.lsproj")


@pytest.mark.parametrize("member", ["arrays.npz", "project.json"])
def test_missing_member_is_refused(tmp_path: Path, photo_file: Path, member: str) -> None:
    _, path = _saved(tmp_path, photo_file)
    _rewrite(path, {member: None})
    with pytest.raises(InvalidInputError, match=f"lacks {member}"):
        load_project(path)


def test_missing_array_and_embedded_photo_are_refused(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file, embed=True)
    with zipfile.ZipFile(path) as zf:
        arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
    del arrays["latents"]
    _rewrite(path, {"arrays.npz": _npz(**arrays)})
    with pytest.raises(InvalidInputError, match=r"lacks latents\.npy"):
        load_project(path)
    _, path = _saved(tmp_path, photo_file, embed=True)
    _rewrite(path, {"photo.png": None})
    with pytest.raises(InvalidInputError, match=r"project lacks photo\.png"):
        load_project(path)


def test_newer_schema_is_refused(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    manifest = _manifest(path) | {"schema_version": CURRENT_SCHEMA + 1}
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    with pytest.raises(InvalidInputError, match="made by a newer Landscape Studio"):
        load_project(path)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil", "C:\\evil"])
def test_path_traversal_member_is_refused(tmp_path: Path, photo_file: Path, name: str) -> None:
    _, path = _saved(tmp_path, photo_file)
    _rewrite(path, {name: b"boo"})
    with pytest.raises(InvalidInputError, match="unsafe path"):
        load_project(path)


def test_pickle_inside_npz_is_refused(tmp_path: Path, photo_file: Path, monkeypatch) -> None:
    _, path = _saved(tmp_path, photo_file)
    with zipfile.ZipFile(path) as zf:
        arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
    arrays["latents"] = np.array([{"__reduce__": "os.system"}], dtype=object)  # np.savez pickles object arrays
    _rewrite(path, {"arrays.npz": _npz(**arrays)})
    unpickled = []
    monkeypatch.setattr("pickle.load", lambda *a, **k: unpickled.append(a))
    monkeypatch.setattr("pickle.loads", lambda *a, **k: unpickled.append(a))
    with pytest.raises(InvalidInputError, match="never loads pickles"):
        load_project(path)
    assert unpickled == []


@pytest.mark.parametrize(("key", "array"), [
    ("latents", np.zeros((300, 1), dtype=np.float32)),  # more starts than any run can have
    ("latents", np.zeros((3, 100), dtype=np.float64)),  # wrong dtype
    ("image", np.zeros((64, 32, 3), dtype=np.uint8)),  # not square
    ("mask", np.zeros((4, 4, 4), dtype=np.uint8)),
])
def test_absurd_arrays_are_refused(tmp_path: Path, photo_file: Path, key: str, array: np.ndarray) -> None:
    _, path = _saved(tmp_path, photo_file)
    with zipfile.ZipFile(path) as zf:
        arrays = dict(np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False))
    arrays[key] = array
    _rewrite(path, {"arrays.npz": _npz(**arrays)})
    with pytest.raises(InvalidInputError, match=f"array '{key}'"):
        load_project(path)


def test_mask_of_another_size_is_refused(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file).with_changes(mask=np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(InvalidInputError, match="mask is 10x10 but the photo is 512x512"):
        load_project(save_project(doc, tmp_path / "edit.lsproj"))


def test_decompression_bombs_are_refused(tmp_path: Path, photo_file: Path, monkeypatch) -> None:
    _, path = _saved(tmp_path, photo_file)
    monkeypatch.setattr(store, "MAX_UNPACKED_BYTES", 100_000)
    with pytest.raises(InvalidInputError, match="over the limit"):
        load_project(path)
    monkeypatch.undo()
    _rewrite(path, {"pad.bin": bytes(4 << 20)})  # 4 MiB of zeros deflate ~1000:1
    monkeypatch.setattr(store, "MAX_RATIO", 100)
    with pytest.raises(InvalidInputError, match="zip bomb"):
        load_project(path)
    monkeypatch.undo()
    with pytest.raises(InvalidInputError, match=r"unexpected members: pad\.bin"):
        load_project(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("bomb.bin", bytes(1 << 20), compress_type=zipfile.ZIP_BZIP2)
    with pytest.raises(InvalidInputError, match="unsupported way"):
        load_project(path)


def test_foreign_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.lsproj"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.json", json.dumps({"hello": 1}))
        zf.writestr("arrays.npz", _npz())
    with pytest.raises(InvalidInputError, match="does not describe a Landscape Studio project"):
        load_project(path)


# ---- migrations ----------------------------------------------------------------------------------------------


def test_schema_0_project_opens_with_no_edits(tmp_path: Path, photo_file: Path) -> None:
    doc, path = _saved(tmp_path, photo_file)
    doc = doc.with_changes(edits=(), edited_image=None)
    path = save_project(doc, path)
    manifest = _manifest(path)
    del manifest["edits"]
    manifest["schema_version"] = 0
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    loaded, _ = load_project(path)
    _assert_same(doc, loaded)


def test_migrate_chain_runs_each_step_once_and_does_not_modify_its_input(monkeypatch) -> None:
    old = {"format": store.FORMAT, "schema_version": 0, "crop": {"x": 0, "y": 0, "size": 1}}
    assert migrate(old) == {**old, "schema_version": CURRENT_SCHEMA, "edits": [], "tuning": None,
                            "alignment": None, "fills": [], "composite": "replace"}
    assert "edits" not in old
    # adding schema 6 is one function and one number
    def v5_to_v6(data: dict) -> dict:
        data["renamed"] = data.pop("crop")
        return data

    monkeypatch.setitem(migrations_module.MIGRATIONS, 5, v5_to_v6)
    monkeypatch.setattr(migrations_module, "CURRENT_SCHEMA", 6)
    assert migrate(old) == {"format": store.FORMAT, "schema_version": 6, "edits": [], "tuning": None,
                            "alignment": None, "fills": [], "composite": "replace", "renamed": old["crop"]}
    with pytest.raises(InvalidInputError, match="schema version"):
        migrate({"schema_version": "1"})


def test_an_inpainting_result_fills_only_its_mask_and_round_trips(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file)
    fill = np.zeros_like(doc.mask)
    fill[CROP.y + 10:CROP.y + 30, CROP.x + 10:CROP.x + 40] = 255
    doc = doc.with_changes(fill_mask=fill)
    path = save_project(doc, tmp_path / "fill.lsproj")
    loaded, photo = load_project(path)
    assert np.array_equal(loaded.fill_mask, fill)
    composed = loaded.composited(photo.pixels)
    assert np.array_equal(composed[fill == 0], photo.pixels[fill == 0])
    assert not np.array_equal(composed[fill > 0], photo.pixels[fill > 0])
    assert np.array_equal(composed, doc.composited(photo.pixels))


# ---- face alignment (schema 3) -------------------------------------------------------------------------------
def _alignment() -> Alignment:
    angle, scale = np.radians(15.0), 0.4
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return Alignment(((c, -s, 10.0), (s, c, -20.0)), 64, 1, ((100.0, 110.5), (150.0, 112.0), (125.0, 160.0)))


def test_an_alignment_round_trips_and_places_the_result_through_it(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file).with_changes(alignment=_alignment(), edits=(), edited_image=None,
                                              composite="replace")
    path = save_project(doc, tmp_path / "aligned.lsproj")
    assert _manifest(path)["alignment"] == doc.alignment.to_dict()
    loaded, photo = load_project(path)
    assert loaded.alignment == doc.alignment
    _assert_same(doc, loaded)
    placed = loaded.composited(photo.pixels)
    assert not np.array_equal(placed, photo.pixels)
    assert np.array_equal(placed[-5:, -5:], photo.pixels[-5:, -5:])  # far from the square: the photo's bytes


def test_a_project_without_alignment_stores_null(tmp_path: Path, photo_file: Path) -> None:
    _, path = _saved(tmp_path, photo_file)
    assert _manifest(path)["alignment"] is None
    assert load_project(path)[0].alignment is None


def test_schema_2_project_opens_with_the_manual_crop(tmp_path: Path, photo_file: Path) -> None:
    doc, path = _saved(tmp_path, photo_file)
    manifest = _manifest(path)
    del manifest["alignment"]
    manifest["schema_version"] = 2
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    loaded, _ = load_project(path)
    assert loaded.alignment is None
    _assert_same(doc, loaded)


def test_a_damaged_alignment_is_refused(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file).with_changes(alignment=_alignment())
    path = save_project(doc, tmp_path / "aligned.lsproj")
    manifest = _manifest(path)
    manifest["alignment"]["matrix"] = [[0, 0, 0], [0, 0, 0]]
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    with pytest.raises(InvalidInputError):
        load_project(path)


def test_the_composite_and_a_restorations_reference_round_trip(tmp_path: Path, photo_file: Path) -> None:
    doc = _document(photo_file)
    reference = np.full_like(doc.image, 77)
    for changed in (doc.with_changes(composite="replace"), doc.with_changes(reference=reference)):
        path = save_project(changed, tmp_path / f"{changed.composite}.lsproj")
        loaded, photo = load_project(path)
        assert loaded.composite == changed.composite and _manifest(path)["composite"] == changed.composite
        assert (loaded.reference is None) == (changed.reference is None)
        assert np.array_equal(loaded.composited(photo.pixels), changed.composited(photo.pixels))
    assert np.array_equal(doc.with_changes(edited_image=None).composited(load_photo(photo_file).pixels),
                          load_photo(photo_file).pixels)  # "detail", no edit: the photo as it was
    with pytest.raises(InvalidInputError, match="composite"):
        doc.with_changes(composite="blend")


def test_a_schema_4_project_reopens_as_it_was_saved_pasting_its_result(tmp_path: Path, photo_file: Path) -> None:
    doc, path = _saved(tmp_path, photo_file)
    manifest = _manifest(path)
    del manifest["composite"]
    manifest["schema_version"] = 4
    _rewrite(path, {"project.json": json.dumps(manifest).encode()})
    loaded, photo = load_project(path)
    assert loaded.composite == "replace"
    assert np.array_equal(loaded.composited(photo.pixels),
                          doc.with_changes(composite="replace").composited(photo.pixels))
