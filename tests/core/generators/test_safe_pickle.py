"""NVIDIA network pickles read as data: names and tensors as ``state_dict()`` gives them, and nothing in them runs.

The stand-in networks below pickle exactly as ``torch_utils.persistence`` does (``Persistent`` from
:mod:`tests.core.generators.nvidia_pickles`), dumped with plain ``pickle.dump`` like stylegan2-ada's training loop.
Their ``module_src`` writes a marker file and raises if executed; every test checks the marker is never written.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import pickle
import random
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ModelLoadError
from core.generators import safe_pickle
from core.generators.safe_pickle import TorchModuleRecord, load_nvidia_pickle
from tests.core.generators.nvidia_pickles import EasyDict, Persistent, fake_modules


class FullyConnectedLayer(Persistent):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.weight = torch.nn.Parameter(torch.randn(out_features, in_features))
        self.bias = torch.nn.Parameter(torch.randn(out_features))
        self.weight_gain = 1 / np.sqrt(in_features)  # a numpy float64, as in NVIDIA's networks.py


class MappingNetwork(Persistent):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int, num_layers: int = 2) -> None:
        super().__init__(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=num_ws, num_layers=num_layers)
        self.embed = torch.nn.Linear(2, w_dim)  # a plain torch.nn module inside a persistent one
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(z_dim if idx == 0 else w_dim, w_dim))
        self.register_buffer("w_avg", torch.randn(w_dim))


class SynthesisLayer(Persistent):
    def __init__(self, w_dim: int, channels: int, resolution: int) -> None:
        super().__init__(w_dim, channels, channels, resolution=resolution)
        self.affine = FullyConnectedLayer(w_dim, channels)
        self.weight = torch.nn.Parameter(torch.randn(channels, channels, 3, 3))
        self.bias = torch.nn.Parameter(torch.zeros(channels))
        self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(resolution, resolution).t())  # non-contiguous on purpose
        self.register_buffer("resample_filter", torch.ones(4, 4, dtype=torch.float16) / 16)


class ToRGBLayer(Persistent):
    def __init__(self, w_dim: int, channels: int, img_channels: int) -> None:
        super().__init__(channels, img_channels, w_dim=w_dim)
        self.affine = FullyConnectedLayer(w_dim, channels)
        self.weight = torch.nn.Parameter(torch.randn(img_channels, channels, 1, 1))
        self.bias = torch.nn.Parameter(torch.zeros(img_channels))


class SynthesisBlock(Persistent):
    def __init__(self, w_dim: int, channels: int, resolution: int, img_channels: int) -> None:
        super().__init__(channels, channels, w_dim=w_dim, resolution=resolution, img_channels=img_channels)
        if resolution == 4:
            self.const = torch.nn.Parameter(torch.randn(channels, 4, 4))
        else:
            self.conv0 = SynthesisLayer(w_dim, channels, resolution)
        self.conv1 = SynthesisLayer(w_dim, channels, resolution)
        self.torgb = ToRGBLayer(w_dim, channels, img_channels)
        self.register_buffer("resample_filter", torch.ones(4, 4) / 16)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)  # state_dict leaves these out


class SynthesisNetwork(Persistent):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 64,
                 channel_max: int = 4, num_fp16_res: int = 0, conv_clamp: int | None = None) -> None:
        super().__init__(w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                         channel_base=channel_base, channel_max=channel_max, num_fp16_res=num_fp16_res,
                         conv_clamp=conv_clamp)
        self.b4 = SynthesisBlock(w_dim, channel_max, 4, img_channels)
        self.b8 = SynthesisBlock(w_dim, channel_max, 8, img_channels)
        self.num_ws = 4


class Generator(Persistent):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int,
                 mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None) -> None:
        super().__init__(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=img_resolution,
                         img_channels=img_channels, mapping_kwargs=mapping_kwargs or {},
                         synthesis_kwargs=synthesis_kwargs or {})
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))


G_KWARGS = dict(z_dim=4, c_dim=0, w_dim=4, img_resolution=8, img_channels=3,
                mapping_kwargs=EasyDict(num_layers=2),
                synthesis_kwargs=EasyDict(channel_base=64, channel_max=4, num_fp16_res=0, conv_clamp=None))


class Payload:
    """An object whose unpickling would call ``func(*args)``."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "executed.marker"


@pytest.fixture
def write_pickle(tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch):
    """Dump an object with the fake NVIDIA modules present only while pickling; returns the file path."""
    src = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nraise SystemExit('executed')\n"
    monkeypatch.setattr(Persistent, "module_src", src)

    def write(obj, name: str = "network.pkl", protocol: int = 3) -> Path:
        with monkeypatch.context() as patch:
            for name_, module in fake_modules().items():
                patch.setitem(sys.modules, name_, module)
            path = tmp_path / name
            with path.open("wb") as fh:
                pickle.dump(obj, fh, protocol=protocol)
        assert "torch_utils.persistence" not in sys.modules  # the loader gets no help from them
        return path

    return write


