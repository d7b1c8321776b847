"""Projects in the battery: damaged, truncated and hostile ``.lsproj`` files, and edits of every odd kind.

A bad project must be refused by ``load_project`` with one typed error (``core.errors``) naming the file, the file
byte for byte unchanged, nothing written anywhere (the user data folder included) and nothing executed. A good
project whose edits the direction library would refuse (long names, scale 0, zero or unnormalised vectors, names
of library directions) must reopen exactly: open → save → open gives the same edits with their own vectors.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.directions import Direction, DirectionLibrary
from core.errors import CoreError
from core.imageio import CropBox
from core.resources import resources_dir
from core.sessions import Document, EditedDirection, load_project, save_project
from tests.battery.conftest import digest

SAMPLE = resources_dir() / "samples" / "astronaut.png"
DIM = 100  # the default model's z
RNG = np.random.default_rng(21)
UNIT = (lambda v: (v / np.linalg.norm(v)).astype(np.float32))(RNG.standard_normal(DIM))


class Hostile:
    """A pickle that would create the canary file if anything ever unpickled it."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def edit(name: str = "smile", vector: np.ndarray | None = None, **fields) -> EditedDirection:
    values = {"scale": 1.0, "alpha": 1.5, "layers": None, "method": "pca"} | fields
    return EditedDirection(name, UNIT if vector is None else vector, values["scale"], values["alpha"],
                           values["layers"], values["method"])


def document(folder: Path, edits: tuple[EditedDirection, ...] = (), embed: bool = True) -> Document:
    """A real document: the sample photo (embedded or beside the project), a mask, a latent, an image, ``edits``."""
    photo = folder / "photo.png"
    if not photo.exists():
        shutil.copyfile(SAMPLE, photo)
    mask = np.zeros((512, 512), np.uint8)
    mask[10:40, 10:40] = 255
    latents = RNG.standard_normal((2, DIM)).astype(np.float32)
    image = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return Document.for_photo(photo, CropBox(150, 40, 200), embed=embed, mask=mask, latents=latents,
                              image=image, edited_image=image, edits=edits, model_id="dcgan-digiface@test",
                              space="z", best_index=1)


def project_bytes(folder: Path, edits: tuple[EditedDirection, ...] = (edit(),)) -> bytes:
    path = save_project(document(folder, edits), folder / "ref.lsproj")
    data = path.read_bytes()
    path.unlink()
    return data


# -- damaging a project ------------------------------------------------------------------------------------------
Members = dict[str, bytes]


def rewrite(project: bytes, change: Callable[[Members], Members]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(project)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in change(members).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def manifest(change: Callable[[dict], object]) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        data = json.loads(members["project.json"])
        change(data)
        return members | {"project.json": json.dumps(data).encode()}

    return apply


def raw_manifest(change: Callable[[str], str]) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        text = members["project.json"].decode()
        changed = change(text)
        assert changed != text, "the damage did not apply"
        return members | {"project.json": changed.encode()}

    return apply


def arrays(change: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]], pickled: bool = False):
    def apply(members: Members) -> Members:
        with np.load(io.BytesIO(members["arrays.npz"])) as npz:
            found = {key: npz[key] for key in npz.files}
        buffer = io.BytesIO()
        np.savez(buffer, **change(found), allow_pickle=pickled)
        return members | {"arrays.npz": buffer.getvalue()}

    return apply


def npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A .npy file whose header claims ``shape`` but which holds only 16 bytes of data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 16


def npz_member(key: str, data: bytes) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        with zipfile.ZipFile(io.BytesIO(members["arrays.npz"])) as zf:
            inner = {name: zf.read(name) for name in zf.namelist()}
        inner[f"{key}.npy"] = data
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, body in inner.items():
                zf.writestr(name, body)
        return members | {"arrays.npz": buffer.getvalue()}

    return apply


