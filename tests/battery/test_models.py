"""Battery: hostile and damaged model files given to ``--model``. Each is refused with one ``error:`` line, runs no
code (the canary), allocates nothing its file does not hold, and writes no output."""

from __future__ import annotations

import builtins
import importlib
import io
import json
import os
import pickle
import resource
import struct
import subprocess
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.generators.dcgan import DCGANNet
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Net
from core.resources import resources_dir

DEFAULT_MODEL = resources_dir() / "models" / "dcgan_digiface" / "generator.safetensors"
PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)  # 0 … 5


class Payload:
    """Pickles as a call that would create the canary file if anything ever unpickled it."""

    def __init__(self, kind: str, canary: Path) -> None:
        self.kind, self.canary = kind, canary

    def __reduce__(self):
        c = str(self.canary)
        return {
            "os.system": (os.system, (f"touch {c}",)),
            "eval": (builtins.eval, (f"open({c!r}, 'w')",)),
            "exec": (builtins.exec, (f"open({c!r}, 'w').close()",)),
            "subprocess": (subprocess.Popen, (["touch", c],)),
            "import_module": (importlib.import_module, ("os",)),  # a step towards a call: refused before it is taken
        }[self.kind]


HOSTILE = ("os.system", "eval", "exec", "subprocess", "import_module")


def _nested(payload: Payload, depth: int = 6) -> object:
    obj: object = payload
    for level in range(depth):
        obj = {"G_ema": [obj]} if level % 2 else OrderedDict(a=(obj,))
    return obj


def _sample(cli, model: Path, tmp_path: Path):
    out = tmp_path / "grid.png"
    outcome = cli("sample", "--n", "1", "--model", model, "--out", out)
    assert not out.exists()
    return outcome


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_network_pickle_runs_nothing(cli, tmp_path, canary, kind, protocol):
    path = tmp_path / "net.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Payload(kind, canary)}, protocol=protocol))
    _sample(cli, path, tmp_path).assert_one_error("net.pkl")


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_checkpoint_runs_nothing(cli, tmp_path, canary, kind):
    path = tmp_path / "net.pt"
    torch.save({"g_ema": {"style.1.weight": Payload(kind, canary)}}, path)  # a torch.save zip with a hostile data.pkl
    _sample(cli, path, tmp_path).assert_one_error("net.pt")


