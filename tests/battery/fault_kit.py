"""What the model, output, fault and fuzz cases of the battery share: small real inputs, real file systems that
fill up or are read-only (tmpfs, we run as root in CI containers), and a CLI process one can signal mid-run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.battery.conftest import ROOT

STAGING_MARKS = (".staging-", ".old-")  # our staging/replaced folder names: ".<name>.staging-<pid>-<hex>"


def noise_photo(path: Path, side: int = 96, seed: int = 0) -> Path:
    """A real RGB PNG of noise (noise does not compress: its size is predictable)."""
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path)
    return path


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def leftovers(parent: Path) -> list[str]:
    """Staging folders, replaced folders, lock files and temp files of ours anywhere under ``parent``."""
    found = []
    for path in parent.rglob("*"):
        name = path.name
        if any(mark in name for mark in STAGING_MARKS) or name.endswith((".tmp", ".partial", ".lock")):
            found.append(str(path.relative_to(parent)))
    return found


def assert_one_complete_run(out: Path) -> dict:
    """``out`` holds exactly the files its report.json lists: one whole run, nothing of another."""
    report = json.loads((out / "report.json").read_text())
    assert listing(out) == set(report["outputs"]), (listing(out), report["outputs"])
    return report


def tmpfs(path: Path, size: str = "1m") -> Path:
    """Mount a small real tmpfs at ``path`` (skip where mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root or a user namespace")
    return path


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextlib.contextmanager
def mounted(path: Path, size: str = "1m") -> Iterator[Path]:
    tmpfs(path, size)
    try:
        yield path
    finally:
        unmount(path)


def fill_disk(folder: Path, leave_bytes: int) -> None:
    """Fill the file system under ``folder`` until about ``leave_bytes`` are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with contextlib.suppress(OSError):
        (folder / "filler.bin").write_bytes(b"\0" * max(0, free - leave_bytes))


class CliProcess:
    """``python -m core.cli …`` (or another argv) as a real process whose stderr is read as it comes."""

    def __init__(self, *args: str | Path, argv: list[str] | None = None) -> None:
        command = argv if argv is not None else [sys.executable, "-m", "core.cli", *map(str, args)]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._err = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):  # type: ignore[union-attr]
            self._err += chunk

    @property
    def err(self) -> str:
        return self._err.decode(errors="replace")

    def wait_for_stderr(self, text: str, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while text not in self.err:
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"never saw {text!r} (exit {self.proc.poll()}): {self.err[-2000:]}")
            time.sleep(0.01)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        out = self.proc.stdout.read() if self.proc.stdout else b""  # type: ignore[union-attr]
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code, out.decode(errors="replace"), self.err


def snapshot(parent: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in parent.rglob("*") if p.is_file()}


def wait_for_new_file(parent: Path, before: dict[str, tuple[int, int]], proc: CliProcess, timeout: float = 120
                      ) -> None:
    """Poll until a file under ``parent`` is new or changed: the process has begun writing its results."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.proc.poll() is None:
        with contextlib.suppress(OSError):
            for path in parent.rglob("*"):
                with contextlib.suppress(OSError):
                    st = path.stat()
                    if path.is_file() and before.get(str(path)) != (st.st_mtime_ns, st.st_size):
                        return
        time.sleep(0.002)
    raise AssertionError(f"the process never began writing (exit {proc.proc.poll()}): {proc.err[-2000:]}")


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging) when the body runs longer than ``seconds`` (main thread, POSIX)."""
    def expire(signum: int, frame: object) -> None:
        raise AssertionError(f"hung for more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_for(photo: Path) -> Path:
    side = Image.open(photo).size[0]
    mask = np.zeros((side, side), np.uint8)
    mask[side // 3: 2 * side // 3, side // 3: 2 * side // 3] = 255
    path = photo.with_name(photo.stem + "_mask.png")
    Image.fromarray(mask).save(path)
    return path


FOLDER_COMMANDS = ("invert", "inpaint", "restore", "slice")


def folder_command(kind: str, photo: Path, out: Path, *extra: str) -> list[str]:
    """A fast, real command line of ``kind`` that writes a result folder ``out``."""
    if kind == "invert":
        return ["invert", str(photo), "--steps", "2", "--lpips", "0", "--quiet", "--out", str(out), *extra]
    if kind == "inpaint":
        return ["inpaint", str(photo), "--mask", str(mask_for(photo)), "--candidates", "2", "--steps", "2",
                "--lpips", "0", "--quiet", "--out", str(out), *extra]
    if kind == "restore":
        return ["restore", str(photo), "--op", "grayscale", "--steps", "2", "--lpips", "0", "--quiet",
                "--out", str(out), *extra]
    if kind == "slice":
        return ["slice", "--seed", "0", "--steps", "2", "--grid", "3", "--lpips", "0", "--quiet", "--out", str(out),
                *extra]
    raise KeyError(kind)


SLICE_FILES = {"slice.npz", "slice.csv", "slice.json", "slice.png", "result.png", "target.png"}


def assert_complete(kind: str, out: Path) -> None:
    """``out`` holds one whole run of ``kind`` and nothing else."""
    if kind == "slice":
        assert listing(out) == SLICE_FILES, listing(out)
    else:
        assert_one_complete_run(out)
