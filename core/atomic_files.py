"""Write a file all or nothing, and say why a write failed in words a person can act on.

Every file we write (images, reports, projects, weights) goes through :func:`atomic_write_bytes`: a reader, or a
run killed mid-save, sees the old file or the new one, never half of one; what a killed save left is removed the
next time that file is saved.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from core.errors import ImageSaveError
from core.stale_files import clean_stale_temps, temp_name


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing: a temp file beside it, fsync, then rename over the target."""
    path = Path(path).expanduser()
    clean_stale_temps(path)  # what an earlier, killed save of this file left
    tmp = temp_name(path, secrets.token_hex(4))
    try:
        # 0o666 so the umask applies as for any new file (mkstemp would make it owner-only).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise save_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)  # overwriting keeps the old file's permissions
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise save_error(path, exc) from exc
        raise
    return path


def save_error(path: Path, exc: OSError, what: str | None = None) -> ImageSaveError:
    """A write failure in the user's terms; ``what`` names it when it is not the file ``path`` itself."""
    folder = path.parent.resolve()
    reasons = {
        errno.ENOSPC: "the disk is full; free some space or save to another drive.",
        getattr(errno, "EDQUOT", -1): "your disk quota is used up; free some space or save to another drive.",
        errno.EACCES: f"there is no permission to write in '{folder}'; choose another folder.",
        errno.EPERM: f"there is no permission to write in '{folder}'; choose another folder.",
        errno.EROFS: "the drive is read-only; save to another drive.",
        errno.ENOENT: f"the folder '{folder}' does not exist; create it or choose another folder.",
        errno.ENOTDIR: f"'{path.parent}' is not a folder; choose an existing folder.",
        errno.EISDIR: "a folder already has that name; choose another file name.",
        errno.EFBIG: "the file is too large for this drive; save to another drive.",
    }
    reason = reasons.get(exc.errno or 0, f"{exc.strerror or exc}; try another location.")
    return ImageSaveError(f"Cannot save {what or repr(path.name)}: {reason}")