@pytest.mark.parametrize("suffix", [".pkl", ".pt", ".safetensors"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_nested_hostile_pickle_runs_nothing(cli, tmp_path, canary, suffix, protocol):
    path = tmp_path / f"net{suffix}"
    path.write_bytes(pickle.dumps(_nested(Payload("os.system", canary)), protocol=protocol))
    _sample(cli, path, tmp_path).assert_one_error(path.name)


# ------------------------------------------------------------------------------------------ damaged safetensors


def _default_parts() -> tuple[dict, bytes]:
    """The default model's safetensors header (dict) and data bytes."""
    blob = DEFAULT_MODEL.read_bytes()
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


def _assemble(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _with_tensor(header: dict, name: str, **changes) -> dict:
    header = json.loads(json.dumps(header))
    header[name].update(changes)
    return header


def _damaged_safetensors(kind: str, tmp_path: Path) -> Path:
    header, data = _default_parts()
    meta = header["__metadata__"]
    first = "blocks.0.conv.weight"
    path = tmp_path / "model.safetensors"
    blob = {
        "empty": b"",
        "garbage": os.urandom(4096),
        "eight zero bytes": b"\0" * 8,
        "header length 2**63": struct.pack("<Q", 2**63) + b"{}",
        "header length past the end": struct.pack("<Q", 10**6) + b'{"a": 1}',
        "header not json": struct.pack("<Q", 9) + b"{not json",
        "header a list": _assemble([], b""),  # type: ignore[arg-type]
        "truncated data": DEFAULT_MODEL.read_bytes()[: DEFAULT_MODEL.stat().st_size // 2],
        "truncated header": DEFAULT_MODEL.read_bytes()[:100],
        "offsets past the end": _assemble(_with_tensor(header, first, data_offsets=[0, len(data) + 4096]), data),
        "huge shape": _assemble(_with_tensor(header, first, shape=[2**40, 2**20, 4, 4]), data),
        "negative shape": _assemble(_with_tensor(header, first, shape=[-100, 512, 4, 4]), data),
        "unknown dtype": _assemble(_with_tensor(header, first, dtype="Q99"), data),
        "integer weights": _assemble(_with_tensor(header, first, dtype="I16"), data),
        "bool weights": _assemble(_with_tensor(header, "blocks.0.norm.bias", dtype="BOOL", shape=[1024]), data),
        "huge z_dim": _assemble({**header, "__metadata__": {**meta, "z_dim": str(10**12)}}, data),
        "huge channels": _assemble({**header, "__metadata__": {**meta, "channels": "4000000,4000000"}}, data),
        "a billion layers": _assemble({**header, "__metadata__": {**meta, "channels": ",".join(["64"] * 10**5)}}, data),
        "negative channels": _assemble({**header, "__metadata__": {**meta, "channels": "-5,256,128,64"}}, data),
        "no architecture": _assemble({**header, "__metadata__": {k: v for k, v in meta.items() if k != "architecture"}},
                                     data),
        "another architecture": _assemble({**header, "__metadata__": {**meta, "architecture": "stylegan9"}}, data),
        "a missing tensor": _assemble({k: v for k, v in header.items() if k != "to_rgb.weight"}, data),
    }.get(kind)
    if blob is None:
        raise KeyError(kind)
    path.write_bytes(blob)
    return path


DAMAGED = ["empty", "garbage", "eight zero bytes", "header length 2**63", "header length past the end",
           "header not json", "header a list", "truncated data", "truncated header", "offsets past the end",
           "huge shape", "negative shape", "unknown dtype", "integer weights", "bool weights", "huge z_dim",
           "huge channels", "a billion layers", "negative channels", "no architecture", "another architecture",
           "a missing tensor"]


@pytest.fixture
def memory_cap():
    """Cap this process's address space at its current size + 3 GiB, so a reader that allocates what a header
    claims fails fast instead of exhausting the machine (the cap is lifted after the case)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + 3 * 2**30, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("kind", DAMAGED)
def test_damaged_safetensors_is_refused(cli, tmp_path, kind, memory_cap):
    path = _damaged_safetensors(kind, tmp_path)
    _sample(cli, path, tmp_path).assert_one_error("model.safetensors")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e30])
def test_non_finite_or_absurd_weights_are_refused(cli, tmp_path, value):
    net = DCGANNet(z_dim=8, channels=(16, 8))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["to_rgb.weight"].fill_(value)
    path = tmp_path / "model.safetensors"
    save_file(state, str(path), metadata={"architecture": "dcgan", "z_dim": "8", "channels": "16,8", "name": "tiny"})
    _sample(cli, path, tmp_path).assert_one_error("model.safetensors")


def test_model_folder_named_like_a_file_is_refused(cli, tmp_path):
    folder = tmp_path / "model.safetensors"
    folder.mkdir()
    _sample(cli, folder, tmp_path).assert_one_error("model.safetensors")


# ------------------------------------------------------------------------------------- damaged .pt checkpoints


def _tiny_stylegan_state() -> dict[str, torch.Tensor]:
    return StyleGAN2Net(StyleGAN2Config(resolution=8, style_dim=8, n_mlp=1, channel_max=8)).state_dict()


class _HugeView:
    """A real storage of 4 floats that its tensor record claims is 2**40 × 2**20."""

    def __reduce__(self):
        storage = torch.zeros(4).untyped_storage()
        return (torch._utils._rebuild_tensor_v2,
                (torch.storage.TypedStorage(wrap_storage=storage, dtype=torch.float32, _internal=True), 0,
                 (2**40, 2**20), (2**20, 1), False, OrderedDict()))


def _damaged_checkpoint(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / "model.pt"
    buffer = io.BytesIO()
    torch.save({"g_ema": _tiny_stylegan_state()}, buffer)
    valid = buffer.getvalue()
    if kind == "truncated":
        path.write_bytes(valid[: len(valid) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(2048))
    elif kind == "zip without data.pkl":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/version", "3\n")
    elif kind == "tensor larger than its storage":
        torch.save({"g_ema": {"style.1.weight": _HugeView()}}, path)
    elif kind == "no g_ema":
        torch.save({"generator": _tiny_stylegan_state()}, path)
    elif kind == "resolution 2**30 from 28 tiny to-rgb layers":
        state = _tiny_stylegan_state()
        for i in range(28):
            state[f"to_rgbs.{i}.conv.weight"] = torch.zeros(1, 3, 8, 1, 1)
        torch.save({"g_ema": state}, path)
    elif kind == "resolution 8192 from tiny to-rgb layers":
        state = _tiny_stylegan_state()
        for i in range(11):
            state[f"to_rgbs.{i}.conv.weight"] = torch.zeros(1, 3, 8, 1, 1)
            state[f"convs.{2 * i}.conv.weight"] = torch.zeros(1, 8, 8, 3, 3)
        torch.save({"g_ema": state}, path)
    elif kind == "nan weights":
        state = _tiny_stylegan_state()
        state["style.1.weight"].fill_(float("nan"))
        torch.save({"g_ema": state}, path)
    else:
        raise KeyError(kind)
    return path


CHECKPOINTS = ["truncated", "empty", "garbage", "zip without data.pkl", "tensor larger than its storage", "no g_ema",
               "resolution 2**30 from 28 tiny to-rgb layers", "resolution 8192 from tiny to-rgb layers", "nan weights"]


@pytest.mark.parametrize("kind", CHECKPOINTS)
def test_damaged_checkpoint_is_refused(cli, tmp_path, kind, memory_cap):
    path = _damaged_checkpoint(kind, tmp_path)
    _sample(cli, path, tmp_path).assert_one_error("model.pt")


def test_network_pickle_storage_claiming_huge_size_is_refused(cli, tmp_path, canary):
    """A legacy storage blob whose record claims 2**40 floats but holds 4: refused without allocating them."""
    class Storage:
        pass

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", 2**40, None) if isinstance(obj, Storage) else None

    stream = io.BytesIO()
    for value in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(value, stream, protocol=2)
    Pickler(stream, protocol=2).dump(Storage())
    pickle.dump(["0"], stream, protocol=2)
    stream.write((2**40).to_bytes(8, "little") + b"\0" * 16)

    class Blob:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (stream.getvalue(),))

    path = tmp_path / "net.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Blob()}, protocol=4))
    _sample(cli, path, tmp_path).assert_one_error("net.pkl")