def setter(*keys: str | int, value: object) -> Callable[[dict], None]:
    """Set ``data[k1][k2]…`` to ``value``."""
    def change(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def raw_members(entries: list[tuple[str, bytes]]) -> Callable[[bytes], bytes]:
    """A zip written member by member (names a zipfile would otherwise refuse to repeat)."""
    def build(project: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(project)) as zf:
            members = [(name, zf.read(name)) for name in zf.namelist()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, data in members + entries:
                info = zipfile.ZipInfo(name)
                zf.writestr(info, data)
        return buffer.getvalue()

    return build


HUGE_INT = 10**400  # json writes it as digits; float() of it overflows
Damage = Callable[[bytes, Path], bytes]


def on_zip(change: Callable[[Members], Members]) -> Damage:
    return lambda project, canary: rewrite(project, change)


DAMAGED: dict[str, dict[str, Damage]] = {
    "container": {
        "empty-file": lambda p, c: b"",
        "truncated-half": lambda p, c: p[: len(p) // 2],
        "truncated-end": lambda p, c: p[:-10],
        "garbage": lambda p, c: bytes(RNG.integers(0, 256, 4096, dtype=np.uint8)),
        "json-not-zip": lambda p, c: b'{"format": "landscape-studio-project"}',
        "no-manifest": on_zip(lambda m: {k: v for k, v in m.items() if k != "project.json"}),
        "no-arrays": on_zip(lambda m: {k: v for k, v in m.items() if k != "arrays.npz"}),
        "no-photo-member": on_zip(lambda m: {k: v for k, v in m.items() if not k.startswith("photo.")}),
        "extra-member": on_zip(lambda m: m | {"notes.txt": b"hello"}),
        "path-traversal-member": on_zip(lambda m: m | {"../evil.txt": b"x"}),
        "absolute-member": on_zip(lambda m: m | {"/tmp/evil.txt": b"x"}),
        "backslash-member": on_zip(lambda m: m | {"..\\evil.txt": b"x"}),
        "duplicate-member": lambda p, c: raw_members([("project.json", b"{}")])(p),
        "oversized-manifest": on_zip(lambda m: m | {"project.json": b" " * (17 << 20) + m["project.json"]}),
        "arrays-not-zip": on_zip(lambda m: m | {"arrays.npz": b"not an npz at all"}),
        "embedded-photo-changed": on_zip(lambda m: {k: (v[:-100] + b"\0" * 100 if k.startswith("photo.") else v)
                                                    for k, v in m.items()}),
    },
    "json": {
        "bad-json": on_zip(lambda m: m | {"project.json": b"{not json"}),
        "truncated-json": on_zip(lambda m: m | {"project.json": m["project.json"][:-40]}),
        "not-utf8": on_zip(lambda m: m | {"project.json": b'{"format": "\xff\xfe"}'}),
        "json-list": on_zip(lambda m: m | {"project.json": b"[1, 2, 3]"}),
        "nested-100k": on_zip(lambda m: m | {"project.json": ('{"format": "landscape-studio-project", "x": '
                                                               + nested(100_000) + "}").encode()}),
        "nested-inversion-900": on_zip(manifest(setter("inversion", value=nested_object(900)))),
        "nested-tuning-info-900": on_zip(manifest(setter("tuning", value={"base_model_id": "dcgan-digiface@test",
                                                                          "info": nested_object(900),
                                                                          "parameters": []}))),
        "bare-nan-feather": on_zip(raw_manifest(lambda t: t.replace('"feather": 0.08', '"feather": NaN'))),
        "infinity-feather": on_zip(raw_manifest(lambda t: t.replace('"feather": 0.08', '"feather": 1e999'))),
        "huge-int-feather": on_zip(manifest(setter("feather", value=HUGE_INT))),
        "huge-best-index": on_zip(manifest(setter("best_index", value=HUGE_INT))),
        "bool-best-index": on_zip(manifest(setter("best_index", value=True))),
        "crop-strings": on_zip(manifest(setter("crop", value={"x": "1", "y": "2", "size": "3"}))),
        "crop-huge": on_zip(manifest(setter("crop", value={"x": 0, "y": 0, "size": HUGE_INT}))),
        "inversion-huge-lr": on_zip(manifest(setter("inversion", value={"lr": HUGE_INT}))),
        "inversion-unknown": on_zip(manifest(setter("inversion", value={"steps": "many", "rm -rf": 1}))),
        "alignment-number": on_zip(manifest(setter("alignment", value=5))),
        "alignment-bad-version": on_zip(manifest(setter("alignment", value={
            "matrix": [[1, 0, 0], [0, 1, 0]], "points": [[0, 0]], "resolution": 64, "face_index": 0,
            "schema_version": "new"}))),
        "tuning-not-dict": on_zip(manifest(setter("tuning", value=[1, 2]))),
        "fills-not-list": on_zip(manifest(setter("fills", value={"a": 1}))),
        "composite-unknown": on_zip(manifest(setter("composite", value="multiply"))),
        "photo-not-dict": on_zip(manifest(setter("photo", value="photo.png"))),
        "photo-sha-missing": on_zip(manifest(lambda d: d["photo"].pop("sha256"))),
        "arrays-unknown": on_zip(manifest(setter("arrays", value=["latents", "../../etc/passwd"]))),
    },
    "schema": {
        "missing-version": on_zip(manifest(lambda d: d.pop("schema_version"))),
        "version-text": on_zip(manifest(setter("schema_version", value="5"))),
        "version-negative": on_zip(manifest(setter("schema_version", value=-1))),
        "version-huge": on_zip(manifest(setter("schema_version", value=HUGE_INT))),
        "future-version": on_zip(manifest(setter("schema_version", value=99))),
        "wrong-format": on_zip(manifest(setter("format", value="someone-else"))),
        "missing-edits": on_zip(manifest(lambda d: d.pop("edits"))),
        "missing-crop": on_zip(manifest(lambda d: d.pop("crop"))),
    },
    "edits": {
        "edits-dict": on_zip(manifest(setter("edits", value={"smile": 1}))),
        "edit-name-number": on_zip(manifest(setter("edits", 0, "name", value=123))),
        "edit-name-empty": on_zip(manifest(setter("edits", 0, "name", value="  "))),
        "edit-scale-text": on_zip(manifest(setter("edits", 0, "scale", value="big"))),
        "edit-scale-huge-int": on_zip(manifest(setter("edits", 0, "scale", value=HUGE_INT))),
        "edit-alpha-nan": on_zip(raw_manifest(lambda t: t.replace('"alpha": 1.5', '"alpha": NaN'))),
        "edit-layers-reversed": on_zip(manifest(setter("edits", 0, "layers", value=[5, 2]))),
        "edit-layers-huge": on_zip(manifest(setter("edits", 0, "layers", value=[0, HUGE_INT]))),
        "edit-method-null": on_zip(manifest(setter("edits", 0, "method", value=None))),
        "edit-duplicate-name": on_zip(lambda m: arrays(lambda a: a | {"edit_1": -a["edit_0"]})(
            manifest(lambda d: d["edits"].append(dict(d["edits"][0])))(m))),
        "edit-vector-missing": on_zip(arrays(lambda a: {k: v for k, v in a.items() if k != "edit_0"})),
        "edit-vector-nan": on_zip(arrays(lambda a: a | {"edit_0": np.full(DIM, np.nan, np.float32)})),
        "edit-vector-wrong-length": on_zip(arrays(lambda a: a | {"edit_0": UNIT[:50].copy()})),
        "edit-vector-2d": on_zip(arrays(lambda a: a | {"edit_0": UNIT[None].copy()})),
        "edit-vector-int": on_zip(arrays(lambda a: a | {"edit_0": np.ones(DIM, np.int64)})),
        "edit-vector-float64": on_zip(arrays(lambda a: a | {"edit_0": UNIT.astype(np.float64)})),
    },
    "arrays": {
        "pickled-edit-vector": lambda p, c: rewrite(p, arrays(
            lambda a: a | {"edit_0": np.array([Hostile(c)], dtype=object)}, pickled=True)),
        "pickled-latents": lambda p, c: rewrite(p, arrays(
            lambda a: a | {"latents": np.array([Hostile(c)], dtype=object)}, pickled=True)),
        "latents-huge-header": on_zip(npz_member("latents", npy_header((1, 1 << 40)))),
        "edit-huge-header": on_zip(npz_member("edit_0", npy_header((1 << 40,)))),
        "image-huge-header": on_zip(npz_member("image", npy_header((1 << 20, 1 << 20, 3), "|u1"))),
        "mask-huge-header": on_zip(npz_member("mask", npy_header((1 << 30, 1 << 30), "|u1"))),
        "latents-truncated": on_zip(npz_member("latents", npy_header((2, DIM)))),
        "latents-nan": on_zip(arrays(lambda a: a | {"latents": np.full((2, DIM), np.nan, np.float32)})),
        "mask-wrong-size": on_zip(arrays(lambda a: a | {"mask": np.zeros((7, 9), np.uint8)})),
        "image-not-square": on_zip(arrays(lambda a: a | {"image": np.zeros((64, 32, 3), np.uint8)})),
    },
}
DAMAGE_CASES = [pytest.param(kind, name, id=f"{kind}-{name}") for kind, cases in DAMAGED.items() for name in cases]


def assert_refused(path: Path, before: dict[str, str], watched: list[Path]) -> CoreError:
    with pytest.raises(CoreError) as caught:
        load_project(path)
    message = str(caught.value)
    assert path.name in message or "project" in message.lower(), message
    assert "Traceback" not in message and len(message) < 2000
    assert digest(watched) == before, "opening a bad project changed files"
    return caught.value


@pytest.mark.parametrize(("kind", "name"), DAMAGE_CASES)
def test_a_damaged_project_is_refused_with_a_typed_error(kind, name, tmp_path, user_data, canary):
    data = DAMAGED[kind][name](project_bytes(tmp_path), canary)
    path = tmp_path / f"{name}.lsproj"
    path.write_bytes(data)
    watched = [tmp_path, user_data]
    assert_refused(path, digest(watched), watched)


# -- files that are not what they claim ------------------------------------------------------------------------
def _symlink_to_folder(tmp_path: Path) -> Path:
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.lsproj").symlink_to(tmp_path / "folder")
    return tmp_path / "link.lsproj"


def _symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "a.lsproj").symlink_to(tmp_path / "b.lsproj")
    (tmp_path / "b.lsproj").symlink_to(tmp_path / "a.lsproj")
    return tmp_path / "a.lsproj"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "dir.lsproj").mkdir()
    return tmp_path / "dir.lsproj"


def _photo_swapped_through_symlink(tmp_path: Path) -> Path:
    """A referenced photo replaced by a symlink to another image: the checksum must refuse it."""
    project = save_project(document(tmp_path, (edit(),), embed=False), tmp_path / "ref.lsproj")
    (tmp_path / "photo.png").unlink()
    (tmp_path / "photo.png").symlink_to(resources_dir() / "samples" / "grace_hopper.jpg")
    return project


def _photo_path_traversal(tmp_path: Path) -> Path:
    """A referenced photo whose paths point elsewhere (``../../etc/passwd``): refused by checksum, never read as
    anything but bytes to hash."""
    project = save_project(document(tmp_path, (edit(),), embed=False), tmp_path / "ref.lsproj")
    (tmp_path / "photo.png").unlink()
    data = rewrite(project.read_bytes(), manifest(lambda d: d["photo"].update(
        relative_path="../../../../../../etc/passwd", path="/etc/passwd")))
    project.write_bytes(data)
    return project


SPECIAL: dict[str, Callable[[Path], Path]] = {
    "missing-file": lambda tmp: tmp / "nowhere.lsproj",
    "a-folder": _folder,
    "symlink-to-folder": _symlink_to_folder,
    "symlink-loop": _symlink_loop,
    "photo-swapped-by-symlink": _photo_swapped_through_symlink,
    "photo-path-traversal": _photo_path_traversal,
}


@pytest.mark.parametrize("name", list(SPECIAL))
def test_a_project_path_that_is_not_a_project_is_refused(name, tmp_path, user_data, canary):
    path = SPECIAL[name](tmp_path)
    watched = [tmp_path, user_data]
    assert_refused(path, digest(watched), watched)


# -- odd edits round-trip exactly -------------------------------------------------------------------------------
ODD_EDITS: dict[str, tuple[EditedDirection, ...]] = {
    "name-300-chars": (edit("s" * 300),),
    "name-with-newline-and-spaces": (edit("  two\nlines  "),),
    "name-unicode": (edit("笑顔 😀 ä"),),
    "scale-zero": (edit(scale=0.0),),
    "scale-negative": (edit(scale=-2.5),),
    "scale-tiny": (edit(scale=1e-300),),
    "zero-vector": (edit(vector=np.zeros(DIM, np.float32)),),
    "not-unit-vector": (edit(vector=(UNIT * 7.0).astype(np.float32)),),
    "subnormal-vector": (edit(vector=np.full(DIM, 1e-42, np.float32)),),
    "alpha-zero": (edit(alpha=0.0),),
    "alpha-huge": (edit(alpha=1e6),),
    "library-name-own-vector": (edit("smile", vector=-UNIT), edit("age", vector=UNIT[::-1].copy(), scale=3.0)),
    "method-empty": (edit(method=""),),
    "method-odd": (edit(method="hand-made ✎"),),
}


def assert_same_edits(got: tuple[EditedDirection, ...], want: tuple[EditedDirection, ...]) -> None:
    assert [e.name for e in got] == [e.name for e in want]
    for a, b in zip(got, want, strict=True):
        assert a.vector.dtype == np.float32 and a.vector.tobytes() == b.vector.tobytes(), a.name
        assert (a.scale, a.alpha, a.layers, a.method) == (b.scale, b.alpha, b.layers, b.method), a.name


def _user_library(user_data: Path) -> Path:
    """A user library for the default model whose "smile" and "age" differ from every project's."""
    folder = user_data / "directions" / "default"
    other = (lambda v: v / np.linalg.norm(v))(RNG.standard_normal(DIM))
    DirectionLibrary([Direction("smile", other, "z", "dcgan-digiface@test", "pca", scale=0.5),
                      Direction("age", -other, "z", "dcgan-digiface@test", "pca")]).save(folder)
    return folder


@pytest.mark.parametrize("name", list(ODD_EDITS))
def test_odd_edits_round_trip_exactly_and_opening_writes_nothing(name, tmp_path, user_data, canary):
    _user_library(user_data)
    edits = ODD_EDITS[name]
    first = save_project(document(tmp_path, edits), tmp_path / "first.lsproj")
    watched = [tmp_path, user_data]
    before = digest(watched)
    doc, _ = load_project(first)
    assert digest(watched) == before, "opening a project wrote files"
    assert_same_edits(doc.edits, edits)
    second = save_project(doc, tmp_path / "second.lsproj")
    again, _ = load_project(second)
    assert_same_edits(again.edits, edits)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.read("arrays.npz") == b.read("arrays.npz")
        assert json.loads(a.read("project.json"))["edits"] == json.loads(b.read("project.json"))["edits"]


@pytest.mark.parametrize("embed", [True, False], ids=["embedded", "referenced"])
def test_opening_a_project_never_writes_outside_it(embed, tmp_path, user_data, canary):
    _user_library(user_data)
    project = save_project(document(tmp_path, ODD_EDITS["library-name-own-vector"], embed=embed),
                           tmp_path / "p.lsproj")
    watched = [tmp_path, user_data]
    before = digest(watched)
    listing = sorted(p.name for p in tmp_path.rglob("*")) + sorted(p.name for p in user_data.rglob("*"))
    load_project(project)
    assert digest(watched) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) + sorted(p.name for p in user_data.rglob("*")) == listing
