"""The user data folder in the battery: damaged direction libraries and framing records.

``DirectionLibrary.load`` refuses every damaged library with one typed error and reads nothing but JSON and plain
``.npy`` (no pickle ever runs); the editor's loader ``load_user_library`` never stops on one: the damaged library is
moved aside (``<name>.damaged-YYYYmmdd-HHMMSS``, its bytes intact), a message names the file, and the shipped
directions are used. A damaged cached framing record is moved aside the same way and measured again when needed.
Nothing is written when nothing is damaged.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.directions import Direction, DirectionLibrary, shipped_library_dir
from core.errors import CoreError
from tests.battery.conftest import digest

DIM = 100
RNG = np.random.default_rng(7)


class Hostile:
    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def library(folder: Path) -> Path:
    """A valid user library of two directions (``smile.npy``, ``age.npy``) in ``folder``."""
    vectors = [(lambda v: v / np.linalg.norm(v))(RNG.standard_normal(DIM)) for _ in range(2)]
    DirectionLibrary([Direction("smile", vectors[0], "z", "dcgan-digiface@test", "pca", scale=0.5),
                      Direction("age", vectors[1], "z", "dcgan-digiface@test", "sefa")]).save(folder)
    return folder


def edit_index(change: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    def apply(folder: Path, canary: Path) -> None:
        index = json.loads((folder / "library.json").read_text())
        change(index)
        (folder / "library.json").write_text(json.dumps(index))

    return apply


def entry(key: str, value: object, i: int = 0) -> Callable[[dict], None]:
    return lambda index: index["directions"][i].__setitem__(key, value)


def write(name: str, data: bytes | Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def apply(folder: Path, canary: Path) -> None:
        path = folder / name
        path.write_bytes(data(path.read_bytes()) if callable(data) else data)

    return apply


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def huge_header(folder: Path, canary: Path) -> None:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": (1 << 40,)})
    (folder / "smile.npy").write_bytes(buffer.getvalue() + b"\0" * 64)


def pickled(folder: Path, canary: Path) -> None:
    (folder / "smile.npy").write_bytes(npy(np.array([Hostile(canary)], dtype=object)))


def replace_by_folder(name: str) -> Callable[[Path, Path], None]:
    def apply(folder: Path, canary: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()
        (folder / name / "inside.txt").write_text("x")

    return apply


def symlink_outside(folder: Path, canary: Path) -> None:
    (folder / "smile.npy").unlink()
    (folder / "smile.npy").symlink_to("/etc/hostname" if Path("/etc/hostname").exists() else "/etc/passwd")


def oversized_index(folder: Path, canary: Path) -> None:
    with open(folder / "library.json", "r+b") as f:  # sparse: 1 GiB claimed, nothing stored
        f.truncate(1 << 30)


def unreadable(folder: Path, canary: Path) -> None:
    (folder / "library.json").chmod(0)


def nested_provenance(depth: int) -> Callable[[dict], None]:
    def change(index: dict) -> None:
        index["directions"][0]["provenance"] = {"x": "PLACEHOLDER"}

    def apply(folder: Path, canary: Path) -> None:
        edit_index(change)(folder, canary)
        path = folder / "library.json"
        path.write_text(path.read_text().replace('"PLACEHOLDER"', "[" * depth + "]" * depth))

    return apply


HUGE_INT = 10**400
DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "index-truncated": write("library.json", lambda b: b[: len(b) // 2]),
    "index-empty": write("library.json", b""),
    "index-binary": write("library.json", bytes(RNG.integers(0, 256, 2048, dtype=np.uint8))),
    "index-not-utf8": write("library.json", b'{"schema_version": 1, "directions": ["\xff\xfe"]}'),
    "index-is-a-folder": replace_by_folder("library.json"),
    "index-json-list": write("library.json", b"[1, 2, 3]"),
    "index-nested-100k": write("library.json", b'{"directions": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "index-future-schema": edit_index(lambda i: i.__setitem__("schema_version", 99)),
    "index-bare-nan": write("library.json", lambda b: b.replace(b'"scale": 0.5', b'"scale": NaN')),
    "index-oversized": oversized_index,
    "index-unreadable": unreadable,
    "directions-not-list": edit_index(lambda i: i.__setitem__("directions", {"smile": 1})),
    "entry-not-dict": edit_index(lambda i: i["directions"].__setitem__(0, "smile")),
    "entry-without-file": edit_index(lambda i: i["directions"][0].pop("file")),
    "entry-file-traversal": edit_index(entry("file", "../../outside.npy")),
    "entry-shape-int": edit_index(entry("shape", 5)),
    "entry-shape-wrong": edit_index(entry("shape", [3, 3])),
    "entry-scale-zero": edit_index(entry("scale", 0)),
    "entry-scale-huge-int": edit_index(entry("scale", HUGE_INT)),
    "entry-range-huge-int": edit_index(entry("value_range", [0, HUGE_INT])),
    "entry-layers-huge": edit_index(entry("layers", [0, 1e400])),
    "entry-name-too-long": edit_index(entry("name", "x" * 101)),
    "entry-name-number": edit_index(entry("name", 42)),
    "entry-duplicate-name": edit_index(entry("name", "smile", 1)),
    "entry-provenance-nested-990": nested_provenance(990),
    "vector-missing": lambda folder, canary: (folder / "smile.npy").unlink(),
    "vector-truncated": write("smile.npy", lambda b: b[: len(b) - 100]),
    "vector-garbage": write("smile.npy", b"\x93NUMPY garbage"),
    "vector-pickle": pickled,
    "vector-huge-header": huge_header,
    "vector-zero": write("smile.npy", npy(np.zeros(DIM, np.float32))),
    "vector-nan": write("smile.npy", npy(np.full(DIM, np.nan, np.float32))),
    "vector-int": write("smile.npy", npy(np.ones(DIM, np.int32))),
    "vector-is-a-folder": replace_by_folder("smile.npy"),
    "vector-symlink-outside": symlink_outside,
}
ROOT_READS_ANYTHING = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                                         reason="root reads a file whatever its permissions")


def cases() -> list:
    return [pytest.param(name, marks=ROOT_READS_ANYTHING) if name == "index-unreadable" else name for name in DAMAGE]


def damaged_library(user_data: Path, name: str, canary: Path) -> Path:
    folder = library(user_data / "directions" / "default")
    DAMAGE[name](folder, canary)
    return folder


@pytest.mark.parametrize("name", cases())
def test_a_damaged_library_is_refused_with_a_typed_error(name, user_data, canary):
    folder = damaged_library(user_data, name, canary)
    before = digest([user_data])
    with pytest.raises(CoreError) as caught:
        DirectionLibrary.load(folder)
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 2000
    assert digest([user_data]) == before


@pytest.mark.parametrize("name", cases())
def test_a_damaged_user_library_is_moved_aside_and_the_shipped_one_used(name, user_data, canary):
    from core.directions import load_user_library

    folder = damaged_library(user_data, name, canary)
    shipped = shipped_library_dir("default")
    before, shipped_before = digest([folder]), digest([shipped])
    loaded, problem = load_user_library(folder, fallback=shipped)
    assert loaded.names() == DirectionLibrary.load(shipped).names()
    assert problem is not None and str(folder) in problem and "damaged" in problem
    aside = [p for p in folder.parent.iterdir() if p.name.startswith("default.damaged-")]
    assert len(aside) == 1 and str(aside[0]) in problem
    assert not folder.exists()  # nothing is written until the user changes the library
    moved = {str(p).replace(str(aside[0]), str(folder)): h for p, h in digest([aside[0]]).items()}
    assert moved == before, "the damaged files were not kept as they were"
    assert digest([shipped]) == shipped_before
    again, problem = load_user_library(folder, fallback=shipped)  # the next start is quiet
    assert problem is None and again.names() == loaded.names()


def test_a_missing_user_library_is_the_shipped_one_and_nothing_is_written(user_data):
    from core.directions import load_user_library

    loaded, problem = load_user_library(user_data / "directions" / "default", fallback=shipped_library_dir("default"))
    assert problem is None and loaded.names() == DirectionLibrary.load(shipped_library_dir("default")).names()
    assert list(user_data.iterdir()) == []


def test_a_good_user_library_loads_as_it_is_and_nothing_is_written(user_data):
    from core.directions import load_user_library

    folder = library(user_data / "directions" / "default")
    before = digest([user_data])
    loaded, problem = load_user_library(folder, fallback=shipped_library_dir("default"))
    assert problem is None and loaded.names() == ["smile", "age"]
    assert digest([user_data]) == before


def test_no_fallback_means_an_empty_library(user_data, canary):
    from core.directions import load_user_library

    folder = damaged_library(user_data, "index-truncated", canary)
    loaded, problem = load_user_library(folder, fallback=None)
    assert len(loaded) == 0 and problem is not None and not folder.exists()


# -- framing records ---------------------------------------------------------------------------------------------
FRAMING_DAMAGE: dict[str, bytes | None] = {
    "truncated": b'{"model_id": "x", "eye_left": [0.3,',
    "binary": bytes(range(256)) * 4,
    "nested-100k": b"[" * 100_000 + b"]" * 100_000,
    "huge-number": b'{"model_id": "x", "eye_left": [0.3, 0.4], "eye_right": [0.6, 0.4], "mouth": [0.5, 0.7], '
                   b'"spread": [[0, 0], [0, 0], [0, 0]], "samples": 1e400, "found": 1, "seed": 0}',
    "wrong-types": b'{"model_id": "x", "eye_left": "left", "eye_right": null, "mouth": {}, "spread": 5}',
    "a-folder": None,
}


@pytest.mark.parametrize("name", list(FRAMING_DAMAGE))
def test_a_damaged_framing_record_is_moved_aside_and_not_used(name, tiny_stylegan2, user_data, canary):
    from core.alignment import known_framing
    from core.alignment.framing import cached_framing_dir, framing_file

    path = framing_file(tiny_stylegan2.model_id, cached_framing_dir())
    path.parent.mkdir(parents=True)
    data = FRAMING_DAMAGE[name]
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    assert known_framing(tiny_stylegan2) is None
    aside = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.damaged-")]
    assert len(aside) == 1 and not path.exists()
    if data is not None:
        assert aside[0].read_bytes() == data
