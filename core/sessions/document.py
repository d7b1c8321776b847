"""The editable document: everything needed to reopen an edit exactly as it was left, and to export it again.

A ``Document`` is frozen and self-contained: it keeps the adopted reconstruction's pixels (so reopening pastes the
same bytes without re-running the generator), a copy of every direction it used (so a project still opens
after the user's direction library changed) and, after a "pivotal" inversion, the generator's tuning for this
photo as a weight delta (the latent only reproduces the image through those weights). Arrays are stored
read-only; change a document with ``with_changes``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core import __version__
from core.alignment import Alignment
from core.directions.library import ANCHORED_METHODS
from core.errors import InvalidInputError
from core.generators.tuning import WeightDelta
from core.imageio import CropBox, Photo
from core.placement import DEFAULT_COMPOSITE, MAX_FEATHER, Placement, check_composite_mode
from core.sessions.fill_layers import Fill, stack

if TYPE_CHECKING:
    from core.inversion import InversionResult

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of a photo file's bytes: how a project recognises "the same photo" (not its decoded pixels)."""
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _frozen_array(value: Any, what: str, dtype: type[np.generic], ndim: tuple[int, ...]) -> np.ndarray:
    """``value`` as a read-only array of ``dtype`` (floats are converted, ints/bytes are not), shape checked.

    A read-only array of the right dtype is kept as is, so ``with_changes`` does not copy a photo-sized mask again.
    """
    if not isinstance(value, np.ndarray):
        raise InvalidInputError(f"The document's {what} must be a numpy array, got {type(value).__name__}.")
    if dtype is np.float32 and np.issubdtype(value.dtype, np.floating):
        array = value if value.dtype == np.float32 and not value.flags.writeable else value.astype(np.float32)
        if not np.isfinite(array).all():
            raise InvalidInputError(f"The document's {what} contains NaN or infinite values.")
    elif dtype is np.uint8 and value.dtype == np.bool_:
        array = value.astype(np.uint8) * np.uint8(255)  # a boolean mask: True = masked = 255
    elif value.dtype == dtype:
        array = value if not value.flags.writeable else value.copy()
    else:
        raise InvalidInputError(f"The document's {what} must be {np.dtype(dtype).name}, got {value.dtype}.")
    if array.ndim not in ndim or 0 in array.shape:
        axes = " or ".join(map(str, ndim))
        raise InvalidInputError(f"The document's {what} has shape {array.shape}; expected {axes} non-empty axes.")
    if array.flags.writeable:
        array = np.ascontiguousarray(array)
        array.setflags(write=False)
    return array


