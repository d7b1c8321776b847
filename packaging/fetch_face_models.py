"""Reproduce ``resources/face/`` from the published MediaPipe wheel (run once, by a maintainer).

    python packaging/fetch_face_models.py [--wheel mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl]

Without ``--wheel`` it runs ``pip download --no-deps mediapipe==0.10.21`` for Linux x86-64 / CPython 3.11 (the
model files are the same in every wheel; the pinned hash is of that one). Exactly two TFLite files are taken —
the short-range BlazeFace detector and the 468-point Face Mesh — each checked against its pinned sha256, together
with the wheel's LICENSE (Apache-2.0: the MediaPipe repository, and with it ``mediapipe/modules/``, is Apache-2.0)
and a ``provenance.json``. At run time the app reads these files with ``ai-edge-litert``; mediapipe itself is
never installed (its dependencies pin numpy < 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from wheels import check_pinned, pip_download

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "face"
PACKAGE, VERSION = "mediapipe", "0.10.21"
WHEEL = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
LICENSE_MEMBER = f"{PACKAGE}-{VERSION}.dist-info/LICENSE"
MEMBERS = {  # path in the wheel → (file name in resources/face, sha256)
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": (
        "face_detection_short_range.tflite", "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"),
    "mediapipe/modules/face_landmark/face_landmark.tflite": (
        "face_landmark.tflite", "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
}


def fetch_wheel(folder: Path) -> Path:
    pip_download([f"{PACKAGE}=={VERSION}"], folder, "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                 "--python-version", "3.11")
    return folder / WHEEL


def check_license(text: str) -> None:
    """The wheel's LICENSE must be the Apache License 2.0 (its first section; third-party notices follow)."""
    head = text[:400]
    if "Apache License" not in head or "Version 2.0, January 2004" not in head:
        sys.exit("The wheel's LICENSE is not the Apache License 2.0; check the new release's terms by hand.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        wheel_bytes = wheel.read_bytes()
        check_pinned(wheel.name, wheel_bytes, WHEEL_SHA256)
        with zipfile.ZipFile(wheel) as zf:
            license_text = zf.read(LICENSE_MEMBER).decode()
            files = {member: zf.read(member) for member in MEMBERS}
    check_license(license_text)
    OUT.mkdir(parents=True, exist_ok=True)
    record = {}
    for member, data in files.items():
        name, expected = MEMBERS[member]
        record[name] = {"path_in_wheel": member, "sha256": check_pinned(member, data, expected), "bytes": len(data)}
        (OUT / name).write_bytes(data)
    (OUT / "LICENSE").write_text(license_text)
    provenance = {
        "schema_version": 1,
        "what": "MediaPipe BlazeFace short-range face detector and Face Mesh (468 landmarks), TFLite",
        "source_package": PACKAGE, "source_version": VERSION, "wheel": WHEEL, "wheel_sha256": WHEEL_SHA256,
        "files": record,
        "license": "Apache-2.0 (LICENSE is the wheel's own dist-info/LICENSE, copied unchanged)",
        "license_check": "the wheel's METADATA says 'License: Apache 2.0'; the files come from mediapipe/modules/ "
                         "of google-ai-edge/mediapipe, an Apache-2.0 repository",
        "generated_by": "python packaging/fetch_face_models.py",
    }
    (OUT / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"wrote {', '.join(sorted(n for n, _ in MEMBERS.values()))}, LICENSE and provenance.json to {OUT}")


if __name__ == "__main__":
    main()
