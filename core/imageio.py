"""Open any photo safely, make it upright 8-bit RGB, crop and resize it for the model, and save results atomically.

Photos stay at full resolution as uint8 [H, W, 3]; only the square crop fed to the model is resized, so the
edit can be pasted back without losing detail. Every failure becomes an ``ImageLoadError``/``ImageSaveError``
whose message a person can act on.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.atomic_files import atomic_write_bytes  # re-exported: the savers' one rule
from core.errors import ImageLoadError, ImageSaveError, InvalidInputError

log = logging.getLogger(__name__)

MAX_PIXELS: int = 200_000_000  # photos above this are refused as decompression bombs
# Pillow refuses images above 2 × MAX_IMAGE_PIXELS on its own (179 MP by default), which refused photos under our
# limit with our message. Its warning limit is set to ours (its hard limit is then twice ours), so our own check,
# which names the photo's size, decides; Pillow's stays as the outer guard wherever else an image is opened.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ORIENTATION = 0x0112  # EXIF tag
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays field by field is ambiguous
class Photo:
    """A decoded photo, upright, in 8-bit RGB at full resolution; ``pixels`` is read-only (copy to edit)."""

    pixels: np.ndarray  # uint8 [H, W, 3], EXIF orientation applied
    exif: bytes | None  # source EXIF with Orientation reset to 1 (pixels are already upright), for saving
    source: Path | None
    original_mode: str  # Pillow mode before conversion ("I;16", "CMYK", "P", …)
    notes: tuple[str, ...] = ()  # what was done to make it RGB, in plain words

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class CropBox:
    """A square region of the photo in full-resolution pixel coordinates (top-left corner and side)."""

    x: int
    y: int
    size: int

    @classmethod
    def centered(cls, width: int, height: int) -> CropBox:
        """The largest square centred in a ``width`` x ``height`` photo (the default framing)."""
        if width < 1 or height < 1:
            raise InvalidInputError(f"A {width}x{height} photo has no pixels to crop; open a different photo.")
        size = min(width, height)
        return cls((width - size) // 2, (height - size) // 2, size)

    @classmethod
    def parse(cls, text: str) -> CropBox:
        """``"X,Y,SIZE"`` in pixels, as typed after ``--crop``."""
        try:
            x, y, size = (int(part.strip()) for part in text.split(","))
        except ValueError as exc:
            raise InvalidInputError(
                f"Crop '{text}' is not valid; write it as X,Y,SIZE in whole pixels, e.g. 100,50,512."
            ) from exc
        return cls(x, y, size)

    def validate(self, width: int, height: int) -> None:
        """Refuse a box that is empty or reaches outside a ``width`` x ``height`` photo."""
        if self.size < 1:
            raise InvalidInputError(f"The crop size must be at least 1 pixel (got {self.size}); choose a larger crop.")
        if self.x < 0 or self.y < 0 or self.x + self.size > width or self.y + self.size > height:
            raise InvalidInputError(
                f"The crop {self.x},{self.y},{self.size} does not fit inside the {width}x{height} photo; "
                "move or shrink it so the whole square is on the photo."
            )

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "size": self.size}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CropBox:
        try:
            values = [d[key] for key in ("x", "y", "size")]
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(f"The saved crop {d!r} is incomplete; reset the crop and set it again.") from exc
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise InvalidInputError(f"The saved crop {d!r} is not whole pixels; reset the crop and set it again.")
        return cls(*values)


def load_photo(path: str | Path, max_pixels: int = MAX_PIXELS) -> Photo:
    """Decode any image Pillow can read into an upright uint8 RGB ``Photo`` (refusing bombs before decoding).

    ``max_pixels`` may lower the limit; Pillow's own guard still refuses anything over twice ``MAX_PIXELS``.
    """
    path = Path(path).expanduser()
    with _open_image(path, "photo", max_pixels) as im:
        mode = im.mode
        frames = _decode(im, path, "photo", max_pixels)
        exif, notes = _orient(im)
        pixels, converted = _to_rgb(im)
    if frames > 1:
        notes.insert(0, f"animated image with {frames} frames: only the first frame was used")
    notes += converted
    pixels.setflags(write=False)
    log.info("loaded %s: %dx%d, mode %s; %s", path, pixels.shape[1], pixels.shape[0], mode, "; ".join(notes) or "-")
    return Photo(pixels, exif, path, mode, tuple(notes))


def load_mask(path: str | Path, width: int, height: int) -> np.ndarray:
    """Mask image → float32 [H, W]: 1.0 where marked, 0.0 elsewhere.

    Marked means non-zero (any channel); when the file has real transparency, opaque-ish (alpha > 0) means marked,
    so strokes of any colour painted on a transparent layer count.
    """
    path = Path(path).expanduser()
    with _open_image(path, "mask", MAX_PIXELS) as im:
        _decode(im, path, "mask", MAX_PIXELS)
        _orient(im)
        if im.size != (width, height):
            raise InvalidInputError(
                f"The mask is {im.width}x{im.height} pixels but the photo is {width}x{height}; "
                "make the mask exactly the same size as the photo."
            )
        return _marked(im).astype(np.float32)


def crop_and_resize(pixels: np.ndarray, box: CropBox, resolution: int) -> np.ndarray:
    """The ``box`` region of uint8 [H, W, 3] pixels → uint8 [R, R, 3] (Lanczos, neighbours outside the box weigh in).

    Only the box plus the filter's reach is handed to Pillow, so a 200-megapixel photo is never copied whole.
    """
    _check_rgb(pixels)
    region, inner = _region_with_margin(pixels, box, resolution)
    out = Image.fromarray(np.ascontiguousarray(region)).resize(
        (resolution, resolution), Image.Resampling.LANCZOS, box=inner, reducing_gap=3.0
    )
    return np.asarray(out).copy()


def crop_and_resize_mask(mask: np.ndarray, box: CropBox, resolution: int) -> np.ndarray:
    """The ``box`` region of a float [H, W] mask → float32 [R, R] in [0, 1], each output pixel the marked fraction."""
    if mask.ndim != 2:
        raise InvalidInputError(f"A mask must be a 2-D array, got shape {mask.shape}; load it with load_mask.")
    _check_resolution(resolution)
    box.validate(mask.shape[1], mask.shape[0])
    region = np.ascontiguousarray(mask[box.y : box.y + box.size, box.x : box.x + box.size], dtype=np.float32)
    out = Image.fromarray(region).resize((resolution, resolution), Image.Resampling.BOX)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def display_pixels(photo: Photo, max_side: int = 4096) -> np.ndarray:
    """A copy no larger than ``max_side`` on its long side for the screen, or the photo's own pixels when small."""
    longest = max(photo.width, photo.height)
    if longest <= max_side:
        return photo.pixels
    scale = max_side / longest
    size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
    small = Image.fromarray(photo.pixels).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(small).copy()