def _finite(value: Any, what: str) -> float:
    try:  # an int too large for a float overflows here: it is no finite number either
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:
        finite = False
    if not finite:
        raise InvalidInputError(f"The {what} must be a finite number (got {repr(value)[:40]}).")
    return float(value)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"The {what} must be text (got {type(value).__name__}).")
    return value


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays field by field is ambiguous
class EditedDirection:
    """One latent edit as it was applied: a self-contained copy of the direction, its step and the slider value."""

    name: str  # the direction's name in the library when it was used
    vector: np.ndarray  # float32 [D]: the direction itself (a copy; the library may change later)
    scale: float  # the direction's own step in latent units (e.g. the std along it), so alpha reads in steps
    alpha: float  # the slider value: the latent moves by alpha · scale · vector
    layers: tuple[int, int] | None = None  # rows [start, stop) of a per-layer latent (w+) it acts on; None = all
    method: str = ""  # how the direction was found ("pca", "sefa", "linear", …), for the record

    def __post_init__(self) -> None:
        if not _text(self.name, "direction name").strip():
            raise InvalidInputError("A direction in the document has an empty name.")
        # [D]; a style mix's point may be a whole per-layer code [num_ws, D]
        ndim = (1, 2) if self.method in ANCHORED_METHODS else (1,)
        object.__setattr__(self, "vector", _frozen_array(self.vector, f"direction '{self.name}'", np.float32, ndim))
        object.__setattr__(self, "scale", _finite(self.scale, f"scale of direction '{self.name}'"))
        object.__setattr__(self, "alpha", _finite(self.alpha, f"strength of direction '{self.name}'"))
        _text(self.method, f"method of direction '{self.name}'")
        if self.layers is not None:
            start, stop = self.layers if isinstance(self.layers, tuple | list) and len(self.layers) == 2 else (0, 0)
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop)) or not 0 <= start < stop:
                raise InvalidInputError(
                    f"The layer range of direction '{self.name}' must be two whole numbers 0 ≤ start < stop "
                    f"(got {self.layers!r})."
                )
            object.__setattr__(self, "layers", (start, stop))

    def with_changes(self, **changes: Any) -> EditedDirection:
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Document:
    """The whole editable state of one photo: source, crop, mask, inversion, latents, edits and the adopted pixels.

    Either ``photo_path`` or ``embedded_photo`` (or both) says where the photo comes from; ``photo_sha256`` (of the
    file's bytes) proves on reopening that it is the same photo.
    """

    photo_path: Path | None  # where the photo was opened from (absolute after loading)
    photo_sha256: str  # hex SHA-256 of the photo file's bytes
    crop: CropBox  # the square given to the model, in photo pixels
    model_id: str = ""  # the generator's id (name + weights hash); "" before any inversion
    space: str = ""  # the latent space of ``latents`` ("z", "w", "w+")
    embedded_photo: bytes | None = None  # the photo file's own bytes when the user chose to embed it
    mask: np.ndarray | None = None  # uint8 [H, W], photo-sized: 255 = masked (ignored by the loss), 0 = kept
    inversion: dict[str, Any] = field(default_factory=dict)  # InversionConfig.to_dict() of the run
    latents: np.ndarray | None = None  # float32 [K, *shape]: the best latent of each start
    best_index: int = 0  # the start that was adopted
    image: np.ndarray | None = None  # uint8 [R, R, 3]: the adopted reconstruction, exactly as pasted
    edits: tuple[EditedDirection, ...] = ()  # the directions applied to the adopted latent, in order
    edited_image: np.ndarray | None = None  # uint8 [R, R, 3]: the generator's image of ``edited_latent()``
    fill_mask: np.ndarray | None = None  # uint8 [H, W]: an inpainting result fills only these pixels (None: crop)
    tuning: WeightDelta | None = None  # the generator copy tuned for this photo ("pivotal"); None: the model itself
    feather: float = 0.08  # paste-back fall-off as a fraction of the crop's side (0 … 0.5)
    alignment: Alignment | None = None  # the aligned face square given to the model instead of ``crop`` (None: crop)
    fills: tuple[Fill, ...] = ()  # inpainting fills stacked over the result, in the order they were applied
    composite: str = DEFAULT_COMPOSITE  # "detail": results add their change to the photo; "replace": pasted over it
    reference: np.ndarray | None = None  # uint8 [R, R, 3]: the model's image of the photo as it is, when not ``image``
    created: str = field(default_factory=_now)  # ISO-8601 UTC time the document was started
    app_version: str = __version__  # the Landscape Studio that started it

    def __post_init__(self) -> None:
        self._check_source()
        if not isinstance(self.crop, CropBox):
            raise InvalidInputError(f"The document's crop must be a CropBox (got {type(self.crop).__name__}).")
        for name in ("model_id", "space", "created", "app_version"):
            _text(getattr(self, name), name.replace("_", " "))
        if not isinstance(self.inversion, dict):
            raise InvalidInputError("The document's inversion settings must be a dict (InversionConfig.to_dict()).")
        object.__setattr__(self, "inversion", copy.deepcopy(self.inversion))
        object.__setattr__(self, "feather", _finite(self.feather, "feather"))
        if not 0.0 <= self.feather <= MAX_FEATHER:
            raise InvalidInputError(f"The feather must be between 0 and {MAX_FEATHER} (got {self.feather}).")
        if self.alignment is not None and not isinstance(self.alignment, Alignment):
            raise InvalidInputError(f"The document's alignment must be an Alignment (got "
                                    f"{type(self.alignment).__name__}).")
        check_composite_mode(self.composite)
        self._check_arrays()
        object.__setattr__(self, "fills", tuple(self.fills))
        if not all(isinstance(fill, Fill) for fill in self.fills):
            raise InvalidInputError("The document's fills must be Fill values.")
        self._check_edits()
        self._check_tuning()

    def _check_source(self) -> None:
        if self.photo_path is not None:
            object.__setattr__(self, "photo_path", Path(self.photo_path))
        if self.embedded_photo is not None and not isinstance(self.embedded_photo, bytes):
            raise InvalidInputError("The embedded photo must be the photo file's bytes.")
        if self.photo_path is None and not self.embedded_photo:
            raise InvalidInputError("A document needs the photo's path or an embedded copy of the photo.")
        if not isinstance(self.photo_sha256, str) or not SHA256_PATTERN.fullmatch(self.photo_sha256):
            raise InvalidInputError(f"The photo's SHA-256 must be 64 lowercase hex digits (got {self.photo_sha256!r}).")

    def _check_arrays(self) -> None:
        arrays: list[tuple[str, type[np.generic], tuple[int, ...]]] = [
            ("mask", np.uint8, (2,)), ("fill_mask", np.uint8, (2,)), ("latents", np.float32, (2, 3, 4)),
            ("image", np.uint8, (3,)), ("edited_image", np.uint8, (3,)), ("reference", np.uint8, (3,))]
        for name, dtype, ndim in arrays:
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _frozen_array(getattr(self, name), name, dtype, ndim))
        for name in ("image", "edited_image"):
            image = getattr(self, name)
            if image is not None and (image.shape[0] != image.shape[1] or image.shape[2] != 3):
                raise InvalidInputError(f"The document's {name} must be square RGB [R, R, 3] (got {image.shape}).")
        for name in ("edited_image", "reference"):
            image = getattr(self, name)
            if image is not None and (self.image is None or image.shape != self.image.shape):
                raise InvalidInputError(f"The {name.replace('_', ' ')} needs the adopted image, at the same size.")
        count = 0 if self.latents is None else self.latents.shape[0]
        if isinstance(self.best_index, bool) or not isinstance(self.best_index, int):
            raise InvalidInputError(f"The best start must be a whole number (got {self.best_index!r}).")
        if not (0 <= self.best_index < count or (count == 0 and self.best_index == 0)):
            raise InvalidInputError(f"The best start {self.best_index} is not one of the {count} saved latents.")

    def _check_edits(self) -> None:
        object.__setattr__(self, "edits", tuple(self.edits))
        for edit in self.edits:
            if not isinstance(edit, EditedDirection):
                raise InvalidInputError(f"Document edits must be EditedDirection values (got {type(edit).__name__}).")
        if not self.edits:
            return
        names = [edit.name for edit in self.edits]
        twice = next((name for name in names if names.count(name) > 1), None)
        if twice is not None:  # the editor shows one slider per name, so a second edit of a name would be lost
            raise InvalidInputError(f"The document lists the edit '{twice[:100]}' twice; each direction is applied "
                                    "once, with one amount.")
        if self.latents is None:
            raise InvalidInputError("The document has edits but no latent to apply them to.")
        for edit in self.edits:
            _rows_for(edit, self.latents.shape[1:])

    def _check_tuning(self) -> None:
        """A tuning belongs to the document's model and latent; its arrays are kept as read-only float32 copies."""
        tuning = self.tuning
        if tuning is None:
            return
        if not isinstance(tuning, WeightDelta):
            raise InvalidInputError(f"The document's tuning must be a WeightDelta (got {type(tuning).__name__}).")
        if _text(tuning.base_model_id, "tuned weights' model id") != self.model_id:
            raise InvalidInputError(f"The tuned weights were made for the model '{tuning.base_model_id}', but the "
                                    f"document's model is '{self.model_id or 'none'}'.")
        if self.latents is None:
            raise InvalidInputError("The document has tuned weights but no latent they were tuned for.")
        if not isinstance(tuning.delta, dict) or not isinstance(tuning.info, dict):
            raise InvalidInputError("The tuned weights must be a dict of arrays with a dict of info.")
        delta = {}
        for name, change in tuning.delta.items():
            if not isinstance(name, str) or not name:
                raise InvalidInputError(f"A tuned weight's name must be non-empty text (got {name!r}).")
            if not isinstance(change, np.ndarray) or change.dtype != np.float32:
                kind = change.dtype if isinstance(change, np.ndarray) else f"{type(change).__name__}, not an array"
                raise InvalidInputError(f"The tuned weight '{name}' must be a float32 array (got {kind}).")
            delta[name] = _frozen_array(change, f"tuned weight '{name}'", np.float32, (1, 2, 3, 4))
        try:  # checked now, so that saving the document cannot fail on it later
            json.dumps(tuning.info, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"The tuned weights' info is not plain JSON ({exc}).") from exc
        object.__setattr__(self, "tuning", WeightDelta(tuning.base_model_id, delta, copy.deepcopy(tuning.info)))

    # -- helpers -----------------------------------------------------------------------------------------------
    @classmethod
    def for_photo(cls, path: str | Path, crop: CropBox, embed: bool = False, **fields: Any) -> Document:
        """A new document for the photo file at ``path`` (hashed now; its bytes kept when ``embed``)."""
        path = Path(path).expanduser().resolve()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"The photo '{path}' could not be read ({exc.strerror or exc}).") from exc
        return cls(path, sha256_hex(data), crop, embedded_photo=data if embed else None, **fields)

    def with_changes(self, **changes: Any) -> Document:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def with_result(self, result: InversionResult) -> Document:
        """Adopt an inversion result: its latents, best start, image and tuning; edits start again from zero."""
        return self.with_changes(model_id=result.model_id, space=result.space, inversion=result.config.to_dict(),
                                 latents=result.latents, best_index=result.best_index, image=result.best_image,
                                 edits=(), edited_image=None, tuning=result.tuning, reference=None)

    @property
    def best_latent(self) -> np.ndarray | None:
        return None if self.latents is None else self.latents[self.best_index]  # [*shape]

    @property
    def result_reference(self) -> np.ndarray | None:
        """What the result's change is measured from under the "detail" composite: the model's image of the photo
        as it is — ``reference`` when one was kept (a restoration: its square as degraded), else the adopted image.
        None under "replace", and for an older inpainting result (``fill_mask``), which always replaced."""
        if self.composite == "replace" or self.fill_mask is not None:
            return None
        return self.reference if self.reference is not None else self.image

    @property
    def result_image(self) -> np.ndarray | None:
        """What is pasted into the photo: the edited image when there is one, else the adopted reconstruction."""
        return self.edited_image if self.edited_image is not None else self.image

    def edited_latent(self) -> np.ndarray:
        """The adopted latent moved along every edit: x + Σ alpha · scale · vector (on its layer rows), float32."""
        if self.latents is None:
            raise InvalidInputError("There is no latent to edit: run an inversion first.")
        latent = self.latents[self.best_index].copy()  # [*shape]
        for edit in self.edits:  # steps first, then pulls toward a point (core.directions.apply_directions's order)
            if edit.method not in ANCHORED_METHODS:
                latent[_rows_for(edit, latent.shape)] += np.float32(edit.alpha * edit.scale) * edit.vector
        for edit in self.edits:
            if edit.method in ANCHORED_METHODS:
                rows = _rows_for(edit, latent.shape)
                anchor = edit.vector[rows] if edit.vector.ndim == 2 and edit.layers is not None else edit.vector
                latent[rows] += np.float32(edit.alpha) * (anchor - latent[rows])
        return latent

    def check_photo(self, photo: Photo) -> None:
        """Refuse a photo the crop or mask does not fit (they are in that photo's pixels)."""
        self.crop.validate(photo.width, photo.height)
        masks = [(name.replace("_", " "), getattr(self, name)) for name in ("mask", "fill_mask")]
        masks += [(f"mask of fill {i + 1}", fill.mask) for i, fill in enumerate(self.fills)]
        for what, mask in masks:
            if mask is not None and mask.shape != (photo.height, photo.width):
                raise InvalidInputError(f"The {what} is {mask.shape[1]}x{mask.shape[0]} but the "
                                        f"photo is {photo.width}x{photo.height}.")

    @property
    def placement(self) -> Placement:
        """Where the model's square lies: the aligned face square when the document has one, else the crop."""
        return Placement(self.crop, self.alignment)

    def composited(self, photo_pixels: np.ndarray) -> np.ndarray:
        """uint8 [H, W, 3]: the photo with ``result_image`` composited through :attr:`placement` — what export
        writes, with the fills stacked on top in order. An inpainting result of an older project (``fill_mask``)
        fills only its masked pixels; without a result or fills this is a copy of the photo. The brush mask is not
        applied: it steers the inversion's loss, not the paste. ``composite`` says how results enter the photo."""
        image = self.result_image
        if image is None:
            pixels = np.array(photo_pixels, copy=True)
        else:
            pixels = self.placement.composite(photo_pixels, image, fill_mask=self.fill_mask, feather=self.feather,
                                              reference=self.result_reference)
        return stack(pixels, self.fills, detail=self.composite == "detail")


def _rows_for(edit: EditedDirection, shape: tuple[int, ...]) -> tuple[slice, ...] | slice:
    """Index of the latent entries an edit moves: all of a [D] latent, or its layer rows of a [num_ws, D] one."""
    if edit.vector.shape[-1] != shape[-1]:
        raise InvalidInputError(
            f"Direction '{edit.name}' has {edit.vector.shape[-1]} dimensions but the latent has {shape[-1]}; "
            "it belongs to another model or space."
        )
    if edit.layers is None:
        return slice(None)
    if len(shape) < 2 or edit.layers[1] > shape[0]:
        raise InvalidInputError(
            f"Direction '{edit.name}' acts on layers {edit.layers[0]}–{edit.layers[1] - 1}, but the latent "
            f"{shape} has {shape[0] if len(shape) > 1 else 'no'} layers."
        )
    return slice(*edit.layers)
