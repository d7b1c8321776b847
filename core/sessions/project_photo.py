"""Where a reopened project's photo comes from: its embedded copy, or the file beside the project or at its
saved path — always the bytes whose SHA-256 the project recorded. Kept apart from ``store`` to keep it short."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from core.errors import InvalidInputError
from core.imageio import Photo, load_photo
from core.resources import file_sha256
from core.sessions.document import sha256_hex


def damaged(path: Path, detail: str) -> InvalidInputError:
    return InvalidInputError(
        f"'{path.name}' is not a valid Landscape Studio project ({detail}); it may be damaged, incomplete or "
        "another kind of file."
    )


def open_photo(source: dict[str, Any], embedded: bytes | None, path: Path) -> tuple[Photo, Path | None]:
    """The saved photo, its SHA-256 verified, and where it now is (None when embedded without a path)."""
    sha, absolute, relative = source["sha256"], source.get("path"), source.get("relative_path")
    stored = Path(absolute) if absolute else None
    if embedded is not None:
        if sha256_hex(embedded) != sha:
            raise damaged(path, "the embedded photo does not match its checksum")
        with tempfile.TemporaryDirectory(prefix="lsproj-") as folder:
            copy = Path(folder) / source["embedded"]
            copy.write_bytes(embedded)
            photo = load_photo(copy)
        return dataclasses.replace(photo, source=stored), stored
    candidates = [path.parent / relative] if relative else []
    candidates += [stored] if stored else []
    if not candidates:
        raise damaged(path, "it neither embeds the photo nor says where it is")
    found = find_photo(candidates, sha, stored or candidates[0], path)
    return load_photo(found), found


def find_photo(candidates: list[Path], sha: str, shown: Path, project: Path) -> Path:
    """The first candidate file whose bytes have SHA-256 ``sha``; a clear error naming the photo otherwise."""
    changed = None
    for candidate in candidates:
        if candidate.is_file():
            if file_sha256(candidate) == sha:
                return candidate.resolve()
            changed = candidate
    detail = f"the file at '{changed}' has different contents" if changed else "it is no longer there"
    raise InvalidInputError(
        f"The photo '{shown}' was moved or edited since the project '{project.name}' was saved ({detail}); "
        "put the original photo back (or next to the project), or embed the photo when saving so the project "
        "carries its own copy."
    )
