"""A batch's photos from what the user typed: files, folders (their photos, not sub-folders') and globs, in a
stable order, each once. Identical photos (same bytes) under two names are processed once and reported; an output
folder inside an input folder is refused, so a re-run never takes its own results for photos."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInputError
from core.resources import file_sha256

PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}


@dataclass(frozen=True)
class BatchPhoto:
    path: Path
    sha256: str  # of the file's bytes: what "already done" is checked by
    index: int  # its place in the batch (0-based), for {index} in names


@dataclass(frozen=True)
class Inputs:
    photos: list[BatchPhoto]
    duplicates: list[tuple[Path, Path]]  # (left out, same bytes as this one)
    unreadable: list[tuple[Path, str]]  # files that could not even be read (the rest go on)


def expand(entries: list[str]) -> list[Path]:
    """Each entry: a photo file, a folder (its photo files, sorted) or a glob (its photo files, sorted)."""
    found: list[Path] = []
    for entry in entries:
        path = Path(entry).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        elif path.is_file():
            found.append(path)
        elif glob.has_magic(entry):
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            found += [p for p in matches if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES]
        else:
            raise InvalidInputError(f"'{entry}' is not a photo, a folder or a pattern that matches any file.")
    return found


def collect(entries: list[str], out: Path) -> Inputs:
    """The batch's photos (see the module doc); refuses an ``out`` inside an input folder."""
    out = out.expanduser().resolve()
    for entry in entries:
        folder = Path(entry).expanduser()
        if folder.is_dir() and (out == folder.resolve() or folder.resolve() in out.parents):
            raise InvalidInputError(f"The output folder '{out}' is inside the input folder '{folder}': a later run "
                                    "would take its results for photos. Choose an output folder elsewhere.")
    seen_paths: set[Path] = set()
    by_hash: dict[str, Path] = {}
    photos: list[BatchPhoto] = []
    duplicates: list[tuple[Path, Path]] = []
    unreadable: list[tuple[Path, str]] = []
    for path in expand(entries):
        real = path.resolve()
        if real in seen_paths:
            continue  # named twice (a file and its folder): one photo, said nothing about
        seen_paths.add(real)
        try:
            digest = file_sha256(path)
        except OSError as exc:
            unreadable.append((path, f"cannot be read ({exc.strerror or exc})"))
            continue
        if digest in by_hash:
            duplicates.append((path, by_hash[digest]))
            continue
        by_hash[digest] = path
        photos.append(BatchPhoto(path, digest, len(photos)))
    if not photos and not unreadable:
        raise InvalidInputError("No photos found in: " + ", ".join(entries))
    return Inputs(photos, duplicates, unreadable)
