"""The real main window opening bad files: photos, projects, model files and masks that are damaged, empty, forged,
hostile or missing. Each case asserts the GUI's promise: a message is shown (a real message box on the window), the
window is alive and still shows the previous document unchanged (photo, mask, result, history, title, project,
model), the bad file is byte for byte unchanged, and nothing was executed.

Every bad file is built here from the bundled sample, a real project saved by ``core.sessions`` or plain bytes.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from app.main_window import MainWindow
from core.imageio import CropBox
from core.resources import resources_dir
from core.sessions import Document, save_project
from tests.battery.conftest import digest

SAMPLE = resources_dir() / "samples" / "astronaut.png"
MESSAGE_WAIT_MS = 120_000  # only ends a hang: the wait ends on the message box itself


# -- building bad files ------------------------------------------------------------------------------------------
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, extra: bytes = b"", idat: bytes | None = None) -> bytes:
    """A PNG whose IHDR declares ``width`` × ``height`` (RGB), with ``extra`` chunks and the given IDAT data."""
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body = _png_chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + extra + body + _png_chunk(b"IEND", b"")


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.open(SAMPLE).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Hostile:
    """A pickle that would create the canary file if anything ever unpickled it."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def _project_bytes(folder: Path, **changes) -> bytes:
    """A real project (embedded photo, a mask and a latent) saved by core.sessions, as bytes."""
    photo = folder / "ref_photo.png"
    shutil.copyfile(SAMPLE, photo)
    mask = np.zeros((512, 512), np.uint8)
    mask[10:40, 10:40] = 255
    doc = Document.for_photo(photo, CropBox(150, 40, 200), embed=True, mask=mask, **changes)
    path = save_project(doc, folder / "ref.lsproj")
    data = path.read_bytes()
    path.unlink()
    return data


def _rewrite(project: bytes, edit: Callable[[dict[str, bytes]], dict[str, bytes]]) -> bytes:
    """The project archive with its members changed by ``edit`` (name → bytes)."""
    with zipfile.ZipFile(io.BytesIO(project)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in edit(members).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _manifest(change: Callable[[dict], object]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        data = json.loads(members["project.json"])
        change(data)
        return members | {"project.json": json.dumps(data).encode()}

    return edit


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _arrays(change: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]], pickled: bool = False):
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        with np.load(io.BytesIO(members["arrays.npz"])) as npz:
            arrays = {key: npz[key] for key in npz.files}
        arrays = change(arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays, allow_pickle=True) if pickled else np.savez(buffer, **arrays)
        return members | {"arrays.npz": buffer.getvalue()}

    return edit


