"""Small real bad inputs for the CLI battery: images, masks, latents and θ/encoder folders, built from bytes here.

Every builder writes real files (no mocks): a case then runs the real CLI on them. Kept apart from the cases so the
image, latent, flag and θ/encoder files share one way of making a PNG chunk, a hostile pickle or a valid latent.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
Z_DIM = 100  # the default model's latent: z [100]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, before: bytes = b"", after: bytes = b"", idat: bytes | None = None,
        color: int = 2) -> bytes:
    """A PNG whose IHDR declares ``width`` × ``height`` (RGB unless ``color``), with chunks ``before``/``after`` the
    image data and the given IDAT (default: one real row of black pixels, so large images are truncated)."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
    body = png_chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + before + body + after + png_chunk(b"IEND", b"")


def small_png(side: int = 8, before: bytes = b"", after: bytes = b"") -> bytes:
    """A real, complete RGB PNG of ``side`` × ``side`` grey pixels (zlib-compressed rows with filter byte 0)."""
    rows = b"".join(b"\0" + b"\x80" * (3 * side) for _ in range(side))
    return png(side, side, before=before, after=after, idat=zlib.compress(rows))


def ztxt(size: int, key: bytes = b"Comment") -> bytes:
    """A zTXt chunk whose text decompresses to ``size`` bytes (a few KB on disk)."""
    return png_chunk(b"zTXt", key + b"\0\0" + zlib.compress(b"a" * size, 9))


def itxt(size: int) -> bytes:
    """A compressed iTXt chunk decompressing to ``size`` bytes."""
    return png_chunk(b"iTXt", b"Comment\0\x01\0\0\0" + zlib.compress(b"a" * size, 9))


def iccp(size: int) -> bytes:
    """An iCCP (colour profile) chunk decompressing to ``size`` bytes."""
    return png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * size, 9))


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def sample_bytes(fmt: str = "JPEG") -> bytes:
    return encoded(Image.open(SAMPLE).convert("RGB"), fmt)


def noise(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = len(Image.new(mode, (1, 1)).getbands())
    array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return Image.fromarray(array[:, :, 0] if channels == 1 else array, "RGB" if channels == 3 else None).convert(mode)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF0 frame header is rewritten to declare ``width`` × ``height``."""
    data = bytearray(encoded(noise(16, 16), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_with_size(width: int, height: int) -> bytes:
    data = bytearray(encoded(noise(16, 16, "P"), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_with_size(width: int, height: int) -> bytes:
    data = bytearray(encoded(noise(16, 16), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def tiff_with_size(width: int, height: int) -> bytes:
    """A TIFF whose ImageWidth/ImageLength tags say ``width`` × ``height`` (strips stay 16×16 of data)."""
    data = bytearray(encoded(noise(16, 16), "TIFF"))
    count = struct.unpack("<H", data[8:10])[0] if data[:2] == b"II" else 0
    for i in range(count):
        at = 10 + 12 * i
        tag = struct.unpack("<H", data[at: at + 2])[0]
        if tag in (256, 257):
            value = width if tag == 256 else height
            data[at + 2: at + 4] = struct.pack("<H", 4)  # LONG
            data[at + 8: at + 12] = struct.pack("<I", value)
    return bytes(data)


def exif_orientation(value: object) -> bytes:
    """A JPEG whose EXIF Orientation tag holds ``value`` (valid or junk)."""
    image = noise(40, 30)
    exif = Image.Exif()
    exif[0x0112] = value
    return encoded(image, "JPEG", exif=exif.tobytes())


def jpeg_with_app1(payload: bytes) -> bytes:
    """A JPEG with an APP1 segment of arbitrary bytes (e.g. broken EXIF) right after SOI."""
    data = encoded(noise(40, 30), "JPEG")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def animated(fmt: str) -> bytes:
    frames = [noise(32, 32, seed=k) for k in range(3)]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def valid_latent(path: Path, value: float = 0.0) -> Path:
    np.save(path, np.full(Z_DIM, value, np.float32))
    return path


def npy_header_only(path: Path, shape: tuple[int, ...], descr: str = "<f4", fortran: bool = False,
                    data: bytes = b"") -> Path:
    """A .npy whose header claims ``shape`` of ``descr`` followed by ``data`` (usually far too little)."""
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode()
    total = 10 + len(header) + 1
    pad = (64 - total % 64) % 64
    header = header + b" " * pad + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data)
    return path


class Hostile:
    """A pickle that would create the canary file if anything ever unpickled it."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def nested_json(depth: int, key: str = "x") -> bytes:
    return b'{"schema_version": 1, "%s": ' % key.encode() + b"[" * depth + b"]" * depth + b"}"
