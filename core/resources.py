"""Where the bundled resources (models, samples) live: next to the code, or where a packaged build put them."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder: ``$LANDSCAPE_STUDIO_RESOURCES``, a PyInstaller bundle's, or the source tree's."""
    override = os.environ.get("LANDSCAPE_STUDIO_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_photos() -> list[Path]:
    """The bundled public-domain sample photos, sorted by name."""
    folder = resources_dir() / "samples"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})


def sample_face_crop(photo: Path) -> dict[str, int] | None:
    """The face crop {x, y, size} recorded for a bundled sample photo, or None for any other photo."""
    import json

    record = resources_dir() / "samples" / "provenance.json"
    if not record.is_file() or Path(photo).resolve().parent != record.parent.resolve():
        return None
    entry = json.loads(record.read_text()).get("samples", {}).get(Path(photo).name)
    return None if entry is None else entry.get("face_crop")


def user_data_dir() -> Path:
    """Where the user's own files live (direction libraries, trained θ): ``$LANDSCAPE_STUDIO_DATA`` or the
    platform's per-user data folder (e.g. ~/.local/share/landscape-studio)."""
    override = os.environ.get("LANDSCAPE_STUDIO_DATA")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path("landscape-studio", appauthor=False)


def set_aside(path: Path) -> Path:
    """Rename a damaged file or folder of ours to ``<name>.damaged-YYYYmmdd-HHMMSS`` beside it (never overwriting),
    so that it stops nothing from starting yet is kept for the user to inspect; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while target.exists() or target.is_symlink():
        target, n = path.with_name(f"{path.name}.damaged-{stamp}-{n}"), n + 1
    os.replace(path, target)
    return target


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (photos and models may be hundreds of megabytes): how models,
    photos, installs and batch inputs are recognised by their bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def trained_dir(model_id: str, kind: str) -> Path:
    """Where an encoder or θ (``kind``: "encoder" or "landscape") trained on this machine for a model is kept when
    the user names no folder: the user's data folder, per model (the part of its id before "@"), since weights
    derived from a user-installed model must never go into the project."""
    return user_data_dir() / "trained" / model_id.split("@")[0] / kind
