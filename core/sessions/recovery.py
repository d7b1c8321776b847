"""Crash recovery files: the editor's unsaved document, autosaved as an ordinary project in the user data folder.

Each running editor writes ``recovery/session-<pid>.lsproj`` (the whole document, photo embedded, saved atomically
by ``save_project``) and then ``session-<pid>.json`` beside it (who wrote it, when, and what the document was), so
a description always points at a complete project. A clean exit, a save or a discard removes both. At start-up the
files of editors that are no longer running are the ones to offer back; a file that cannot be read is moved aside
into ``recovery/damaged/`` so that it never stops the editor from starting, and the user is told where it went.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.imageio import atomic_write_bytes
from core.resources import user_data_dir
from core.sessions.document import Document
from core.sessions.store import save_project

FOLDER, DAMAGED = "recovery", "damaged"
MAX_INFO_BYTES = 64 << 10  # a description is a few hundred bytes: anything larger is not ours


@dataclass(frozen=True)
class Recovery:
    """One recovery file left by an editor that is no longer running."""

    project: Path  # the .lsproj to reopen
    info: Path  # its description (.json)
    pid: int
    saved: float  # seconds since the epoch
    title: str  # what the window showed: the project's or the photo's file name
    project_path: Path | None  # the project the document was opened from or saved to (None: never saved)

    @property
    def saved_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved))


def folder() -> Path:
    return user_data_dir() / FOLDER


def own_paths(pid: int | None = None) -> tuple[Path, Path]:
    """The project and description files this process (or ``pid``) writes."""
    base = folder() / f"session-{os.getpid() if pid is None else pid}"
    return base.with_suffix(".lsproj"), base.with_suffix(".json")


def write(doc: Document, title: str, project_path: Path | None) -> Path:
    """Autosave ``doc`` as this process's recovery file: the project first, then its description (both atomic)."""
    project, info = own_paths()
    project.parent.mkdir(parents=True, exist_ok=True)
    save_project(doc, project)
    entry = {"pid": os.getpid(), "saved": time.time(), "title": title,
             "project_path": None if project_path is None else str(project_path)}
    atomic_write_bytes(info, json.dumps(entry, indent=1).encode())
    return project


def remove(pid: int | None = None) -> None:
    """Delete this process's (or ``pid``'s) recovery files; the description first, so no half pair is ever offered."""
    project, info = own_paths(pid)
    for path in (info, project):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def adopt(recovery: Recovery) -> None:
    """Make another (dead) editor's recovery files this process's own: the document now lives on here."""
    project, info = own_paths()
    os.replace(recovery.project, project)
    entry = {"pid": os.getpid(), "saved": recovery.saved, "title": recovery.title,
             "project_path": None if recovery.project_path is None else str(recovery.project_path)}
    atomic_write_bytes(info, json.dumps(entry, indent=1).encode())
    with contextlib.suppress(FileNotFoundError):
        recovery.info.unlink()


def set_aside(*paths: Path) -> Path:
    """Move damaged recovery files into ``recovery/damaged/`` (named with the time, never overwriting); returns
    that folder, to tell the user."""
    target = folder() / DAMAGED
    target.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for path in paths:
        if path.exists():
            moved, n = target / f"{path.stem}-{stamp}{path.suffix}", 1
            while moved.exists():
                moved, n = target / f"{path.stem}-{stamp}-{n}{path.suffix}", n + 1
            os.replace(path, moved)
    return target


def pid_alive(pid: int) -> bool:
    """The process ``pid`` still runs (its recovery file is in use, not left behind)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by someone else
        return True
    return True


def _refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not a number")


def _parse(info: Path) -> dict[str, Any]:
    """A description's fields, checked; ValueError when it is not one of ours."""
    if info.stat().st_size > MAX_INFO_BYTES:
        raise ValueError("too large")
    data = json.loads(info.read_bytes().decode("utf-8"), parse_constant=_refuse)
    if not (isinstance(data, dict) and type(data.get("pid")) is int and type(data.get("saved")) in (int, float)
            and 0 <= data["saved"] < 1e11 and isinstance(data.get("title"), str)
            and isinstance(data.get("project_path"), str | None)):
        raise ValueError("not a recovery description")
    return data


def orphans() -> tuple[list[Recovery], list[str]]:
    """Recovery files of editors that are no longer running, newest first, and a message for each damaged one
    (moved aside). Descriptions without their project are stale and removed."""
    found: list[Recovery] = []
    problems: list[str] = []
    root = folder()
    if not root.is_dir():
        return found, problems
    for info in sorted(root.glob("session-*.json")):
        project = info.with_suffix(".lsproj")
        try:
            data = _parse(info)
        except (OSError, ValueError, RecursionError) as exc:
            where = set_aside(info, project)
            problems.append(f"A recovery file could not be read ({type(exc).__name__}) and was moved to {where}.")
            continue
        pid = data["pid"]
        if pid == os.getpid() or pid_alive(pid):
            continue  # an editor still running owns it
        if not project.is_file():
            with contextlib.suppress(OSError):
                info.unlink()
            continue
        path = data["project_path"]
        found.append(Recovery(project, info, pid, float(data["saved"]), data["title"],
                              None if path is None else Path(path)))
    return sorted(found, key=lambda r: r.saved, reverse=True), problems
