"""A command's result folder (``--out``) always holds one complete run, never two runs mixed or half of one.

Results are written into a staging folder beside it (``.<name>.staging-<pid>-<hex>``) and moved into place whole
at the end: a previous run is renamed aside, the new one renamed in, the old one deleted. A lock beside the folder
(``.<name>.lock``, an advisory ``flock`` that dies with its process) makes a second run into the same folder fail
at once instead of mixing files. Whatever a killed run left (staging, a run renamed aside) is cleaned, or put back,
by the next run into the same place. Files in the folder that are not a run's (the user's notes, an input mask)
are moved over into the new run's folder, never deleted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from core.atomic_files import save_error
from core.errors import ImageSaveError, InvalidInputError
from core.stale_files import remove_quietly

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

# every file name a run of ours writes into its folder (and our temp files): anything else is the user's
RUN_FILE = re.compile(r"report\.json|target\.png|reconstruction(_start\d+)?\.png|composite\.png|latents?\.npy"
                      r"|raw_\d+\.png|candidate_\d+\.png|observation\.png|restored\.png|photo_restored\.png"
                      r"|slice\.(npz|csv|json|png)|result\.png|\..+\.tmp")


class ResultFolder:
    """``with ResultFolder(out) as staging:`` write into ``staging``; on leaving without an error it becomes ``out``
    whole, on an error (or Ctrl-C) it is deleted and ``out`` stays as it was."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out).expanduser().absolute()
        self.parent, self.name = self.out.parent, self.out.name
        self.token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.staging = self.parent / f".{self.name}.staging-{self.token}"
        self._lock_fd: int | None = None

    def __enter__(self) -> Path:
        if not self.name or self.name in (".", ".."):
            raise InvalidInputError(f"--out must name a folder (got '{self.out}').")
        self._mkdir(self.parent)
        self._lock()
        try:
            self._recover()
            self._check_replaceable()
            self._mkdir(self.staging)
        except BaseException:
            self._unlock()
            raise
        return self.staging

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self._commit()
        finally:
            if self.staging.exists():
                remove_quietly(self.staging)
            self._unlock()

    # ------------------------------------------------------------------------------------------------ the lock

    @property
    def _lock_path(self) -> Path:
        return self.parent / f".{self.name}.lock"

    def _lock(self) -> None:
        for _ in range(10):  # the holder may unlink the file between our open and our flock: take the new one
            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise self._error(exc) from exc
            if not _try_lock(fd):
                os.close(fd)
                raise InvalidInputError(f"Another run is writing to '{self.out}' right now; wait for it to finish "
                                        "or choose another --out.")
            try:
                same = os.fstat(fd).st_ino == os.stat(self._lock_path).st_ino
            except OSError:
                same = False
            if same:
                self._lock_fd = fd
                return
            os.close(fd)
        raise InvalidInputError(f"Another run is writing to '{self.out}' right now; choose another --out.")

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            self._lock_path.unlink()  # before closing: a waiting run then takes a fresh file
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        self._lock_fd = None

    # ------------------------------------------------------------------------------------- before and after

    def _leftovers(self) -> list[tuple[str, Path]]:
        """("staging" | "old", path) of earlier runs into this folder; under our lock none of them is live."""
        pattern = re.compile(rf"\.{re.escape(self.name)}\.(staging|old)-\d+-[0-9a-f]+")
        found = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.parent):
                match = pattern.fullmatch(entry.name)
                if match and entry.path != str(self.staging):
                    found.append((match.group(1), Path(entry.path)))
        return found

    def _recover(self) -> None:
        """A run killed between moving the old run aside and moving its own in: put the old run back. Then
        remove what killed runs left (quietly: a read-only drive fails later, with its own message)."""
        leftovers = self._leftovers()
        aside = sorted((p for kind, p in leftovers if kind == "old"), key=_mtime)
        if aside and not os.path.lexists(self.out):
            with contextlib.suppress(OSError):
                os.rename(aside[-1], self.out)
        for kind, path in self._leftovers():  # our lock proves no live run owns them
            if kind == "staging" or (self.out.is_dir() and _adopt_foreign(path, self.out)):
                remove_quietly(path)

    def _check_replaceable(self) -> None:
        if not os.path.lexists(self.out):
            return
        if not self.out.is_dir() or self.out.is_symlink():
            raise InvalidInputError(f"'{self.out}' is a file, not a folder; choose another --out.")

    def _commit(self) -> None:
        self._check_replaceable()
        aside = self.parent / f".{self.name}.old-{self.token}"
        try:
            if os.path.lexists(self.out):
                os.rename(self.out, aside)
                try:
                    os.rename(self.staging, self.out)
                except OSError:
                    os.rename(aside, self.out)
                    raise
                if _adopt_foreign(aside, self.out):  # else the next run into this folder moves them over
                    remove_quietly(aside)
            else:
                os.rename(self.staging, self.out)
        except OSError as exc:
            raise self._error(exc) from exc

    def _mkdir(self, path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=path != self.staging)
        except OSError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: OSError) -> ImageSaveError:
        if exc.errno == errno.EEXIST and not self.parent.is_dir():
            exc = OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        return save_error(self.out, exc, f"the results to '{self.out}'")


def _adopt_foreign(old: Path, new: Path) -> bool:
    """Move what in ``old`` is not a run's file (the user's own files and folders) into ``new``; True when
    nothing of the user's is left in ``old`` (it may then be deleted)."""
    kept = True
    with contextlib.suppress(OSError):
        for entry in os.scandir(old):
            if entry.is_file(follow_symlinks=False) and RUN_FILE.fullmatch(entry.name):
                continue
            try:
                if os.path.lexists(new / entry.name):
                    raise FileExistsError(entry.name)
                os.rename(entry.path, new / entry.name)
            except OSError:
                kept = False
        return kept
    return False


def _try_lock(fd: int) -> bool:
    if fcntl is None:  # pragma: no cover - Windows: msvcrt's byte-range lock
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        return exc.errno not in (errno.EAGAIN, errno.EACCES)
    return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@contextlib.contextmanager
def result_folder(out: Path) -> Iterator[Path]:
    """:class:`ResultFolder` as a function: ``with result_folder(args.out) as staging: …``."""
    with ResultFolder(out) as staging:
        yield staging
