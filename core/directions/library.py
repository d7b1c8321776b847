"""Named latent directions and the folder that keeps them (``library.json`` + one ``.npy`` per direction).

A direction is a unit vector in one latent space of one model. Its slider value α is in *std units*: an edit
moves the latent by α · ``scale`` along the vector, where ``scale`` is the spread of the model's own latents
along it, so α = 3 means "as far as a rare face goes" in every space (z, w or w+) and for every method.

The folder is safe to load: JSON and ``.npy`` only, read with ``allow_pickle=False``; every problem with it
becomes an :class:`InvalidInputError` that names the file and says what to do. The editor's own library in the user
data folder is opened with :func:`load_user_library`, which never stops on a damaged one: it is moved aside.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidInputError
from core.generators import DEFAULT_MODEL, Generator
from core.imageio import atomic_write_bytes
from core.npy_files import read_npy
from core.resources import resources_dir, set_aside

SCHEMA_VERSION = 1
INDEX = "library.json"
DEFAULT_RANGE = (-3.0, 3.0)  # slider range in std units
# Edits that pull the latent toward a point rather than along a vector: ``vector`` holds the point (an anchor) and
# α ∈ [0, 1] is how far the latent moves toward it (core.directions.style: truncation, style mixing).
ANCHORED_METHODS = ("truncation", "style-mix")
ANCHOR_RANGE = (0.0, 1.0)
UNIT_TOLERANCE = 1e-4  # a stored vector this close to unit length is kept bit for bit
MAX_INDEX_BYTES = 16 << 20  # a library.json of thousands of directions is a few MiB; more is not ours
MAX_VECTOR_VALUES = 1 << 24  # per vector: far above any latent space (StyleGAN2 w+ at 1024 px is 9216)
PARSE_ERRORS = (KeyError, TypeError, ValueError, OverflowError, RecursionError)  # what hostile JSON values raise


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays field by field is ambiguous
class Direction:
    """One named edit: a unit vector in ``space`` of model ``model_id``; α is in std units (see module doc)."""

    name: str
    vector: np.ndarray  # float32 [*shape] of the space, or [w_dim] for a per-layer space; unit norm, read-only
    space: str  # "z", "w", "w+"
    model_id: str  # the generator it was made for
    method: str  # "pca" | "sefa" | "supervised" | "two-photos" | "imported" | …
    scale: float = 1.0  # std of the model's latents along ``vector``
    value_range: tuple[float, float] = DEFAULT_RANGE  # slider range in std units
    layers: tuple[int, int] | None = None  # half-open W+ layer range it applies to; None = all layers
    provenance: dict[str, Any] = field(default_factory=dict)  # how it was made (JSON values only)
    # a project's own record of an edit, used exactly as saved (see ``recorded_direction``); never kept in a library
    recorded: bool = False

    @property
    def anchored(self) -> bool:
        """A pull toward the point ``vector`` (truncation, style mixing), not a step along it."""
        return self.method in ANCHORED_METHODS

    def __post_init__(self) -> None:
        if self.recorded or self.anchored:
            if not isinstance(self.name, str) or not self.name.strip():
                raise InvalidInputError("A direction recorded in a project has an empty name.")
            object.__setattr__(self, "vector", _finite_vector(self.vector, self.name))
        else:
            _check_name(self.name)
            object.__setattr__(self, "vector", _unit_vector(self.vector, self.name))
        scale = float(self.scale)
        if not math.isfinite(scale) or (scale <= 0 and not self.recorded):
            raise InvalidInputError(f"Direction '{self.name}': the scale must be a positive number (got {scale}).")
        object.__setattr__(self, "scale", scale)
        lo, hi = (float(v) for v in self.value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise InvalidInputError(f"Direction '{self.name}': the range must be two numbers, low < high.")
        object.__setattr__(self, "value_range", (lo, hi))
        if self.layers is not None:
            start, stop = (int(v) for v in self.layers)
            if not 0 <= start < stop:
                raise InvalidInputError(f"Direction '{self.name}': layers must be a range start < stop, start ≥ 0.")
            object.__setattr__(self, "layers", (start, stop))
        object.__setattr__(self, "provenance", _jsonable(dict(self.provenance), self.name))

    def replace(self, **changes: Any) -> Direction:
        """A copy with some fields changed (the vector is re-checked)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field except the vector (which lives in its own ``.npy``), as JSON values."""
        return {"name": self.name, "space": self.space, "model_id": self.model_id, "method": self.method,
                "scale": self.scale, "value_range": list(self.value_range),
                "layers": None if self.layers is None else list(self.layers), "provenance": self.provenance,
                "shape": list(self.vector.shape)}

    @classmethod
    def from_dict(cls, d: dict[str, Any], vector: np.ndarray) -> Direction:
        try:
            layers = d.get("layers")
            return cls(name=d["name"], vector=vector, space=str(d["space"]), model_id=str(d["model_id"]),
                       method=str(d["method"]), scale=d["scale"], value_range=tuple(d["value_range"]),
                       layers=None if layers is None else tuple(layers), provenance=d.get("provenance") or {})
        except PARSE_ERRORS as exc:  # e.g. a number too large for a float, provenance nested too deep
            raise InvalidInputError(f"A direction entry is incomplete or malformed ({_short(exc)}).") from exc


class DirectionLibrary:
    """An ordered set of uniquely named directions; ``load``/``save`` a folder (see module doc)."""

    def __init__(self, directions: list[Direction] | tuple[Direction, ...] = ()) -> None:
        self._items: dict[str, Direction] = {}
        for direction in directions:
            self.add(direction)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Direction]:
        return iter(list(self._items.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        """Names in library order (the order they were added)."""
        return list(self._items)

    def get(self, name: str) -> Direction:
        if name not in self._items:
            known = ", ".join(self._items) or "none"
            raise InvalidInputError(f"There is no direction named '{name}' (known: {known}).")
        return self._items[name]

    def add(self, direction: Direction) -> None:
        """Add ``direction`` at the end; a project's recorded one is checked as any library direction first."""
        if direction.recorded:
            direction = direction.replace(recorded=False, provenance={**direction.provenance, "recorded": True})
        if direction.name in self._items:
            raise InvalidInputError(f"A direction named '{direction.name}' already exists; choose another name.")
        self._items[direction.name] = direction

    def rename(self, old: str, new: str) -> None:
        """Give ``old`` the name ``new`` in place (its position in the order is kept)."""
        renamed = self.get(old).replace(name=new)
        if new != old and new in self._items:
            raise InvalidInputError(f"A direction named '{new}' already exists; choose another name.")
        self._items = {(new if k == old else k): (renamed if k == old else v) for k, v in self._items.items()}

    def remove(self, name: str) -> Direction:
        self.get(name)
        return self._items.pop(name)

    def save(self, folder: str | Path) -> Path:
        """Write the folder: every vector first, then ``library.json`` (atomic), then drop vectors no longer used."""
        folder = Path(folder).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"Cannot create the library folder '{folder}' ({exc.strerror}).") from exc
        old_files = _indexed_files(folder)
        entries: list[dict[str, Any]] = []
        used: set[str] = set()
        for direction in self._items.values():
            file = _unique_slug(direction.name, used) + ".npy"
            buffer = io.BytesIO()
            np.save(buffer, direction.vector, allow_pickle=False)
            atomic_write_bytes(folder / file, buffer.getvalue())
            entries.append({**direction.to_dict(), "file": file})
        index = {"schema_version": SCHEMA_VERSION, "directions": entries}
        atomic_write_bytes(folder / INDEX, (json.dumps(index, indent=2) + "\n").encode())
        for stale in old_files - used:
            (folder / stale).unlink(missing_ok=True)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> DirectionLibrary:
        folder = Path(folder).expanduser()
        index = _read_index(folder)
        library = cls()
        for entry in index["directions"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                raise InvalidInputError(f"'{folder / INDEX}' has an entry without a vector file: {entry!r:.200}")
            vector = load_vector(_inside(folder, entry["file"]), allow_batch=False)
            shape = entry.get("shape")
            if shape is not None and (not isinstance(shape, list) or tuple(shape) != vector.shape):
                raise InvalidInputError(
                    f"'{entry['file']}' holds a vector of shape {vector.shape} but '{INDEX}' says {shape!r:.40}; "
                    "the library is damaged: remove that direction or restore the file.")
            library.add(Direction.from_dict(entry, vector))
        return library


def load_user_library(folder: str | Path, *, fallback: str | Path | None) -> tuple[DirectionLibrary, str | None]:
    """The user's own library in ``folder``, else the ``fallback`` one (the shipped directions) or an empty one.

    Nothing is written here: the user's folder is made the first time the user changes the library. A damaged
    user library must never stop the editor from starting, so it is moved aside whole (``<folder>.damaged-<time>``,
    its files kept as they were) and the fallback is used; the second value is then a message naming the damaged
    file and where it went (None otherwise).
    """
    folder = Path(folder).expanduser()
    problem = None
    if folder.exists() or folder.is_symlink():
        try:
            return DirectionLibrary.load(folder), None
        except InvalidInputError as exc:
            try:
                where = f"it was moved to '{set_aside(folder)}'"
            except OSError as move:
                where = f"it could not be moved aside ({move.strerror or move}); move or delete it yourself"
            problem = (f"Your direction library '{folder / INDEX}' is damaged and was not loaded: {exc} "
                       f"{where}, and the standard directions are used instead.")
    fallback = None if fallback is None else Path(fallback)
    if fallback is None or not (fallback / INDEX).is_file():
        return DirectionLibrary(), problem
    return DirectionLibrary.load(fallback), problem


def recorded_direction(*, name: str, vector: np.ndarray, scale: float, space: str, model_id: str, method: str,
                       layers: tuple[int, int] | None = None, alpha: float = 0.0,
                       provenance: dict[str, Any] | None = None) -> Direction:
    """A direction exactly as a project recorded one of its edits, to show and apply but not to keep in a library.

    A project must reopen and save its edits unchanged, whatever the library would accept: the vector is used as
    it is (not made unit length, zero allowed), the scale may be any finite number and the name any text. Only
    values that cannot be computed with (NaN, wrong shapes) are refused. The slider range covers ``alpha``, so
    showing the edit never clamps its amount.
    """
    usual = ANCHOR_RANGE if method in ANCHORED_METHODS else DEFAULT_RANGE
    low, high = min(usual[0], alpha), max(usual[1], alpha)
    return Direction(name=name, vector=vector, space=space, model_id=model_id, method=method, scale=scale,
                     value_range=(low, high) if low < high else usual, layers=layers,
                     provenance=provenance or {}, recorded=True)


def shipped_library_dir(model_name: str) -> Path:
    """The directions bundled for a built-in model ("default" means the embedded DCGAN)."""
    return resources_dir() / "directions" / (DEFAULT_MODEL if model_name in ("", "default") else model_name)


def check_direction(direction: Direction, G: Generator) -> None:
    """Refuse a direction that cannot apply to ``G``: a space it lacks, a wrong dimension, layers out of range."""
    shape = G.space(direction.space).shape
    v = direction.vector.shape
    if v != shape and not (len(shape) == 2 and v == shape[1:]):
        raise InvalidInputError(
            f"Direction '{direction.name}' has shape {v}, but {G.name}'s space '{direction.space}' is {shape}; "
            "it was made for another model.")
    if direction.layers is not None and (len(shape) != 2 or direction.layers[1] > shape[0]):
        raise InvalidInputError(
            f"Direction '{direction.name}' edits layers {direction.layers}, which {G.name}'s space "
            f"'{direction.space}' {shape} does not have.")


def load_vector(path: str | Path, allow_batch: bool = True) -> np.ndarray:
    """A float32 vector from ``.npy`` (never unpickled; its header's size bounded before anything is allocated);
    [1, D] is accepted as [D] when ``allow_batch``."""
    array = read_npy(path, what="direction vector", max_bytes=MAX_VECTOR_VALUES * 8)
    name = Path(path).name
    if not np.issubdtype(array.dtype, np.floating):
        raise InvalidInputError(f"'{name}' must hold floating-point numbers (it holds {array.dtype}).")
    if allow_batch and array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim not in (1, 2) or array.size == 0:
        raise InvalidInputError(f"'{name}' holds an array of shape {array.shape}, not a latent direction.")
    if not np.isfinite(array).all():
        raise InvalidInputError(f"'{name}' contains NaN or infinite values; it cannot be a direction.")
    return array.astype(np.float32, copy=False)


def refusal(exc: ValueError) -> str:
    """Why numpy refused a file, in words: pickles are never loaded; anything else is damage."""
    if "pickle" in str(exc) or "Python objects" in str(exc):
        return "it is not a plain numeric array file (it would need unpickling, which is never done)"
    return f"it is damaged ({_short(exc)})"


def _short(exc: BaseException) -> str:
    """An exception in a few words: a message to a person, never a hostile file's whole content."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _unit_vector(vector: Any, name: str) -> np.ndarray:
    v = np.array(vector, dtype=np.float32)  # a private copy
    if v.ndim not in (1, 2) or v.size == 0:
        raise InvalidInputError(f"Direction '{name}' must be a 1-D or 2-D vector, got shape {v.shape}.")
    if not np.isfinite(v).all():
        raise InvalidInputError(f"Direction '{name}' contains NaN or infinite values.")
    norm = float(np.linalg.norm(v.astype(np.float64)))
    if norm < 1e-12:
        raise InvalidInputError(f"Direction '{name}' is the zero vector; it points nowhere.")
    if abs(norm - 1.0) > UNIT_TOLERANCE:
        v = (v.astype(np.float64) / norm).astype(np.float32)
    v.setflags(write=False)
    return v


def _finite_vector(vector: Any, name: str) -> np.ndarray:
    """A read-only float32 copy of a recorded vector, exactly as it is (any length, zero allowed)."""
    v = np.array(vector, dtype=np.float32)
    if v.ndim not in (1, 2) or v.size == 0:
        raise InvalidInputError(f"Direction '{name[:100]}' must be a 1-D or 2-D vector, got shape {v.shape}.")
    if not np.isfinite(v).all():
        raise InvalidInputError(f"Direction '{name[:100]}' contains NaN or infinite values.")
    v.setflags(write=False)
    return v


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > 100 or "\n" in name:
        raise InvalidInputError(f"{name!r} is not a usable direction name: use 1–100 characters, no outer spaces.")


def _jsonable(value: Any, name: str) -> Any:
    """Provenance as plain JSON values (numpy scalars and arrays become numbers and lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, name) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), name)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise InvalidInputError(f"Direction '{name}': provenance value {value!r:.80} is not a JSON value.")


