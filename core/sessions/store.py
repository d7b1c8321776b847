"""Save a ``Document`` as one versioned ``.lsproj`` file, atomically, and reopen it bit for bit.

The file is a zip archive:
  project.json  ``format``, ``schema_version``, every scalar field, the photo's source (absolute path, path
                relative to the project, SHA-256, embedded member), crop, inversion settings, edits without their
                vectors, ``arrays``: which of latents / image / edited_image / mask are stored, and ``tuning``:
                null or the pivotal tuning's base model, info and parameter names (``core.sessions.tuned_weights``)
  arrays.npz    those arrays plus ``edit_<i>`` (vector of edit i) and ``tune_<i>`` (the delta of the i-th tuned
                parameter, float32), written by ``np.savez_compressed``
  photo.<ext>   the photo file's own bytes, when the user chose to embed it
The archive is built in memory and written with ``atomic_write_bytes`` (temp file, fsync, rename), so a failed
save leaves the previous project intact. Loading trusts nothing: member names, compression, unpacked sizes and
every array's dtype and shape (read from its header, before the data) are checked; pickles are never loaded.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from core import __version__
from core.alignment import Alignment
from core.errors import InvalidInputError
from core.imageio import MAX_PIXELS, CropBox, Photo, atomic_write_bytes
from core.inversion import InversionConfig
from core.resources import file_sha256
from core.sessions import fill_layers, tuned_weights
from core.sessions.document import Document, EditedDirection, sha256_hex
from core.sessions.migrations import CURRENT_SCHEMA, migrate
from core.sessions.project_photo import damaged, open_photo

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".lsproj"
FORMAT = "landscape-studio-project"
MANIFEST, ARRAYS = "project.json", "arrays.npz"
PHOTO_MEMBER = re.compile(r"photo\.[a-z0-9]{1,5}")
SCALAR_ARRAYS = ("latents", "image", "edited_image", "reference", "mask", "fill_mask")
IMAGE_ARRAYS = ("image", "edited_image", "reference")
MAX_UNPACKED_BYTES = 2 << 30  # per archive (the project, and arrays.npz inside it): refuses decompression bombs
MAX_RATIO = 1100  # unpacked / packed size of a member above 1 MiB; deflate tops out near 1032, so more is forged
MAX_MANIFEST_BYTES = 16 << 20
MAX_STARTS = 256  # as InversionConfig.starts
MAX_LATENT_VALUES = 1 << 20  # per start (StyleGAN2 w+ at 1024 px has 18 × 512 = 9216)
MAX_RESOLUTION = 8192
MAX_EDITS = 256
MAX_JSON_DEPTH = 32  # project.json nests a few levels (inversion → loss, alignment → matrix rows); more is forged
VALUE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError)  # of hostile values
PHOTO_FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "TIFF": "tif", "WEBP": "webp", "BMP": "bmp", "GIF": "gif"}


# -- saving ----------------------------------------------------------------------------------------------------
def save_project(doc: Document, path: str | Path) -> Path:
    """Write ``doc`` to ``path`` (``.lsproj``) all or nothing; raises ``ImageSaveError`` when the disk refuses.

    A referenced (not embedded) photo is hashed again first: a project pointing at a photo that changed since it
    was opened could never be reopened, so that is refused now rather than discovered later.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() != PROJECT_SUFFIX:
        raise InvalidInputError(f"Cannot save the project as '{path.name}': end the file name with {PROJECT_SUFFIX}.")
    member = _photo_member(doc)
    source = doc.photo_path
    if member is None and not (source is not None and source.is_file() and file_sha256(source) == doc.photo_sha256):
        raise InvalidInputError(
            f"Cannot save the project: the photo '{doc.photo_path}' was moved or changed on disk since it was "
            "opened, so the project could not be reopened; put the original back or open the photo again."
        )
    manifest = json.dumps(_manifest(doc, path, member), indent=1, allow_nan=False).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(ARRAYS, _arrays_bytes(doc), compress_type=zipfile.ZIP_STORED)  # npz is compressed already
        if member is not None and doc.embedded_photo is not None:
            zf.writestr(member, doc.embedded_photo, compress_type=zipfile.ZIP_STORED)
    atomic_write_bytes(path, buffer.getvalue())
    log.info("saved project %s (%d bytes, photo %s)", path, buffer.tell(), "embedded" if member else "referenced")
    return path