def _raw_manifest(change: Callable[[bytes], bytes]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        changed = change(members["project.json"])
        assert changed != members["project.json"], "the damage did not apply"
        return members | {"project.json": changed}

    return edit


def _set(key: str, value: object) -> Callable[[dict], None]:
    return lambda data: data.__setitem__(key, value)


def _nested(depth: int) -> bytes:
    return b'{"format": "landscape-studio-project", "x": ' + b"[" * depth + b"]" * depth + b"}"


Builder = Callable[[Path, Path], object]  # (folder, canary) → bytes to write, or a Path already made


def _referenced_project(folder: Path, canary: Path, change_photo: bool) -> bytes:
    """A project referencing (not embedding) a photo that is then deleted or changed."""
    photo = folder / "moved.png"
    shutil.copyfile(SAMPLE, photo)
    doc = Document.for_photo(photo, CropBox(150, 40, 200), embed=False)
    data = save_project(doc, folder / "ref2.lsproj").read_bytes()
    (folder / "ref2.lsproj").unlink()
    if change_photo:
        Image.new("RGB", (64, 64), "red").save(photo)
    else:
        photo.unlink()
    return data


def _folder(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir()
    (path / "inside.txt").write_text("a folder, not a file")
    return path


def _hostile_torch_zip(folder: Path, canary: Path) -> bytes:
    """A torch-style zip checkpoint whose data.pkl would run a command."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"g_ema": Hostile(canary)}, protocol=2))
        zf.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _safetensors(header: bytes, declared: int | None = None) -> bytes:
    return struct.pack("<Q", len(header) if declared is None else declared) + header


SAMPLE_BYTES = SAMPLE.read_bytes()
JPEG = _jpeg_bytes()
TEXT = b"This is a shopping list, not a picture.\nmilk\neggs\n"
GARBAGE = np.random.default_rng(21).integers(0, 256, 4096, dtype=np.uint8).tobytes()

# (case id, file name, how it is opened, builder)
CASES: list[tuple[str, str, str, Builder]] = [
    # photos
    ("photo-zero-byte-png", "empty.png", "open", lambda f, c: b""),
    ("photo-zero-byte-jpg", "empty.jpg", "open", lambda f, c: b""),
    ("photo-truncated-png", "cut.png", "open", lambda f, c: SAMPLE_BYTES[: len(SAMPLE_BYTES) // 2]),
    ("photo-truncated-jpg", "cut.jpg", "open", lambda f, c: JPEG[: len(JPEG) // 3]),
    ("photo-header-only-png", "header.png", "open", lambda f, c: SAMPLE_BYTES[:33]),
    ("photo-garbage-png", "noise.png", "open", lambda f, c: GARBAGE),
    ("photo-garbage-jpg", "noise.jpg", "open", lambda f, c: b"\xff\xd8\xff" + GARBAGE),
    ("photo-text-as-png", "list.png", "open", lambda f, c: TEXT),
    ("photo-html-as-jpg", "page.jpg", "open", lambda f, c: b"<html><body>not an image</body></html>"),
    ("photo-huge-declared-png", "huge.png", "open", lambda f, c: _png(100_000, 100_000)),
    ("photo-zero-size-png", "zero.png", "open", lambda f, c: _png(0, 0)),
    ("photo-bad-idat-png", "idat.png", "open", lambda f, c: _png(64, 64, idat=b"\x78\x9c" + GARBAGE[:200])),
    ("photo-metadata-bomb-png", "bomb.png", "open",
     lambda f, c: _png(8, 8, _png_chunk(b"zTXt", b"k\0\0" + zlib.compress(b"a" * (64 << 20), 9)),
                       zlib.compress(b"\0" * (8 * 25)))),
    ("photo-huge-declared-gif", "huge.gif", "open",
     lambda f, c: b"GIF89a" + struct.pack("<HH", 65_000, 65_000) + b"\0\0\0" + GARBAGE[:64]),
    ("photo-huge-declared-bmp", "huge.bmp", "open",
     lambda f, c: b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 60_000, 60_000, 1,
                                                                               24, 0, 0, 0, 0, 0, 0) + GARBAGE[:64]),
    ("photo-garbage-tiff", "noise.tif", "open", lambda f, c: b"II*\0" + GARBAGE),
    ("photo-truncated-webp", "cut.webp", "open", lambda f, c: b"RIFF\x00\x10\x00\x00WEBPVP8 " + GARBAGE[:32]),
    ("photo-no-suffix", "photo", "open", lambda f, c: GARBAGE),
    ("photo-folder", "album.png", "open", lambda f, c: _folder(f, "album.png")),
    ("photo-missing", "gone.png", "open", lambda f, c: None),
    # projects
    ("project-zero-byte", "empty.lsproj", "open", lambda f, c: b""),
    ("project-garbage", "noise.lsproj", "open", lambda f, c: GARBAGE),
    ("project-json-not-zip", "plain.lsproj", "open", lambda f, c: b'{"format": "landscape-studio-project"}'),
    ("project-truncated", "cut.lsproj", "open", lambda f, c: (lambda b: b[: len(b) // 2])(_project_bytes(f))),
    ("project-bad-json", "badjson.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), lambda m: m | {"project.json": b"{not json"})),
    ("project-wrong-format", "format.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _manifest(_set("format", "someone-else")))),
    ("project-future-schema", "future.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _manifest(_set("schema_version", 999)))),
    ("project-crop-wrong-type", "crop.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _manifest(_set("crop", "the middle")))),
    ("project-nan-feather", "nan.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _raw_manifest(lambda text: re.sub(rb'"feather": [0-9.e-]+',
                                                                               b'"feather": NaN', text)))),
    ("project-deep-json", "deep.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), lambda m: m | {"project.json": _nested(100_000)})),
    ("project-no-arrays", "noarrays.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), lambda m: {k: v for k, v in m.items() if k != "arrays.npz"})),
    ("project-pickled-array", "pickle.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _arrays(
         lambda a: a | {"mask": np.array([Hostile(c)], dtype=object)}, pickled=True))),
    ("project-mask-wrong-size", "masksize.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), _arrays(lambda a: a | {"mask": np.zeros((20, 30), np.uint8)}))),
    ("project-unsafe-member", "slip.lsproj", "open",
     lambda f, c: _rewrite(_project_bytes(f), lambda m: m | {"../evil.txt": b"outside"})),
    ("project-photo-missing", "lost.lsproj", "open", lambda f, c: _referenced_project(f, c, change_photo=False)),
    ("project-photo-changed", "changed.lsproj", "open", lambda f, c: _referenced_project(f, c, change_photo=True)),
    ("project-folder", "folder.lsproj", "open", lambda f, c: _folder(f, "folder.lsproj")),
    ("project-missing", "gone.lsproj", "open", lambda f, c: None),
    # model files
    ("model-zero-byte-pt", "empty.pt", "open", lambda f, c: b""),
    ("model-garbage-pt", "noise.pt", "open", lambda f, c: GARBAGE),
    ("model-hostile-pkl", "evil.pkl", "open", lambda f, c: pickle.dumps(Hostile(c), protocol=2)),
    ("model-hostile-torch-zip", "evil.pt", "open", _hostile_torch_zip),
    ("model-text-safetensors", "notes.safetensors", "open", lambda f, c: TEXT),
    ("model-huge-header-safetensors", "huge.safetensors", "open",
     lambda f, c: _safetensors(b'{"w": {"dtype": "F32", "shape": [1]}}', declared=1 << 60)),
    ("model-forged-shape-safetensors", "forged.safetensors", "open",
     lambda f, c: _safetensors(json.dumps({"w": {"dtype": "F32", "shape": [1 << 20, 1 << 20],
                                                 "data_offsets": [0, 4]}}).encode() + b"\0\0\0\0")),
    ("model-folder", "folder.pt", "open", lambda f, c: _folder(f, "folder.pt")),
    ("model-missing", "gone.safetensors", "open", lambda f, c: None),
    # masks
    ("mask-zero-byte", "empty_mask.png", "mask", lambda f, c: b""),
    ("mask-garbage", "noise_mask.png", "mask", lambda f, c: GARBAGE),
    ("mask-text", "text_mask.png", "mask", lambda f, c: TEXT),
    ("mask-wrong-size", "small_mask.png", "mask", lambda f, c: _png_file(64, 48)),
    ("mask-huge-declared", "huge_mask.png", "mask", lambda f, c: _png(100_000, 100_000)),
    ("mask-folder", "folder_mask.png", "mask", lambda f, c: _folder(f, "folder_mask.png")),
    ("mask-missing", "gone_mask.png", "mask", lambda f, c: None),
]


def _png_file(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, "PNG")
    return buffer.getvalue()


def _snapshot(win: MainWindow) -> dict[str, object]:
    """What the user sees of the document: it must be exactly the same after a refused file."""
    c = win.controller
    assert c.opened is not None
    return {"size": (c.opened.photo.width, c.opened.photo.height), "source": c.opened.photo.source,
            "mask": c.mask.copy(), "adopted": c.adopted, "placement": c.placement, "edits": c.edits,
            "undo": (c.undo_stack.count(), c.undo_stack.index(), c.undo_stack.isClean()),
            "title": win.windowTitle(), "project": win.projects.path, "model": c.model_name}


def _assert_same(before: dict[str, object], after: dict[str, object]) -> None:
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, after[key]), key
        else:
            assert after[key] == value, (key, value, after[key])


def _visible_box(win: MainWindow) -> QMessageBox | None:
    """The window's open message box (every box the app shows is parented to it). Only the window's own children
    are searched: touching every top-level widget reached one being destroyed and crashed the interpreter once."""
    boxes = [w for w in win.findChildren(QMessageBox) if w.isVisible()]
    return boxes[0] if boxes else None


@pytest.mark.parametrize(("name", "how", "build"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_window_refuses_bad_file(window: MainWindow, qtbot, tmp_path: Path, canary: Path, name: str, how: str,
                                 build: Builder) -> None:
    win, c = window, window.controller
    stroke = np.zeros_like(c.mask)
    stroke[100:140, 200:260] = 255
    c.replace_mask(stroke, "Brush stroke")  # the previous document has a change of its own, in the history
    folder = tmp_path / "bad"
    folder.mkdir()
    made = build(folder, canary)
    path = made if isinstance(made, Path) else folder / name
    if isinstance(made, bytes):
        path.write_bytes(made)
    files = digest([folder])
    before = _snapshot(win)

    if how == "mask":
        win.import_mask(path)
    else:
        win.open_path(path)
    qtbot.waitUntil(lambda: _visible_box(win) is not None, timeout=MESSAGE_WAIT_MS)
    box = _visible_box(win)
    assert box is not None
    message = box.text()
    box.close()
    qtbot.waitUntil(lambda: not c.engine.busy, timeout=MESSAGE_WAIT_MS)

    assert message.strip(), "an empty message"
    assert "Traceback" not in message and "Unexpected error" not in message, message
    assert win.isVisible()
    _assert_same(before, _snapshot(win))
    assert digest([folder]) == files, "the bad file was changed"
    assert not canary.exists(), "a hostile file executed code"