def save_image(pixels: np.ndarray, path: str | Path, exif: bytes | None = None, quality: int = 95) -> Path:
    """Write uint8 [H, W, 3] as PNG or JPEG (chosen by suffix), keeping ``exif``; never leaves a half-written file."""
    path = Path(path).expanduser()
    atomic_write_bytes(path, encode_image(pixels, path.name, exif=exif, quality=quality))
    log.info("saved %s (%dx%d)", path, pixels.shape[1], pixels.shape[0])
    return path


def encode_image(pixels: np.ndarray, name: str, *, exif: bytes | None = None, quality: int = 95) -> bytes:
    """The bytes :func:`save_image` would write for a file called ``name`` (a Ray worker sends these to the driver,
    which alone writes the batch's folder)."""
    suffix = Path(name).suffix
    fmt = SAVE_FORMATS.get(suffix.lower())
    if fmt is None:
        raise ImageSaveError(
            f"Cannot save '{name}': '{suffix or 'no extension'}' is not supported; "
            "end the file name with .png, .jpg or .jpeg."
        )
    if not 1 <= quality <= 100:
        raise InvalidInputError(f"JPEG quality must be between 1 and 100 (got {quality}).")
    _check_rgb(pixels)
    options: dict[str, Any] = {"quality": quality} if fmt == "JPEG" else {}
    if exif:
        options["exif"] = exif
    buffer = io.BytesIO()
    try:
        Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format=fmt, **options)
    except (OSError, ValueError) as exc:
        raise ImageSaveError(
            f"Cannot save '{name}': the image could not be encoded as {fmt} ({exc}); try PNG instead."
        ) from exc
    return buffer.getvalue()


