"""The OpenVINO IR reader and interpreter on small graphs written here (the real FFHQ model's weights cannot be
committed): every op the reader knows, against the same computation written directly in torch; and damaged
installs (missing or truncated .bin, edited .xml, unknown ops, cycles) refused with a message naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.errors import ModelLoadError
from core.generators.openvino_ir import IRNetwork

Ref = tuple[str, str]  # (layer id, output port id)


class GraphWriter:
    """Builds an IR v10 graph: layers, edges and the .bin of its constants."""

    def __init__(self) -> None:
        self.layers: list[str] = []
        self.edges: list[str] = []
        self.blob = bytearray()
        self.next = 0

    def _id(self) -> str:
        self.next += 1
        return str(self.next - 1)

    def parameter(self) -> Ref:
        lid = self._id()
        self.layers.append(f'<layer id="{lid}" name="x" type="Parameter" version="opset1"><data shape="1" '
                           f'element_type="f32"/><output><port id="0"/></output></layer>')
        return lid, "0"

    def const(self, array: np.ndarray) -> Ref:
        kind = {np.dtype(np.float32): "f32", np.dtype(np.int64): "i64", np.dtype(np.int32): "i32"}[array.dtype]
        lid, offset = self._id(), len(self.blob)
        self.blob += array.tobytes()
        shape = ", ".join(str(n) for n in array.shape)
        self.layers.append(f'<layer id="{lid}" name="c{lid}" type="Const" version="opset1"><data element_type='
                           f'"{kind}" shape="{shape}" offset="{offset}" size="{array.nbytes}"/><output>'
                           f'<port id="0"/></output></layer>')
        return lid, "0"

    def op(self, kind: str, inputs: list[Ref], outputs: int = 1, **data: str) -> list[Ref]:
        lid = self._id()
        attrs = " ".join(f'{k}="{v}"' for k, v in data.items())
        ports_in = "".join(f'<port id="{i}"/>' for i in range(len(inputs)))
        ports_out = "".join(f'<port id="{len(inputs) + i}"/>' for i in range(outputs))
        self.layers.append(f'<layer id="{lid}" name="{kind}{lid}" type="{kind}" version="opset1"><data {attrs}/>'
                           f'<input>{ports_in}</input><output>{ports_out}</output></layer>')
        for i, (src, port) in enumerate(inputs):
            self.edges.append(f'<edge from-layer="{src}" from-port="{port}" to-layer="{lid}" to-port="{i}"/>')
        return [(lid, str(len(inputs) + i)) for i in range(outputs)]

    def result(self, ref: Ref) -> None:
        lid = self._id()
        self.layers.append(f'<layer id="{lid}" name="out" type="Result" version="opset1"><input><port id="0"/>'
                           f'</input></layer>')
        self.edges.append(f'<edge from-layer="{ref[0]}" from-port="{ref[1]}" to-layer="{lid}" to-port="0"/>')

    def save(self, folder, stem: str = "net"):
        xml = (f'<?xml version="1.0"?><net name="{stem}" version="10"><layers>{"".join(self.layers)}</layers>'
               f'<edges>{"".join(self.edges)}</edges></net>')
        (folder / f"{stem}.xml").write_text(xml)
        (folder / f"{stem}.bin").write_bytes(bytes(self.blob))
        return folder / f"{stem}.xml", folder / f"{stem}.bin"


RNG = np.random.default_rng(0)


def _f(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _i(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


def test_a_synthesis_like_graph_equals_the_same_torch_ops(tmp_path):
    g = GraphWriter()
    x = g.parameter()
    w1, b1, slope = _f(4, 4, 3, 3), _f(1, 4, 1, 1), np.array([0.2], np.float32)
    w2, w3 = _f(4, 1, 1, 3, 3), _f(1, 1, 1, 2, 2)
    (h,) = g.op("Convolution", [x, g.const(w1)], strides="1, 1", dilations="1, 1", pads_begin="1, 1",
                pads_end="1, 1", auto_pad="explicit")
    (h,) = g.op("Add", [h, g.const(b1)], auto_broadcast="numpy")
    (h,) = g.op("PReLU", [h, g.const(slope)])
    (h,) = g.op("GroupConvolution", [h, g.const(w2)], strides="1, 1", dilations="1, 1", pads_begin="1, 1",
                pads_end="1, 1", auto_pad="explicit")
    first, rest = g.op("VariadicSplit", [h, g.const(_i(1)), g.const(_i(1, -1))], outputs=2)
    (up,) = g.op("GroupConvolutionBackpropData", [first, g.const(w3)], strides="2, 2", dilations="1, 1",
                 pads_begin="0, 0", pads_end="0, 0", auto_pad="explicit", output_padding="0, 0")
    (pooled,) = g.op("ReduceMean", [rest, g.const(_i(2, 3))], keep_dims="true")
    (power,) = g.op("Power", [pooled, g.const(np.array([2.0], np.float32))], auto_broadcast="numpy")
    (tiled,) = g.op("Tile", [power, g.const(_i(1, 1, 4, 4))])
    (channel,) = g.op("VariadicSplit", [tiled, g.const(_i(1)), g.const(_i(1, 2))], outputs=2)[:1]
    (up_small,) = g.op("Squeeze", [g.op("Unsqueeze", [channel, g.const(_i(0))])[0], g.const(_i(0))])
    (pad_to,) = g.op("Tile", [up_small, g.const(_i(1, 1, 2, 2))])
    (out,) = g.op("Multiply", [up, pad_to], auto_broadcast="numpy")
    g.result(out)
    net = IRNetwork(*g.save(tmp_path))
    x_in = torch.from_numpy(_f(1, 4, 4, 4))
    t = lambda a: torch.from_numpy(a)  # noqa: E731
    h = F.leaky_relu(F.conv2d(x_in, t(w1), padding=1) + t(b1), 0.2)
    h = F.conv2d(h, t(w2).reshape(4, 1, 3, 3), padding=1, groups=4)
    up = F.conv_transpose2d(h[:, :1], t(w3).reshape(1, 1, 2, 2), stride=2)
    power = h[:, 1:].mean(dim=(2, 3), keepdim=True) ** 2
    expected = up * power[:, :1].repeat(1, 1, 8, 8)
    assert torch.allclose(net(x_in), expected, atol=1e-5)


def test_a_mapping_like_graph_with_shape_plumbing(tmp_path):
    g = GraphWriter()
    x = g.parameter()
    weight, bias = _f(6, 5), _f(1, 6)
    (sq,) = g.op("Power", [x, g.const(np.array([2.0], np.float32))], auto_broadcast="numpy")
    (mean,) = g.op("ReduceMean", [sq, g.const(_i(1))], keep_dims="true")
    (norm,) = g.op("Power", [mean, g.const(np.array([-0.5], np.float32))], auto_broadcast="numpy")
    (h,) = g.op("Multiply", [x, norm], auto_broadcast="numpy")
    (h,) = g.op("MatMul", [h, g.const(weight)], transpose_a="false", transpose_b="true")
    (h,) = g.op("Add", [h, g.const(bias)], auto_broadcast="numpy")
    (shape,) = g.op("ShapeOf", [h])
    (batch,) = g.op("Gather", [shape, g.const(np.array(0, np.int32)), g.const(np.array(0, np.int64))])
    (batch,) = g.op("Unsqueeze", [batch, g.const(_i(0))])
    (target,) = g.op("Concat", [batch, g.const(_i(2)), g.const(_i(-1))], axis="0")
    (grid,) = g.op("Reshape", [h, target], special_zero="false")
    (grid,) = g.op("Reshape", [grid, g.const(_i(0, 0, 3))], special_zero="true")  # 0: keep that dimension
    (wide,) = g.op("Broadcast", [grid, g.const(_i(2, 2, 3))], mode="numpy")
    g.result(wide)
    net = IRNetwork(*g.save(tmp_path))
    x_in = torch.from_numpy(_f(1, 5))
    h = x_in * x_in.pow(2).mean(dim=1, keepdim=True).pow(-0.5)
    h = h @ torch.from_numpy(weight).T + torch.from_numpy(bias)
    out = net(x_in)
    assert out.shape == (2, 2, 3)
    assert torch.allclose(out[0].reshape(-1), h[0], atol=1e-5) and torch.equal(out[0], out[1])


def _small(tmp_path):
    g = GraphWriter()
    (out,) = g.op("Add", [g.parameter(), g.const(_f(1, 3))], auto_broadcast="numpy")
    g.result(out)
    return g.save(tmp_path)


def _truncate(xml, data):
    data.write_bytes(data.read_bytes()[:5])


def _edit(old: str, new: str):
    def damage(xml, data):
        xml.write_text(xml.read_text().replace(old, new))
    return damage


@pytest.mark.parametrize(("damage", "words"), [
    (lambda xml, data: data.unlink(), "missing"),
    (_truncate, "outside the weights file"),
    (lambda xml, data: xml.write_text(xml.read_text()[:80]), "not a readable"),
    (_edit('version="10"', 'version="11"'), "version 10"),
    (_edit('type="Add"', 'type="Sinh"'), "Sinh"),
    (_edit('element_type="f32" shape="1, 3"', 'element_type="q7" shape="1, 3"'), "element type"),
    (_edit('size="12"', 'size="1200000"'), "outside the weights file"),
    (_edit('from-layer="0"', 'from-layer="99"'), "does not exist"),
    (lambda xml, data: xml.write_text('<!DOCTYPE n [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
                                      '<net version="10">&b;</net>'), "DTD"),
], ids=["no-bin", "bin-truncated", "xml-truncated", "other-version", "unknown-op", "unknown-type", "size-lies",
        "dangling-edge", "entities"])
def test_a_damaged_install_is_a_clear_error(tmp_path, damage, words):
    xml, data = _small(tmp_path)
    assert IRNetwork(xml, data)(torch.zeros(1, 3)).shape == (1, 3)  # undamaged, the graph runs
    damage(xml, data)
    with pytest.raises(ModelLoadError, match=words):
        IRNetwork(xml, data)
