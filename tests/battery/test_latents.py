"""Bad latent files (.npy) through ``render`` and ``edit``: one ``error:`` line (exit 2), no output file, the latent
unchanged and never unpickled; odd but valid ones (float16, big-endian, Fortran order) render.

A latent's header is read and its size checked before any allocation: a 100-byte file claiming a terabyte of floats
is refused from its header alone.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.battery import input_kit as kit
from tests.battery.conftest import digest

Z = kit.Z_DIM
Builder = Callable[[Path, Path], Path]  # (folder, canary) → the latent file


def _array(array: Callable[[], np.ndarray]) -> Builder:
    def build(folder: Path, canary: Path) -> Path:
        path = folder / "latent.npy"
        np.save(path, array())
        return path
    return build


def _bytes(data: Callable[[], bytes], name: str = "latent.npy") -> Builder:
    return lambda folder, canary: kit.write(folder / name, data())


def _header(shape: tuple[int, ...], descr: str = "<f4", data: bytes = b"") -> Builder:
    return lambda folder, canary: kit.npy_header_only(folder / "latent.npy", shape, descr, data=data)


def _pickled_object_array(folder: Path, canary: Path) -> Path:
    path = folder / "latent.npy"
    np.save(path, np.array([kit.Hostile(canary)] * Z, dtype=object), allow_pickle=True)
    return path


def _raw_pickle(folder: Path, canary: Path) -> Path:
    return kit.write(folder / "latent.npy", pickle.dumps(kit.Hostile(canary)))


def _npz(folder: Path, canary: Path) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, latent=np.zeros(Z, np.float32))
    return kit.write(folder / "latent.npy", buffer.getvalue())


def _truncated(folder: Path, canary: Path) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(Z, np.float32))
    return kit.write(folder / "latent.npy", buffer.getvalue()[:-40])


def _directory(folder: Path, canary: Path) -> Path:
    (folder / "latent.npy").mkdir()
    return folder / "latent.npy"


def _with(value: float, dtype: str = "float32", at: int = 3) -> Callable[[], np.ndarray]:
    def array() -> np.ndarray:
        latent = np.zeros(Z, dtype)
        latent[at] = value
        return latent
    return array


BAD_LATENTS: list[tuple[str, Builder, str]] = [
    ("missing", lambda folder, canary: folder / "latent.npy", "does not exist"),
    ("directory", _directory, "folder"),
    ("zero-bytes", _bytes(lambda: b""), "empty"),
    ("text-file", _bytes(lambda: b"0.1 0.2 0.3\n"), "not a plain numeric"),
    ("truncated-data", _truncated, "not a plain numeric"),
    ("header-only", _header((Z,)), "not a plain numeric"),
    ("huge-claimed-shape", _header((10**12,)), "too large"),
    ("huge-claimed-2d-shape", _header((2**31, 2**31)), "too large"),
    ("overflowing-claimed-shape", _header((2**62, 2**62, 2**62)), "too large"),
    ("huge-claimed-itemsize", _header((Z,), descr="|V2000000000"), "not a plain numeric"),
    ("malformed-header", _bytes(lambda: b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n"), "not a plain numeric"),
    ("negative-shape", _header((-1,)), "not a plain numeric"),
    ("pickled-object-array", _pickled_object_array, "not a plain numeric"),
    ("raw-pickle", _raw_pickle, "not a plain numeric"),
    ("npz-archive", _npz, "not a plain numeric"),
    ("integers", _array(lambda: np.arange(Z)), "float"),
    ("booleans", _array(lambda: np.ones(Z, bool)), "float"),
    ("complex", _array(lambda: np.zeros(Z, np.complex64)), "float"),
    ("strings", _array(lambda: np.array(["0.5"] * Z)), "float"),
    ("structured", _array(lambda: np.zeros(Z, [("a", "<f4"), ("b", "<f4")])), "float"),
    ("wrong-length", _array(lambda: np.zeros(Z - 1, np.float32)), "another model"),
    ("extra-axis", _array(lambda: np.zeros((1, Z, 1), np.float32)), "another model"),
    ("scalar", _array(lambda: np.float32(0.5)), "another model"),
    ("empty-batch", _array(lambda: np.zeros((0, Z), np.float32)), "another model"),
    ("too-many", _array(lambda: np.zeros((65, Z), np.float32)), "another model"),
    ("nan", _array(_with(np.nan)), "nan"),
    ("inf", _array(_with(np.inf)), "infinite"),
    ("minus-inf", _array(_with(-np.inf)), "infinite"),
    ("float64-1e300", _array(_with(1e300, "float64")), "too large"),
    ("float64-minus-1e300", _array(_with(-1e300, "float64")), "too large"),
    ("float32-1e30", _array(_with(1e30)), "too large"),
    ("float64-denormal-nan-mix", _array(lambda: np.array([5e-324] * (Z - 1) + [np.nan])), "nan"),
]


def _render(cli, latent: Path, out: Path):
    return cli("render", "--latent", latent, "--out", out)


def _edit(cli, latent: Path, out: Path):
    return cli("edit", _photo(latent.parent), "--latent", latent, "--out", out)


def _photo(folder: Path) -> Path:
    photo = folder / "photo.png"
    if not photo.exists():
        photo.write_bytes(kit.encoded(kit.noise(72, 64), "PNG"))
    return photo


COMMANDS = {"render": _render, "edit": _edit}


@pytest.mark.parametrize(("build", "words"), [c[1:] for c in BAD_LATENTS], ids=[c[0] for c in BAD_LATENTS])
@pytest.mark.parametrize("command", ["render"])
def test_bad_latent_is_one_error_and_nothing_written(cli, tmp_path, canary, command, build, words):
    latent = build(tmp_path, canary)
    if command == "edit":
        _photo(tmp_path)
    before = digest([tmp_path])
    out = tmp_path / "out.png"
    COMMANDS[command](cli, latent, out).assert_one_error(words)
    assert not out.exists()
    assert digest([tmp_path]) == before


EDIT_CASES = ["pickled-object-array", "huge-claimed-shape", "nan", "float64-1e300", "float32-1e30", "text-file"]


@pytest.mark.parametrize(("build", "words"), [c[1:] for c in BAD_LATENTS if c[0] in EDIT_CASES],
                         ids=[c[0] for c in BAD_LATENTS if c[0] in EDIT_CASES])
def test_bad_latent_for_edit_is_one_error_and_nothing_written(cli, tmp_path, canary, build, words):
    test_bad_latent_is_one_error_and_nothing_written(cli, tmp_path, canary, "edit", build, words)


def test_edit_refuses_a_batch(cli, tmp_path):
    latent = tmp_path / "latents.npy"
    np.save(latent, np.zeros((2, Z), np.float32))
    _edit(cli, latent, tmp_path / "out.png").assert_one_error("edit takes one")
    assert not (tmp_path / "out.png").exists()


GOOD_LATENTS: list[tuple[str, Callable[[], np.ndarray]]] = [
    ("float16", lambda: np.linspace(-2, 2, Z).astype(np.float16)),
    ("float64", lambda: np.linspace(-2, 2, Z)),
    ("big-endian", lambda: np.linspace(-2, 2, Z).astype(">f4")),
    ("fortran-order-batch", lambda: np.asfortranarray(np.linspace(-2, 2, 3 * Z).reshape(3, Z).astype(np.float32))),
    ("batch-of-one", lambda: np.zeros((1, Z), np.float32)),
    ("largest-batch", lambda: np.zeros((64, Z), np.float32)),
    ("non-contiguous-source", lambda: np.linspace(-2, 2, 2 * Z).astype(np.float32)[::2]),
]


@pytest.mark.parametrize("array", [c[1] for c in GOOD_LATENTS], ids=[c[0] for c in GOOD_LATENTS])
def test_valid_latent_renders_the_same_as_float32(cli, tmp_path, array):
    values = array()
    odd, plain = tmp_path / "odd.npy", tmp_path / "plain.npy"
    np.save(odd, values)
    np.save(plain, np.ascontiguousarray(values, np.float32))
    before = digest([odd])
    for latent, name in ((odd, "odd.png"), (plain, "plain.png")):
        outcome = _render(cli, latent, tmp_path / name)
        assert outcome.code == 0, outcome.err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "odd.png")), np.asarray(Image.open(tmp_path / "plain.png")))
    assert digest([odd]) == before


def test_render_npy_output_is_finite(cli, tmp_path):
    latent = kit.valid_latent(tmp_path / "latent.npy", 3.0)
    assert _render(cli, latent, tmp_path / "out.npy").code == 0
    assert np.isfinite(np.load(tmp_path / "out.npy", allow_pickle=False)).all()