def _open_image(path: Path, what: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse missing, empty, unreadable or oversized files before any decoding."""
    if not path.exists():
        raise ImageLoadError(f"The {what} '{path}' does not exist; check the file name and folder.")
    if path.is_dir():
        raise ImageLoadError(f"'{path}' is a folder, not a {what}; choose an image file inside it.")
    try:
        if path.stat().st_size == 0:
            raise ImageLoadError(f"The {what} '{path.name}' is empty (0 bytes); it may not have finished copying.")
        with warnings.catch_warnings():
            # Pillow warns above ~89 MP; our own max_pixels check below is the limit that counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(_too_large(path, what, min(max_pixels, MAX_PIXELS))) from exc
    except PermissionError as exc:
        raise ImageLoadError(f"There is no permission to read '{path}'; check the file's permissions.") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(
            f"'{path.name}' is not an image this program recognises; save it as JPEG or PNG and try again."
        ) from exc
    except OSError as exc:
        raise ImageLoadError(f"The {what} '{path.name}' could not be read ({exc.strerror or exc}).") from exc
    except (ValueError, EOFError, MemoryError) as exc:  # e.g. a metadata chunk past Pillow's decompression limit
        raise ImageLoadError(f"The {what} '{path.name}' is damaged or its metadata is too large to read.") from exc
    if im.width * im.height > max_pixels:
        im.close()
        raise ImageLoadError(_too_large(path, what, max_pixels, im.size))
    return im


def _too_large(path: Path, what: str, max_pixels: int, size: tuple[int, int] | None = None) -> str:
    dims = f" ({size[0]}x{size[1]})" if size else ""
    limit = f"{max_pixels / 1e6:g} megapixels" if max_pixels >= 1_000_000 else f"{max_pixels} pixels"
    return (
        f"The {what} '{path.name}'{dims} is larger than {limit} and was refused to protect memory; "
        "shrink it in another editor first."
    )


def _decode(im: Image.Image, path: Path, what: str, max_pixels: int) -> int:
    """Force the full decode, so truncated or corrupt data fails here and not later; returns the frame count."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            frames = int(getattr(im, "n_frames", 1))
            im.load()
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(_too_large(path, what, min(max_pixels, MAX_PIXELS))) from exc
    except MemoryError as exc:
        raise ImageLoadError(f"There is not enough memory to open '{path.name}'; close other programs.") from exc
    except ValueError as exc:  # a text or colour-profile chunk after the pixels, past Pillow's decompression limit
        if "too large" not in str(exc).lower():
            raise ImageLoadError(_damaged(path, what)) from exc
        raise ImageLoadError(f"The {what} '{path.name}' has metadata (text or a colour profile) too large to read "
                             "safely; re-export it without metadata.") from exc
    except Exception as exc:  # decoders raise many types (OSError, SyntaxError, struct.error, …) on bad data
        raise ImageLoadError(_damaged(path, what)) from exc
    return frames


def _damaged(path: Path, what: str) -> str:
    return f"The {what} '{path.name}' is damaged or incomplete and could not be decoded; re-export or re-download it."


def _orient(im: Image.Image) -> tuple[bytes | None, list[str]]:
    """Turn the image upright per its EXIF; return that EXIF (Orientation now 1) for saving. Bad EXIF is dropped."""
    try:
        had_exif = len(im.getexif()) > 0
        ImageOps.exif_transpose(im, in_place=True)
        if not had_exif:
            return None, []
        exif = im.getexif()
        exif[ORIENTATION] = 1
        return exif.tobytes(), []
    except Exception as exc:  # malformed EXIF must not cost the user a photo whose pixels are fine
        log.warning("ignoring unreadable EXIF: %s", exc)
        return None, ["unreadable EXIF data was dropped, so the orientation may need fixing by hand"]


def _to_rgb(im: Image.Image) -> tuple[np.ndarray, list[str]]:
    """Any Pillow mode → uint8 [H, W, 3] plus plain-language notes on what was changed."""
    mode = im.mode
    if mode == "RGB" and "transparency" not in im.info:
        return np.asarray(im), []
    if mode in ALPHA_MODES or "transparency" in im.info:
        flat = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA")).convert("RGB")
        return np.asarray(flat), ["transparency flattened onto white"]
    if mode in SIXTEEN_BIT_MODES or mode == "I":
        depth = "32-bit integer" if mode == "I" else "16-bit"
        return _gray(_sixteen_to_eight(np.asarray(im))), [f"{depth} grayscale reduced to 8-bit RGB"]
    if mode == "F":
        return _gray(_float_to_eight(np.asarray(im))), ["32-bit floating-point grayscale reduced to 8-bit RGB"]
    notes = {
        "L": "grayscale turned into RGB",
        "1": "black-and-white (1-bit) image turned into RGB",
        "P": "palette colours expanded to RGB",
        "CMYK": "CMYK colours converted to RGB (approximately, without a colour profile)",
    }
    try:
        rgb = im.convert("RGB")
    except ValueError as exc:
        raise ImageLoadError(
            f"Images in the '{mode}' colour mode are not supported; convert it to RGB in another editor first."
        ) from exc
    return np.asarray(rgb), [notes.get(mode, f"colours converted from {mode} to RGB")]


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """0..65535 → 0..255 rounding v/257 (65535 → 255, 257·k → k); integers beyond 16 bits are scaled by their max."""
    top = int(values.max(initial=0))
    if top > 65535:
        return np.rint(values.clip(0, None) * (255.0 / top)).astype(np.uint8)
    v = values.clip(0, None).astype(np.uint32)
    return ((v * 255 + 32767) // 65535).astype(np.uint8)


def _float_to_eight(values: np.ndarray) -> np.ndarray:
    """Floats taken as 0..1 (or 0..max when they go above 1) → 0..255; NaN and negatives become 0."""
    v = np.nan_to_num(values.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0).clip(0.0, None)
    top = max(float(v.max(initial=0.0)), 1.0)
    return np.rint(v * (255.0 / top)).clip(0, 255).astype(np.uint8)


def _gray(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[:, :, None], 3, axis=2)


def _marked(im: Image.Image) -> np.ndarray:
    """Boolean [H, W]: which mask pixels are marked (see ``load_mask``)."""
    if len(im.getbands()) == 1 and im.mode != "P" and "transparency" not in im.info:
        return np.asarray(im) != 0
    if "A" in im.getbands() or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"))
        alpha = rgba[:, :, 3]
        if (alpha < 255).any():
            return alpha > 0
        return np.asarray(rgba[:, :, :3].any(axis=2))  # asarray: numpy's stub allows a scalar bool here
    return np.asarray(np.asarray(im.convert("RGB")).any(axis=2))


def _check_rgb(pixels: np.ndarray) -> None:
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidInputError(f"Expected uint8 RGB pixels [H, W, 3], got {pixels.dtype} of shape {pixels.shape}.")


def _check_resolution(resolution: int) -> None:
    if resolution < 1:
        raise InvalidInputError(f"The output resolution must be at least 1 pixel (got {resolution}).")


def _region_with_margin(
    pixels: np.ndarray, box: CropBox, resolution: int
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A view of the box plus the Lanczos filter's reach, and the box in that view's coordinates."""
    _check_resolution(resolution)
    height, width = pixels.shape[:2]
    box.validate(width, height)
    margin = math.ceil(3.0 * max(box.size / resolution, 1.0)) + 1  # Lanczos support is 3 output pixels
    x0, y0 = max(0, box.x - margin), max(0, box.y - margin)
    x1, y1 = min(width, box.x + box.size + margin), min(height, box.y + box.size + margin)
    inner = (box.x - x0, box.y - y0, box.x - x0 + box.size, box.y - y0 + box.size)
    return pixels[y0:y1, x0:x1], inner
