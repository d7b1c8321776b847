"""The bad-input and fault battery: what every case asserts, in one place.

A case feeds one bad input or fault to a real entry point (the CLI in-process or as a subprocess, the project
loader, the user data folder, the real main window) and asserts the product's promise: one clear message (CLI:
one ``error: …`` line and exit code 2), inputs unchanged, no half-written or mixed output, no code executed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT_S = 300  # only ends a hang: every wait is on the process itself


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def assert_one_error(self, *words: str) -> None:
        """Exit 2 and exactly one line on stderr, ``error: …`` mentioning ``words`` (case-insensitive)."""
        lines = [line for line in self.err.splitlines() if line.strip() and not line.startswith("warning: ")]
        assert self.code == 2, (self.code, self.err)
        assert len(lines) == 1 and lines[0].startswith("error: "), self.err
        assert "Traceback" not in self.err
        for word in words:
            assert word.lower() in lines[0].lower(), (word, lines[0])


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process: ``cli("invert", ...)`` → Outcome (argparse's own exits included)."""

    def run(*args: str | Path) -> Outcome:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code) if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def run_cli_process(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Outcome:
    """The CLI as its own process (for signals, kills and start-up)."""
    done = subprocess.run([sys.executable, "-m", "core.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=SUBPROCESS_TIMEOUT_S)
    return Outcome(done.returncode, done.stdout, done.stderr)


def digest(paths: list[Path]) -> dict[str, str]:
    """sha256 of every file under ``paths`` (files or folders): compare before and after to prove nothing changed."""
    out = {}
    for root in paths:
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def canary(tmp_path):
    """A path that a hostile payload would create if it ran code: every case asserts it does not exist."""
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a hostile input executed code"