@pytest.fixture
def networks():
    torch.manual_seed(0)
    G = Generator(**G_KWARGS).eval().requires_grad_(False)
    G_ema = Generator(**G_KWARGS).eval().requires_grad_(False)
    G_ema.load_state_dict(G.state_dict())
    with torch.no_grad():
        for param in G_ema.parameters():
            param.mul_(2.0)
    return G, G_ema


def _assert_same_state(loaded: dict[str, torch.Tensor], module: torch.nn.Module) -> None:
    expected = module.state_dict()
    assert list(loaded) == list(expected)
    for name, tensor in expected.items():
        assert loaded[name].dtype == tensor.dtype and loaded[name].shape == tensor.shape, name
        assert torch.equal(loaded[name], tensor), name


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_the_generator_reads_as_kwargs_and_a_state_dict(write_pickle, networks, marker, protocol):
    G, G_ema = networks
    snapshot = dict(G=G, D=None, G_ema=G_ema, augment_pipe=None,
                    training_set_kwargs=EasyDict(path="faces.zip", resolution=8, xflip=False))
    result = load_nvidia_pickle(write_pickle(snapshot, protocol=protocol))
    assert result["network"] == "G_ema" and result["class_name"] == "Generator"
    _assert_same_state(result["state_dict"], G_ema)
    assert {"mapping.fc0.weight", "mapping.w_avg", "mapping.embed.weight", "synthesis.b4.const",
            "synthesis.b4.conv1.affine.weight", "synthesis.b8.conv0.noise_const", "synthesis.b8.torgb.weight",
            "synthesis.b4.resample_filter"} <= set(result["state_dict"])
    assert "synthesis.b4.scratch" not in result["state_dict"]
    kwargs = result["init_kwargs"]
    assert kwargs == {k: dict(v) if isinstance(v, dict) else v for k, v in G_KWARGS.items()}
    assert type(kwargs["mapping_kwargs"]) is dict and type(kwargs["synthesis_kwargs"]) is dict
    assert result["source_sha256"] == hashlib.sha256(Persistent.module_src.encode()).hexdigest()
    assert not marker.exists()


def test_numpy_values_and_every_tensor_dtype_come_through(write_pickle, networks, marker, monkeypatch):
    G = networks[1]
    G.synthesis.sampling_rates = np.array([4.0, 8.0])  # stylegan3 keeps numpy values in its modules
    G.synthesis.b8.cutoff = np.float64(2.5)
    G.synthesis.dtype, G.synthesis.shape, G.synthesis.where = torch.float16, torch.Size([1, 2]), torch.device("cpu")
    G.mapping.register_buffer("as_bf16", torch.linspace(0, 1, 3, dtype=torch.bfloat16))
    G.mapping.register_buffer("as_bool", torch.tensor([True, False]))
    G.mapping.register_buffer("as_uint16", torch.tensor([1, 2, 65535], dtype=torch.uint16))  # an untyped storage
    G.mapping.register_buffer("as_int64", torch.arange(6).view(2, 3)[:, 1:])  # a view with an offset
    path = write_pickle({"G_ema": G})
    for name in ("exec", "compile"):  # nothing in loading may compile or execute code
        monkeypatch.setattr(builtins, name, lambda *a, **k: pytest.fail("code was compiled or executed"))
    _assert_same_state(load_nvidia_pickle(path)["state_dict"], G)
    assert not marker.exists()


def test_g_is_used_when_there_is_no_g_ema(write_pickle, networks, marker):
    G, _ = networks
    result = load_nvidia_pickle(write_pickle({"G": G, "D": None}))
    assert result["network"] == "G"
    _assert_same_state(result["state_dict"], G)
    assert not marker.exists()


def test_loaded_tensors_are_plain_and_detached(write_pickle, networks):
    state = load_nvidia_pickle(write_pickle({"G_ema": networks[1]}))["state_dict"]
    assert all(type(t) is torch.Tensor and not t.requires_grad for t in state.values())


def test_plain_torch_modules_become_inert_records(write_pickle):
    record = safe_pickle._NetworkUnpickler(write_pickle(torch.nn.Linear(2, 3)).open("rb")).load()
    assert isinstance(record, TorchModuleRecord) and not isinstance(record, torch.nn.Module)
    assert record.class_path == "torch.nn.modules.linear.Linear"
    assert set(safe_pickle.flatten_state_dict(record)) == {"weight", "bias"}


