"""Leftovers of our own writes that a killed process could not remove: temp files beside a saved file, staging
folders beside a result folder. Recognised only by our naming pattern (with the writer's pid) and removed once that
writer is gone or the file is old, so nothing a live run is writing, and nothing of the user's, is ever touched."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 24 * 3600  # a temp file this old belongs to no live save, whatever its pid says


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (unknown → True: never remove what might be in use)."""
    if pid <= 0 or sys.platform == "win32":  # os.kill(pid, 0) would terminate the process on Windows
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def is_stale(path: Path, pid: int | None) -> bool:
    """A leftover whose writer (``pid``, None when the name has none) is gone, or that is older than a day."""
    if pid is not None and pid != os.getpid() and not pid_alive(pid):
        return True
    try:
        return time.time() - path.lstat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def remove_quietly(path: Path) -> bool:
    """Remove a file or folder of ours; on a read-only or vanished drive just report False (never raise)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    except OSError as exc:
        log.info("could not remove %s (%s)", path, exc.strerror or exc)
        return False


def temp_name(target: Path, token: str) -> Path:
    """The temp file an atomic save of ``target`` writes first: ``.<name>.<pid>-<token>.tmp`` beside it."""
    return target.with_name(f".{target.name}.{os.getpid()}-{token}.tmp")


def clean_stale_temps(target: Path) -> None:
    """Remove temp files of earlier, interrupted saves of ``target`` (ours: ``.<name>.[<pid>-]<hex>.tmp``)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:(\d+)-)?[0-9a-f]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            match = pattern.fullmatch(entry.name)
            if match and is_stale(Path(entry.path), int(match.group(1)) if match.group(1) else None):
                remove_quietly(Path(entry.path))