def _unique_slug(name: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "direction"
    slug, n = base, 2
    while slug + ".npy" in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug + ".npy")
    return slug


def _inside(folder: Path, file: str) -> Path:
    if Path(file).name != file or file in ("", ".", ".."):
        raise InvalidInputError(f"'{folder / INDEX}' names the vector file {file!r}, which is outside the library.")
    return folder / file


def _read_index(folder: Path) -> dict[str, Any]:
    path = folder / INDEX
    if not path.is_file():
        raise InvalidInputError(f"There is no direction library at '{folder}' (no {INDEX}); check the folder.")
    try:
        if path.stat().st_size > MAX_INDEX_BYTES:
            raise ValueError(f"it is larger than the {MAX_INDEX_BYTES >> 20} MiB an index may be")
        index = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: JSONDecodeError and UnicodeDecodeError too
        raise InvalidInputError(f"'{path}' is damaged and cannot be read ({_short(exc)}); restore it from a "
                                "copy.") from exc
    if not isinstance(index, dict) or not isinstance(index.get("directions"), list):
        raise InvalidInputError(f"'{path}' is not a direction library index; restore it from a copy.")
    if index.get("schema_version") != SCHEMA_VERSION:
        raise InvalidInputError(
            f"'{path}' has schema version {index.get('schema_version')!r}; this version reads {SCHEMA_VERSION}.")
    return index


def _indexed_files(folder: Path) -> set[str]:
    """Vector files the folder's current index names (so save can drop the ones no longer used)."""
    try:
        entries = _read_index(folder)["directions"]
    except InvalidInputError:
        return set()
    return {e["file"] for e in entries if isinstance(e, dict) and isinstance(e.get("file"), str)
            and Path(e["file"]).name == e["file"] and e["file"].endswith(".npy")}