def _photo_member(doc: Document) -> str | None:
    """``photo.<ext>`` for an embedded photo (format sniffed from its bytes), after checking its SHA-256."""
    if doc.embedded_photo is None:
        return None
    if sha256_hex(doc.embedded_photo) != doc.photo_sha256:
        raise InvalidInputError("The embedded photo does not match the photo's recorded SHA-256; open the photo again.")
    try:
        with Image.open(io.BytesIO(doc.embedded_photo)) as im:
            kind = im.format or ""
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInputError("The embedded photo is not an image Landscape Studio can read.") from exc
    return f"photo.{PHOTO_FORMATS.get(kind, 'img')}"


def _manifest(doc: Document, path: Path, member: str | None) -> dict[str, Any]:
    absolute, relative = None, None
    if doc.photo_path is not None:
        absolute = str(doc.photo_path.absolute())
        try:
            relative = Path(os.path.relpath(doc.photo_path.resolve(), path.parent.resolve())).as_posix()
        except ValueError:  # another drive (Windows): only the absolute path can work
            relative = None
    edits = [{"name": e.name, "scale": e.scale, "alpha": e.alpha, "method": e.method,
              "layers": None if e.layers is None else list(e.layers)} for e in doc.edits]
    return {"format": FORMAT, "schema_version": CURRENT_SCHEMA, "saved_by": __version__,
            "app_version": doc.app_version, "created": doc.created,
            "photo": {"path": absolute, "relative_path": relative, "sha256": doc.photo_sha256, "embedded": member},
            "crop": doc.crop.to_dict(), "model_id": doc.model_id, "space": doc.space, "inversion": doc.inversion,
            "best_index": doc.best_index, "feather": doc.feather, "edits": edits,
            "arrays": [name for name in SCALAR_ARRAYS if getattr(doc, name) is not None],
            "tuning": tuned_weights.entry(doc.tuning),
            "alignment": None if doc.alignment is None else doc.alignment.to_dict(),
            "fills": fill_layers.entries(doc.fills), "composite": doc.composite}


def _arrays_bytes(doc: Document) -> bytes:
    arrays = {name: getattr(doc, name) for name in SCALAR_ARRAYS if getattr(doc, name) is not None}
    arrays.update({f"edit_{i}": edit.vector for i, edit in enumerate(doc.edits)})
    arrays.update(tuned_weights.arrays(doc.tuning))
    arrays.update(fill_layers.arrays(doc.fills))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# -- loading ---------------------------------------------------------------------------------------------------
