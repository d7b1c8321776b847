"""Finding, checking and installing the FFHQ model's files (``random-face==2021.7.21.1``), never shipping them.

The weights were distilled from NVIDIA's FFHQ StyleGAN2 (NVIDIA Source Code License-NC), so they are
**non-commercial**: the project neither commits nor bundles them. A user gets them from the package registry —
``pip install --no-deps random-face==2021.7.21.1`` into the product's environment (``make run`` does), or, with the
packaged build that has no pip, by giving the downloaded wheel to :func:`install_from_wheel` (File → Choose Model… →
Install FFHQ from Wheel…, ``landscape-studio models install WHEEL``), which copies the four data files into the
user's data folder.
Every file is checked against the sha256 it has in the pinned wheel before a byte of it is used, so a partial,
truncated or edited install is named in a clear message instead of failing somewhere inside the network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from core.errors import ModelLoadError
from core.resources import file_sha256, user_data_dir

FFHQ_MODEL = "ffhq-mobilestylegan"
PACKAGE = "random-face"
VERSION = "2021.7.21.1"
WHEEL_NAME = "random_face-2021.7.21.1-py3-none-any.whl"
WHEEL_SHA256 = "e5d10e2be7df63f06123855ec591ca35dcb1d059eba47ddcb175d7d26b4019b5"
PIP_COMMAND = f"pip install --no-deps {PACKAGE}=={VERSION}"
DATA_FILES = {  # name in random_face/data → sha256 in the pinned wheel
    "MappingNetwork.xml": "73e2096cad6e696e4af47df2477e048ab4c42c0e0dec83c7c66604822689e55b",
    "MappingNetwork.bin": "212dd716bdb556e18db603ea97300d4fa3c872b878c726b2402fea80820e7305",
    "SynthesisNetwork.xml": "7918fce515243954d3e06628cb39a23902d6b1d5d02932cc0c2faee7a2aeeedd",
    "SynthesisNetwork.bin": "c7da15fa22d508c82e1c30dd6b4cdf67fe3ccdddaf85b310ee764dbf0c289645",
}
MAX_FILE_BYTES = 64 * 2**20  # the largest data file is 31 MB
LICENCE = ("FFHQ MobileStyleGAN (Belousov 2021) from random-face 2021.7.21.1. The package's code is Apache-2.0, but "
           "the weights were distilled from NVIDIA's FFHQ StyleGAN2 (NVIDIA Source Code License-NC): use them for "
           "non-commercial research and personal work only. Landscape Studio does not ship them; they stay where "
           "you installed them.")


def user_install_dir() -> Path:
    """Where :func:`install_from_wheel` puts the data files: the user's data folder, never the project."""
    return user_data_dir() / "models" / FFHQ_MODEL


def package_data_dir() -> Path | None:
    """``random_face/data`` of an installed ``random-face`` distribution (located, never imported: importing it
    would need OpenVINO), or None."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    folder = Path(str(dist.locate_file("random_face/data")))
    return folder if folder.is_dir() else None


def find_data() -> Path | None:
    """The folder to load from: the user's own install first (it was checked when copied), then the package's."""
    own = user_install_dir()
    if own.is_dir() and any((own / name).exists() for name in DATA_FILES):
        return own
    return package_data_dir()


def check_data(folder: Path) -> None:
    """Every data file present and byte-identical to the pinned wheel's, else a :class:`ModelLoadError` that
    names the file and says how to repair the install."""
    repair = (f"Reinstall it ({PIP_COMMAND}, or File → Choose Model… → Install FFHQ from Wheel… with the "
              f"downloaded {WHEEL_NAME}).")
    for name, expected in DATA_FILES.items():
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"The FFHQ model's install in '{folder}' is incomplete: '{name}' is missing. {repair}")
        if path.stat().st_size > MAX_FILE_BYTES or file_sha256(path) != expected:
            raise ModelLoadError(f"The FFHQ model's '{name}' in '{folder}' is damaged or was changed (its checksum "
                                 f"is not the released file's). {repair}")


def install_from_wheel(wheel: Path) -> Path:
    """Copy the data files out of the downloaded ``random-face`` wheel into :func:`user_install_dir`.

    The wheel must be the pinned release (sha256); each file is checked again after extraction, and the folder is
    swapped in whole, so an interrupted install leaves the previous state, not a partial one.
    """
    try:
        if file_sha256(wheel) != WHEEL_SHA256:
            raise ModelLoadError(f"'{wheel.name}' is not {WHEEL_NAME} as released on PyPI (its checksum differs).")
        target = user_install_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ffhq-install-", dir=target.parent))
        try:
            with zipfile.ZipFile(wheel) as archive:
                for name in DATA_FILES:
                    with archive.open(f"random_face/data/{name}") as src, (staging / name).open("wb") as dst:
                        shutil.copyfileobj(src, dst)
            check_data(staging)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except FileNotFoundError as exc:
        raise ModelLoadError(f"'{exc.filename}' does not exist.") from exc
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelLoadError(f"Could not install the FFHQ model from '{wheel.name}' ({exc}).") from exc
    return target
