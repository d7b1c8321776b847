"""Write a clip's frames as H.264 MP4 (PyAV: FFmpeg's libraries with x264, in this process) or animated GIF
(Pillow).

A clip is written all or nothing, like every file we save: frames stream into a temp file beside the target,
which replaces the target only once the last frame is in; a cancelled or failed clip leaves no file and the old
one, if any, untouched.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from PIL import Image

from core.atomic_files import atomic_write_bytes, save_error
from core.errors import ImageSaveError, InvalidInputError
from core.stale_files import clean_stale_temps, temp_name

CLIP_FORMATS = (".mp4", ".gif")
MP4_CRF = 18  # x264's constant quality: 18 is visually lossless for most footage
GIF_MAX_SIDE = 640  # a GIF of a full-resolution photo runs to gigabytes; larger on request only
MAX_SIDE = 4096  # H.264 level 5.2's largest frame side; also what a photo editor exports at most here


def clip_format(path: Path) -> str:
    """"mp4" or "gif" from the file name; a clear error for any other."""
    suffix = path.suffix.lower()
    if suffix not in CLIP_FORMATS:
        raise InvalidInputError(f"An animation is saved as .mp4 or .gif (got '{path.name}').")
    return suffix[1:]


def frame_size(width: int, height: int, *, max_side: int | None, even: bool) -> tuple[int, int]:
    """The clip's (width, height): the source's aspect, its longer side ``max_side`` (default: as is), and even
    sides where the codec needs them (H.264 in 4:2:0 halves the colour planes)."""
    check_max_side(max_side)
    scale = 1.0 if max_side is None else max_side / max(width, height)
    w, h = max(2, round(width * scale)), max(2, round(height * scale))
    if max(w, h) > MAX_SIDE:
        shrink = MAX_SIDE / max(w, h)
        w, h = max(2, round(w * shrink)), max(2, round(h * shrink))
    if even:
        w, h = w - w % 2, h - h % 2
    return w, h


def check_max_side(max_side: int | None) -> None:
    if max_side is not None and not 16 <= max_side <= MAX_SIDE:
        raise InvalidInputError(f"The clip's size must be between 16 and {MAX_SIDE} px (got {max_side}).")


def fit_frame(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 [h, w, 3] of ``pixels`` resampled to ``size`` = (w, h) (Lanczos), or ``pixels`` when it fits."""
    if (pixels.shape[1], pixels.shape[0]) == size:
        return np.ascontiguousarray(pixels)
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


class ClipWriter:
    """Frames in, one finished file out: ``add`` each uint8 [h, w, 3] frame of ``size``, then ``finish``. Used
    as a context manager, a block left by an exception (a cancel, a failed render) discards the partial clip."""

    def __init__(self, path: str | Path, *, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path).expanduser()
        self.kind = clip_format(self.path)
        self.fps, self.size = fps, size
        self.frames = 0
        if not self.path.parent.is_dir():
            raise save_error(self.path, FileNotFoundError(2, "No such folder"))
        clean_stale_temps(self.path)
        self._gif: list[Image.Image] = []
        self._tmp = temp_name(self.path, secrets.token_hex(4))
        try:  # a drive that is read-only, full or not ours fails now, before any frame is rendered
            os.close(os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except OSError as exc:
            raise save_error(self.path, exc) from exc
        if self.kind == "gif":  # a GIF is encoded in memory and saved by atomic_write_bytes at the end
            os.unlink(self._tmp)
        self._mp4: Any = None  # (container, stream) while an MP4 is open
        if self.kind == "mp4":
            self._mp4 = self._open_mp4()

    def _open_mp4(self) -> Any:
        try:
            import av
        except ImportError as exc:
            raise ImageSaveError("MP4 needs the PyAV package (av), which is not installed here; save the animation "
                                 "as .gif, or install av.") from exc
        try:
            container = av.open(str(self._tmp), mode="w", format="mp4", options={"movflags": "faststart"})
            stream = container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1001))
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(MP4_CRF), "preset": "medium"}
        except (OSError, av.FFmpegError) as exc:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            raise self._write_failure(exc) from exc
        return container, stream

    def add(self, frame: np.ndarray) -> None:
        if frame.dtype != np.uint8 or frame.shape != (self.size[1], self.size[0], 3):
            raise InvalidInputError(f"A frame of this clip is uint8 [{self.size[1]}, {self.size[0]}, 3], got "
                                    f"{frame.dtype} {list(frame.shape)}.")
        if self._mp4 is not None:
            import av

            container, stream = self._mp4
            try:
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    container.mux(packet)
            except (OSError, av.FFmpegError) as exc:  # usually the disk filled up
                raise self._write_failure(exc) from exc
        else:  # a palette per frame keeps skin tones; dithering hides the banding
            self._gif.append(Image.fromarray(frame).quantize(256, method=Image.Quantize.FASTOCTREE))
        self.frames += 1

    def finish(self) -> Path:
        """Close the clip and move it into place; the path written."""
        if self.frames == 0:
            raise InvalidInputError("An animation needs at least one frame.")
        if self._mp4 is not None:
            import av

            container, stream = self._mp4
            try:
                for packet in stream.encode():  # what the encoder still holds
                    container.mux(packet)
                container.close()
            except (OSError, av.FFmpegError) as exc:
                raise self._write_failure(exc) from exc
            self._mp4 = None
            try:
                os.replace(self._tmp, self.path)
            except OSError as exc:
                raise save_error(self.path, exc) from exc
            return self.path
        buffer = io.BytesIO()
        duration = round(1000.0 / self.fps)  # GIF counts in hundredths of a second: 25 fps is exact, 30 rounds
        self._gif[0].save(buffer, format="GIF", save_all=True, append_images=self._gif[1:], duration=duration,
                          loop=0, disposal=1)
        self._gif.clear()
        return atomic_write_bytes(self.path, buffer.getvalue())

    def discard(self) -> None:
        """Drop the partial clip: the encoder closed and its temp file removed; the target is untouched."""
        if self._mp4 is not None:
            with contextlib.suppress(Exception):
                self._mp4[0].close()
            self._mp4 = None
        self._gif.clear()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)

    def _write_failure(self, exc: Exception) -> ImageSaveError:
        folder = self.path.parent
        if isinstance(exc, OSError) and exc.errno is not None and exc.errno != 0:
            return save_error(self.path, exc)
        if shutil.disk_usage(folder).free < 16 * 2**20:
            return save_error(self.path, OSError(28, "No space left on device"))
        return ImageSaveError(f"The animation could not be written to '{self.path}': {exc}")

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is not None or self._mp4 is not None or self._gif:
            self.discard()  # left early: nothing half-written stays behind