def load_project(path: str | Path) -> tuple[Document, Photo]:
    """Reopen a project: the document and its photo, decoded from the embedded copy or found on disk.

    The photo is looked for relative to the project first (a moved folder still opens), then at its absolute
    path, and must have the SHA-256 it had when saved. Every problem is an ``InvalidInputError`` saying what to do
    (``ImageLoadError`` when the photo itself cannot be decoded).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a project file" if path.is_dir() else "does not exist; check the file name and folder"
        raise InvalidInputError(f"The project '{path}' {what}.")
    try:
        with zipfile.ZipFile(path) as zf:
            names = _check_members(zf, path, "the project")
            _expect(names & {MANIFEST}, {MANIFEST}, path, "the project")
            manifest = _read_manifest(zf, path)
            member = manifest["photo"]["embedded"]
            _expect(names, {MANIFEST, ARRAYS} | ({member} if member else set()), path, "the project")
            arrays = _read_arrays(zf.read(ARRAYS), manifest, path)
            embedded = zf.read(member) if member else None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise damaged(path, "its zip data cannot be read") from exc
    except OSError as exc:
        raise InvalidInputError(f"The project '{path.name}' could not be read ({exc.strerror or exc}).") from exc
    photo, photo_path = open_photo(manifest["photo"], embedded, path)
    try:
        doc = _document(manifest, arrays, embedded, photo_path)
        doc.check_photo(photo)
    except InvalidInputError as exc:
        raise InvalidInputError(f"The project '{path.name}' could not be opened: {exc}") from exc
    except VALUE_ERRORS as exc:  # a value of a type or size no check of its own expected (e.g. a 400-digit number)
        raise damaged(path, f"a value in {MANIFEST} is not valid ({type(exc).__name__})") from exc
    log.info("opened project %s (schema %d, %d edits, %s)", path, CURRENT_SCHEMA, len(doc.edits),
             "tuned" if doc.tuning else "untuned")
    return doc, photo


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return not name or name.startswith("/") or "\\" in name or ":" in name or "\0" in name or ".." in parts


def _check_members(zf: zipfile.ZipFile, path: Path, where: str) -> set[str]:
    """Member names of an archive, after refusing unsafe paths, duplicates, encryption, odd compression, bombs."""
    infos = zf.infolist()
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe(name):
            raise InvalidInputError(
                f"'{path.name}' was refused: {where} holds a member with an unsafe path ('{name}'), which a "
                "Landscape Studio project never contains."
            )
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise damaged(path, f"'{name}' in {where} is encrypted or compressed in an unsupported way")
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise damaged(path, f"'{name}' in {where} claims to unpack to {ratio}× its size, like a zip bomb")
        total += info.file_size
    if total > MAX_UNPACKED_BYTES:
        limit = f"{MAX_UNPACKED_BYTES / 2**20:,.1f} MiB"
        raise damaged(path, f"{where} would unpack to {total / 2**20:,.1f} MiB, over the limit of {limit}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise damaged(path, f"{where} holds two members with the same name")
    return set(names)


def _expect(names: set[str], required: set[str], path: Path, where: str) -> None:
    missing = sorted(required - names)
    if missing:
        raise damaged(path, f"{where} lacks {', '.join(missing)}")
    extra = sorted(names - required)
    if extra:
        raise damaged(path, f"{where} holds unexpected members: {', '.join(extra)}")


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    if zf.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise damaged(path, f"{MANIFEST} is implausibly large")

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a number")

    try:
        data = json.loads(zf.read(MANIFEST).decode("utf-8"), parse_constant=refuse)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise damaged(path, f"{MANIFEST} is not valid JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise damaged(path, f"its {MANIFEST} does not describe a Landscape Studio project")
    if _depth(data) > MAX_JSON_DEPTH:  # later copies and checks recurse: refuse what would exhaust the stack
        raise damaged(path, f"{MANIFEST} is nested more than {MAX_JSON_DEPTH} levels deep")
    data = migrate(data)
    for key, kind in [("photo", dict), ("crop", dict), ("inversion", dict), ("edits", list), ("arrays", list)]:
        if not isinstance(data.get(key), kind):
            raise damaged(path, f"'{key}' in {MANIFEST} is missing or not a {kind.__name__}")
    if len(data["edits"]) > MAX_EDITS or not all(isinstance(e, dict) for e in data["edits"]):
        raise damaged(path, f"'edits' in {MANIFEST} is not a list of at most {MAX_EDITS} edits")
    if not all(isinstance(a, str) for a in data["arrays"]) or not set(data["arrays"]) <= set(SCALAR_ARRAYS):
        raise damaged(path, f"'arrays' in {MANIFEST} names unknown arrays")
    if "tuning" not in data:
        raise damaged(path, f"'tuning' in {MANIFEST} is missing")
    problem = tuned_weights.entry_problem(data["tuning"])
    if problem:
        raise damaged(path, f"the tuning in {MANIFEST} is not valid: {problem}")
    if "alignment" not in data or not isinstance(data["alignment"], dict | None):
        raise damaged(path, f"'alignment' in {MANIFEST} is missing or not null or a dict")
    problem = fill_layers.entries_problem(data.get("fills"))
    if problem:
        raise damaged(path, f"the fills in {MANIFEST} are not valid: {problem}")
    photo = data["photo"]
    member, sha = photo.get("embedded"), photo.get("sha256")
    if not isinstance(sha, str) or not all(isinstance(photo.get(k), str | None) for k in ("path", "relative_path")):
        raise damaged(path, f"the photo entry in {MANIFEST} is incomplete")
    if member is not None and not (isinstance(member, str) and PHOTO_MEMBER.fullmatch(member)):
        raise damaged(path, f"the embedded photo's name {member!r} is not valid")
    return data


def _depth(value: Any) -> int:
    """How deeply lists and dicts nest in a parsed JSON value (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _array_ok(key: str, shape: tuple[int, ...]) -> bool:
    """Plausible shapes only: a forged header must not make us allocate gigabytes or feed nonsense on."""
    if not shape or min(shape) < 1:
        return False
    if key == "latents":
        return 2 <= len(shape) <= 4 and shape[0] <= MAX_STARTS and math.prod(shape[1:]) <= MAX_LATENT_VALUES
    if key in IMAGE_ARRAYS:
        return len(shape) == 3 and shape[0] == shape[1] <= MAX_RESOLUTION and shape[2] == 3
    if key in ("mask", "fill_mask"):
        return len(shape) == 2 and math.prod(shape) <= MAX_PIXELS
    if tuned_weights.is_tune_key(key):
        return tuned_weights.shape_ok(shape)
    if fill_layers.is_fill_key(key):
        return fill_layers.shape_ok(key, shape)
    return len(shape) in (1, 2) and math.prod(shape) <= MAX_LATENT_VALUES  # edit_<i>: a vector, or a mix's w+ code


def _read_arrays(blob: bytes, manifest: dict[str, Any], path: Path) -> dict[str, np.ndarray]:
    """Every listed array, all headers checked (and the tuning's total size) before any data is read."""
    tuned = [] if manifest["tuning"] is None else manifest["tuning"]["parameters"]
    tune_keys = [tuned_weights.array_key(i) for i in range(len(tuned))]
    keys = list(manifest["arrays"]) + [f"edit_{i}" for i in range(len(manifest["edits"]))] + tune_keys
    keys += fill_layers.keys(len(manifest["fills"]))
    with zipfile.ZipFile(io.BytesIO(blob)) as npz:
        names = _check_members(npz, path, ARRAYS)
        missing = [(key, name) for key, name in zip(tune_keys, tuned, strict=True) if f"{key}.npy" not in names]
        if missing:
            raise damaged(path, f"{ARRAYS} lacks {missing[0][0]}.npy, the delta of the tuned weight "
                           f"'{missing[0][1]}'; {len(missing)} of the {len(tuned)} listed tuned weights are missing")
        _expect(names, {f"{key}.npy" for key in keys}, path, ARRAYS)
        labels = {key: f"{key} (tuned weight '{name}')" for key, name in zip(tune_keys, tuned, strict=True)}
        shapes = {key: _npy_shape(npz, key, labels.get(key, key), path) for key in keys}
        problem = tuned_weights.size_problem(shapes[key] for key in tune_keys)
        if problem:
            raise damaged(path, problem)
        return {key: _read_npy(npz, key) for key in keys}


def _npy_shape(npz: zipfile.ZipFile, key: str, label: str, path: Path) -> tuple[int, ...]:
    """One array's shape from its header, after refusing objects, an unexpected dtype or an implausible shape."""
    fmt = np.lib.format
    with npz.open(f"{key}.npy") as f:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise damaged(path, f"array '{key}' has an unknown .npy version {version}")
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = header(f)
    if dtype.hasobject:
        raise InvalidInputError(
            f"'{path.name}' was refused: its array '{label}' holds Python objects, which would need unpickling; "
            "Landscape Studio never loads pickles from a project."
        )
    uint8 = key in (*IMAGE_ARRAYS, "mask", "fill_mask") or fill_layers.is_fill_key(key)
    expected = np.dtype(np.uint8 if uint8 else np.float32)
    if dtype != expected or not _array_ok(key, tuple(shape)):
        raise damaged(path, f"array '{label}' is {dtype} of shape {tuple(shape)}, not a plausible {expected} array")
    return tuple(shape)


def _read_npy(npz: zipfile.ZipFile, key: str) -> np.ndarray:
    """One array whose header ``_npy_shape`` accepted (read without pickles), read-only."""
    with npz.open(f"{key}.npy") as f:
        array = np.lib.format.read_array(f, allow_pickle=False)
    array.setflags(write=False)  # the Document keeps read-only arrays as they are (no second copy of a mask)
    return array


def _alignment(entry: Any) -> Alignment | None:
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise InvalidInputError("its face alignment is not a dict")
    return Alignment.from_dict(entry)


def _document(manifest: dict[str, Any], arrays: dict[str, np.ndarray], embedded: bytes | None,
              photo_path: Path | None) -> Document:
    inversion = manifest["inversion"]
    if inversion:
        try:
            InversionConfig.from_dict(inversion).validate()
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # e.g. a loss entry not a dict
            raise InvalidInputError(f"its inversion settings are not valid ({exc})") from exc
    edits = tuple(
        EditedDirection(e.get("name"), arrays[f"edit_{i}"], e.get("scale"), e.get("alpha"), e.get("layers"),
                        e.get("method", ""))
        for i, e in enumerate(manifest["edits"])
    )
    field = _untrusted(manifest)  # Document checks every value's type and range itself
    return Document(
        photo_path=photo_path, photo_sha256=manifest["photo"]["sha256"], crop=CropBox.from_dict(manifest["crop"]),
        model_id=field("model_id"), space=field("space"), embedded_photo=embedded,
        mask=arrays.get("mask"), inversion=inversion, latents=arrays.get("latents"),
        best_index=field("best_index"), image=arrays.get("image"), edits=edits,
        edited_image=arrays.get("edited_image"), fill_mask=arrays.get("fill_mask"), feather=field("feather"),
        tuning=tuned_weights.tuning(manifest["tuning"], arrays), created=field("created"),
        alignment=_alignment(manifest.get("alignment")), fills=fill_layers.fills(manifest["fills"], arrays),
        composite=field("composite"), reference=arrays.get("reference"), app_version=field("app_version"),
    )


def _untrusted(manifest: dict[str, Any]) -> Callable[[str], Any]:
    """A reader of the manifest's fields as they are (None when missing): values from a file, of any type."""
    def field(key: str) -> Any:
        return manifest.get(key)

    return field
