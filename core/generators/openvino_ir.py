"""Run an OpenVINO IR v10 network (``.xml`` graph + ``.bin`` constants) in PyTorch, without OpenVINO.

Why an interpreter rather than a hand-written module: the IR *is* the network's exact definition, so executing its
ops one by one reproduces OpenVINO's output by construction (the check against OpenVINO is a dev-only script), and
every constant stays a named tensor that later code can make trainable (pivotal tuning) or slice. Only the op set
the models we read use is implemented; any other op is refused with its name, before anything runs.

Safety: an ``.xml`` declaring a DTD is refused before parsing (no entity tricks), its size is bounded, every
constant's offset and size are checked against the ``.bin`` before it is read, and nothing is ever unpickled or
executed from the files.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import ModelLoadError

MAX_XML_BYTES = 64 * 2**20  # the 1024-px synthesis graph is 0.4 MB
DTYPES = {"f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32, "u8": np.uint8}


@dataclass
class Layer:
    """One IR layer: its op, attributes and ports (input port ids in order; output port ids in order)."""

    id: str
    type: str
    name: str
    data: dict[str, str]
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v != ""]


def read_ir(xml_path: Path, bin_path: Path) -> tuple[list[Layer], dict[tuple[str, str], tuple[str, str]],
                                                     dict[str, np.ndarray]]:
    """The layers in execution order, the edges (to-layer, to-port) → (from-layer, from-port), and each Const's
    array; a :class:`ModelLoadError` naming the file for any damage (size, syntax, version, offsets, unknown ops)."""
    try:
        size = xml_path.stat().st_size
        if size > MAX_XML_BYTES:
            raise ModelLoadError(f"'{xml_path.name}' is {size:,} bytes, too large for a network graph.")
        text = xml_path.read_bytes()
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:  # entity tricks; a network graph never declares a DTD
            raise ModelLoadError(f"'{xml_path.name}' declares a DTD, which a network graph never has.")
        root = ET.fromstring(text)
        blob = bin_path.read_bytes()
    except ModelLoadError:
        raise
    except FileNotFoundError as exc:
        raise ModelLoadError(f"'{exc.filename}' is missing; the model's install is incomplete.") from exc
    except (OSError, ET.ParseError, ValueError) as exc:
        raise ModelLoadError(f"'{xml_path.name}' is not a readable network graph ({exc}).") from exc
    if root.tag != "net" or root.get("version") != "10":
        raise ModelLoadError(f"'{xml_path.name}' is not an OpenVINO IR version 10 graph.")
    try:
        layers = [_layer(node) for node in root.iterfind("layers/layer")]
        edges = {(e.get("to-layer", ""), e.get("to-port", "")): (e.get("from-layer", ""), e.get("from-port", ""))
                 for e in root.iterfind("edges/edge")}
        constants = {layer.id: _constant(layer, blob) for layer in layers if layer.type == "Const"}
    except (ValueError, KeyError) as exc:
        raise ModelLoadError(f"'{xml_path.name}' is damaged ({exc}).") from exc
    unknown = sorted({layer.type for layer in layers} - set(OPS) - {"Const", "Parameter", "Result"})
    if unknown:
        raise ModelLoadError(f"'{xml_path.name}' uses operations this reader does not know: {', '.join(unknown)}.")
    return _ordered(layers, edges, xml_path), edges, constants


def _layer(node: ET.Element) -> Layer:
    data = node.find("data")
    return Layer(id=node.attrib["id"], type=node.attrib["type"], name=node.get("name", ""),
                 data=dict(data.attrib) if data is not None else {},
                 inputs=[p.attrib["id"] for p in node.iterfind("input/port")],
                 outputs=[p.attrib["id"] for p in node.iterfind("output/port")])


def _constant(layer: Layer, blob: bytes) -> np.ndarray:
    kind = layer.data.get("element_type", "")
    if kind not in DTYPES:
        raise ValueError(f"constant '{layer.name}' has the element type '{kind}'")
    shape = _ints(layer.data.get("shape", ""))
    offset, size = int(layer.data["offset"]), int(layer.data["size"])
    dtype = np.dtype(DTYPES[kind])
    if offset < 0 or size != math.prod(shape) * dtype.itemsize or offset + size > len(blob):
        raise ValueError(f"constant '{layer.name}' lies outside the weights file or has the wrong size "
                         f"(the .bin is truncated or belongs to another graph)")
    return np.frombuffer(blob, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy()


def _ordered(layers: list[Layer], edges: dict, xml_path: Path) -> list[Layer]:
    """Layers so that each comes after everything it reads (Kahn's algorithm); a cycle is damage."""
    by_id = {layer.id: layer for layer in layers}
    needs = {layer.id: {edges[(layer.id, p)][0] for p in layer.inputs if (layer.id, p) in edges} for layer in layers}
    if any(src not in by_id for srcs in needs.values() for src in srcs):
        raise ModelLoadError(f"'{xml_path.name}' is damaged (an edge names a layer that does not exist).")
    done: set[str] = set()
    order: list[Layer] = []
    ready = [layer.id for layer in layers if not needs[layer.id]]
    users: dict[str, list[str]] = {}
    for lid, srcs in needs.items():
        for src in srcs:
            users.setdefault(src, []).append(lid)
    while ready:
        lid = ready.pop()
        order.append(by_id[lid])
        done.add(lid)
        for user in users.get(lid, []):
            if user not in done and needs[user] <= done and user not in ready:
                ready.append(user)
    if len(order) != len(layers):
        raise ModelLoadError(f"'{xml_path.name}' is damaged (its graph has a cycle or an unconnected input).")
    return order


# -- the operations ------------------------------------------------------------------------------------------
Op = Callable[[dict[str, str], list[torch.Tensor]], list[torch.Tensor]]


def _shape(t: torch.Tensor) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


def _reshape(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    shape = _shape(x[1])
    if data.get("special_zero", "false") == "true":
        shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return [x[0].reshape(shape)]


def _axes(t: torch.Tensor, rank: int) -> list[int]:
    return sorted(a % rank for a in _shape(t))


def _unsqueeze(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    out = x[0]
    for axis in _axes(x[1], x[0].dim() + len(_shape(x[1]))):
        out = out.unsqueeze(axis)
    return [out]


def _squeeze(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    out = x[0]
    for axis in reversed(_axes(x[1], x[0].dim())):
        out = out.squeeze(axis)
    return [out]


def _gather(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    axis = int(x[2].reshape(-1)[0]) % max(x[0].dim(), 1)
    index = x[1].long().to(x[0].device)
    flat = torch.index_select(x[0], axis, index.reshape(-1) % x[0].shape[axis])
    shape = list(x[0].shape[:axis]) + list(index.shape) + list(x[0].shape[axis + 1:])
    return [flat.reshape(shape)]


def _matmul(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    a, b = x
    if data.get("transpose_a") == "true":
        a = a.transpose(-1, -2)
    if data.get("transpose_b") == "true":
        b = b.transpose(-1, -2)
    return [a @ b]


def _prelu(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    value, slope = x
    if slope.numel() == 1 and slope.device.type == "cpu" and not (slope.requires_grad and torch.is_grad_enabled()):
        # one fixed slope (an exported LeakyReLU): leaky_relu gives the same values, and its backward, which skips
        # the slope's gradient, is twice as fast as prelu's on a CPU (an FFHQ step: 474 → 467 ms, within the noise)
        return [F.leaky_relu(value, float(slope))]
    if slope.numel() == 1 or (slope.dim() == 1 and value.dim() > 1 and slope.numel() == value.shape[1]):
        return [F.prelu(value, slope.reshape(-1))]  # one slope, or one per channel (axis 1): torch's fused kernel
    return [torch.where(value >= 0, value, value * slope)]


def _conv_padding(data: dict[str, str]) -> tuple[list[int], list[int]]:
    if data.get("auto_pad", "explicit") not in ("explicit", "notset"):
        raise ModelLoadError(f"convolution padding mode '{data.get('auto_pad')}' is not supported")
    return _ints(data.get("pads_begin", "0, 0")), _ints(data.get("pads_end", "0, 0"))


def _convolution(x: torch.Tensor, weight: torch.Tensor, data: dict[str, str], groups: int) -> torch.Tensor:
    begin, end = _conv_padding(data)
    strides, dilations = _ints(data["strides"]), _ints(data["dilations"])
    if groups == 1 and weight.shape[-2:] == (1, 1) and strides == [1, 1] and not any(begin + end):
        # a 1×1 convolution is a matrix product over channels: ~2× faster than conv2d's kernel on a CPU
        return (weight.flatten(1) @ x.flatten(2)).unflatten(2, x.shape[2:])
    if begin != end:
        x = F.pad(x, [begin[1], end[1], begin[0], end[0]])
        begin = [0, 0]
    return F.conv2d(x, weight, stride=strides, padding=begin, dilation=dilations, groups=groups)


def _conv(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    return [_convolution(x[0], x[1], data, 1)]


def _group_conv(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    w = x[1]  # [G, O/G, I/G, kH, kW]
    return [_convolution(x[0], w.reshape(w.shape[0] * w.shape[1], *w.shape[2:]), data, w.shape[0])]


def _group_conv_transpose(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    w = x[1]  # [G, I/G, O/G, kH, kW]
    begin, end = _conv_padding(data)
    strides, dilations = _ints(data["strides"]), _ints(data["dilations"])
    padding = _ints(data.get("output_padding", "0, 0"))
    if (w.shape[1:3] == (1, 1) and w.shape[0] == x[0].shape[1] and strides == list(w.shape[-2:])
            and dilations == [1, 1] and not any(begin + end + padding)):
        # one channel per group, kernel = stride (a wavelet's up-sampling): the kernels' footprints do not overlap,
        # so each input pixel just becomes a kH × kW tile of itself × the kernel: a broadcast, not a convolution
        n, c, h, width = x[0].shape
        kh, kw = w.shape[-2:]
        tiles = x[0][:, :, :, None, :, None] * w.reshape(1, c, 1, kh, 1, kw)  # [N, C, H, kH, W, kW]
        return [tiles.reshape(n, c, h * kh, width * kw)]
    out = F.conv_transpose2d(x[0], w.reshape(w.shape[0] * w.shape[1], *w.shape[2:]), stride=strides,
                             dilation=dilations, groups=w.shape[0], output_padding=padding)
    return [out[..., begin[0]:out.shape[-2] - end[0], begin[1]:out.shape[-1] - end[1]]]


def _variadic_split(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    axis = int(x[1].reshape(-1)[0]) % x[0].dim()
    lengths = _shape(x[2])
    if -1 in lengths:
        lengths[lengths.index(-1)] = x[0].shape[axis] - (sum(lengths) + 1)
    return list(torch.split(x[0], lengths, dim=axis))


def _broadcast(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    if data.get("mode", "numpy") not in ("numpy", "bidirectional"):
        raise ModelLoadError(f"broadcast mode '{data.get('mode')}' is not supported")
    target = _shape(x[1])
    if data.get("mode") == "bidirectional":
        target = list(torch.broadcast_shapes(tuple(x[0].shape), tuple(target)))
    return [x[0].expand(target).clone()]


def _tile(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    repeats = _shape(x[1])
    value = x[0].reshape([1] * (len(repeats) - x[0].dim()) + list(x[0].shape)) if len(repeats) > x[0].dim() else x[0]
    return [value.repeat([1] * (value.dim() - len(repeats)) + repeats)]


def _reduce_mean(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    return [x[0].mean(dim=_axes(x[1], x[0].dim()), keepdim=data.get("keep_dims", "false") == "true")]


def _concat(data: dict[str, str], x: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.cat(x, dim=int(data["axis"]))]


OPS: dict[str, Op] = {
    "Add": lambda d, x: [x[0] + x[1]], "Multiply": lambda d, x: [x[0] * x[1]],
    "Power": lambda d, x: [torch.pow(x[0], x[1])], "MatMul": _matmul, "PReLU": _prelu,
    "ShapeOf": lambda d, x: [torch.tensor(list(x[0].shape), dtype=torch.int64)],
    "Gather": _gather, "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Concat": _concat, "Reshape": _reshape,
    "Broadcast": _broadcast, "Tile": _tile, "VariadicSplit": _variadic_split, "ReduceMean": _reduce_mean,
    "Convolution": _conv, "GroupConvolution": _group_conv, "GroupConvolutionBackpropData": _group_conv_transpose,
}


class IRNetwork(torch.nn.Module):
    """An IR graph as a torch module: the graph's one Parameter is the input and its one Result the output.

    Float constants become tensors named after their layers (``const_<id>``): trainable-capable parameters
    (frozen until a caller such as pivotal tuning unfreezes them), except the fixed filters of transposed
    convolutions (a wavelet synthesis network's inverse transform), which stay buffers so tuning cannot bend them.
    """

    def __init__(self, xml_path: Path, bin_path: Path) -> None:
        super().__init__()
        self.layers, self.edges, constants = read_ir(xml_path, bin_path)
        inputs = [layer for layer in self.layers if layer.type == "Parameter"]
        outputs = [layer for layer in self.layers if layer.type == "Result"]
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f"'{xml_path.name}' must have one input and one output "
                                 f"(it has {len(inputs)} and {len(outputs)}).")
        self.input_id, self.output_id = inputs[0].id, outputs[0].id
        fixed = {self.edges[(layer.id, layer.inputs[1])][0] for layer in self.layers
                 if layer.type == "GroupConvolutionBackpropData" and (layer.id, layer.inputs[1]) in self.edges}
        self.integers: dict[str, torch.Tensor] = {}
        for lid, array in constants.items():
            tensor = torch.from_numpy(array)
            if not tensor.is_floating_point():
                self.integers[lid] = tensor.long()
            elif lid in fixed:
                self.register_buffer(f"const_{lid}", tensor.float())
            else:
                self.register_parameter(f"const_{lid}", torch.nn.Parameter(tensor.float(), requires_grad=False))
        self._by_id = {layer.id: layer for layer in self.layers}
        self._plans: dict[str, tuple[list[Layer], dict[str, list[tuple[str, str]]]]] = {}

    def consumers(self, layer_id: str, op: str) -> list[tuple[str, str]]:
        """The (layer, port) inputs of type ``op`` layers that read ``layer_id``'s output, in execution order."""
        return [(layer.id, port) for layer in self.layers if layer.type == op for port in layer.inputs
                if self.edges.get((layer.id, port), ("", ""))[0] == layer_id]

    def layer(self, layer_id: str) -> Layer:
        return self._by_id[layer_id]

    def _plan(self, target: str) -> tuple[list[Layer], dict[str, list[tuple[str, str]]]]:
        """The layers ``target`` depends on, in execution order (a truncated graph computes nothing more), and
        for each the values it reads last, which are dropped once it has run so memory holds only live tensors."""
        if target not in self._plans:
            needed, stack = {target}, [target]
            while stack:
                layer = self.layer(stack.pop())
                for port in layer.inputs:
                    source = self.edges[(layer.id, port)][0]
                    if source not in needed:
                        needed.add(source)
                        stack.append(source)
            order = [layer for layer in self.layers if layer.id in needed]
            last: dict[tuple[str, str], str] = {}
            for layer in order:
                for port in layer.inputs:
                    last[self.edges[(layer.id, port)]] = layer.id
            drops: dict[str, list[tuple[str, str]]] = {}
            for key, reader in last.items():
                drops.setdefault(reader, []).append(key)
            self._plans[target] = (order, drops)
        return self._plans[target]

    def forward(self, x: torch.Tensor, *, feeds: dict[tuple[str, str], torch.Tensor] | None = None,
                until: str | None = None) -> torch.Tensor:
        """The output for input ``x``; ``feeds`` replaces what given (layer, port) inputs read (a per-layer style),
        ``until`` returns that layer's first output instead, computing only what it needs."""
        values: dict[tuple[str, str], torch.Tensor] = {}
        feeds = feeds or {}
        order, drops = self._plan(until or self.output_id)
        for layer in order:
            args = [feeds[(layer.id, port)] if (layer.id, port) in feeds else values[self.edges[(layer.id, port)]]
                    for port in layer.inputs]
            if layer.type == "Parameter":
                outs = [x]
            elif layer.type == "Const":
                outs = [self.integers[layer.id] if layer.id in self.integers else getattr(self, f"const_{layer.id}")]
            elif layer.type == "Result":
                return args[0]
            else:
                outs = OPS[layer.type](layer.data, args)
            if layer.id == until:
                return outs[0]
            for key in drops.get(layer.id, ()):
                values.pop(key, None)
            values.update(zip(((layer.id, port) for port in layer.outputs), outs, strict=True))
        raise ModelLoadError(f"The network has no layer '{until}' to stop at.")