@pytest.mark.parametrize("payload, refused", [
    (lambda m: Payload(os.system, f"touch {m}"), f"{os.system.__module__}.system"),
    (lambda m: Payload(builtins.eval, f"open({str(m)!r}, 'w')"), "builtins.eval"),
    (lambda m: Payload(subprocess.Popen, ["touch", str(m)]), "subprocess.Popen"),
    (lambda m: Payload(Path.touch, Path(m)), "builtins.getattr"),  # a method pickles as getattr(cls, name)
    (lambda m: Payload(torch.load, str(m)), "torch.serialization.load"),
])
def test_a_file_that_asks_to_run_code_is_refused(write_pickle, networks, marker, payload, refused):
    G = networks[0]
    G.synthesis.b8.conv1.evil = payload(marker)  # deep inside the network's state
    with pytest.raises(ModelLoadError, match="refused") as info:
        load_nvidia_pickle(write_pickle({"G_ema": G}))
    assert refused in str(info.value) and "never needs" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("raw", [
    b"\x80\x02ctorch.nn.modules.module\ntorch\n.",  # a module object, not an nn.Module class
    b"\x80\x02ctorch.nn.modules.linear\nLinear\nK\x02\x85R.",  # a module class called with arguments
    b"\x80\x02ctorch._utils\n_rebuild_device_tensor_from_numpy\n.",  # a torch helper outside the list
    b"\x80\x02cimportlib\nimport_module\nX\x02\x00\x00\x00os\x85R.",
    b"\x80\x02X\x01\x00\x00\x00xQ.",  # a persistent id: plain pickle.dump never writes one
])
def test_hand_made_pickles_are_refused(tmp_path, raw):
    path = tmp_path / "crafted.pkl"
    path.write_bytes(raw)
    with pytest.raises(ModelLoadError, match="refused"):
        load_nvidia_pickle(path)


def test_a_tensor_larger_than_its_data_is_refused(write_pickle):
    storage = torch.storage.TypedStorage(wrap_storage=torch.arange(3.0).untyped_storage(), dtype=torch.float32,
                                         _internal=True)
    crafted = Payload(torch._utils._rebuild_tensor_v2, storage, 0, (100,), (1,), False, OrderedDict())
    with pytest.raises(ModelLoadError, match="larger than its own data"):
        load_nvidia_pickle(write_pickle({"G_ema": crafted}))


def test_a_storage_blob_that_asks_to_run_code_is_refused(write_pickle, marker):
    header = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    blob = header + pickle.dumps(Payload(os.system, f"touch {marker}"), protocol=2)
    with pytest.raises(ModelLoadError, match="refused"):
        load_nvidia_pickle(write_pickle({"G_ema": Payload(torch.storage._load_from_bytes, blob)}))
    assert not marker.exists()


def test_damaged_and_foreign_files_get_clear_errors(tmp_path, write_pickle, networks):
    good = write_pickle({"G_ema": networks[1]}).read_bytes()
    cases = {
        "empty.pkl": (b"", "empty"),
        "truncated.pkl": (good[: len(good) // 2], "truncated|damaged"),
        "noise.pkl": (random.Random(0).randbytes(4096), "not an NVIDIA network pickle"),
        "noise2.pkl": (b"\x80\x04" + random.Random(1).randbytes(4096), "damaged|truncated|refused"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ModelLoadError, match=message):
            load_nvidia_pickle(tmp_path / name)
    torch.save({"w": torch.zeros(2)}, tmp_path / "zip.pt")
    with pytest.raises(ModelLoadError, match=r"torch\.save"):
        load_nvidia_pickle(tmp_path / "zip.pt")
    torch.save({"w": torch.zeros(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ModelLoadError, match=r"not an NVIDIA network pickle|refused"):
        load_nvidia_pickle(tmp_path / "legacy.pt")
    with pytest.raises(ModelLoadError, match="No model file"):
        load_nvidia_pickle(tmp_path / "missing.pkl")


def test_a_pickle_without_a_generator_is_rejected(write_pickle):
    with pytest.raises(ModelLoadError, match="no generator"):
        load_nvidia_pickle(write_pickle({"D": None, "training_set_kwargs": EasyDict(resolution=8)}))
    with pytest.raises(ModelLoadError, match="not an NVIDIA network pickle"):
        load_nvidia_pickle(write_pickle([1, 2, 3]))


def test_a_file_larger_than_free_memory_is_refused_before_reading(write_pickle, networks, monkeypatch):
    path = write_pickle({"G_ema": networks[1]})
    monkeypatch.setattr(safe_pickle, "_available_memory", lambda: 1024)
    monkeypatch.setattr(safe_pickle, "_NetworkUnpickler", None)  # would fail loudly if reached
    with pytest.raises(ModelLoadError, match="memory"):
        load_nvidia_pickle(path)
