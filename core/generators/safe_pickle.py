"""Read NVIDIA stylegan2-ada / stylegan3 network pickles without running anything inside them.

NVIDIA's ``.pkl`` files are plain ``pickle.dump`` output of ``{"G": …, "D": …, "G_ema": …, "augment_pipe": …,
"training_set_kwargs": …}``. Each network was pickled through ``torch_utils.persistence``: the class travels as its
module's *source code* and NVIDIA's loader ``exec``-s it. We never do: ``_reconstruct_persistent_obj`` resolves to
:func:`_persistent_record`, which keeps the class name, the init arguments and the module ``__dict__`` (parameters,
buffers, sub-modules) as an inert :class:`PersistentRecord` and only hashes the source, for provenance.

Every other global the file names goes through :data:`_ALLOWED` (tensor and storage rebuilding, containers, numpy
arrays and scalars, torch dtypes); anything else — ``os.system``, ``builtins.eval``, ``subprocess.Popen``, any module
we do not list — stops the load with :class:`ModelLoadError` before it is called. Tensor storages are pickled by
torch as ``torch.storage._load_from_bytes(<legacy torch.save bytes>)``; those bytes are parsed here by a second,
even narrower unpickler that only knows storage types, never by ``torch.load``.

Plain ``torch.nn`` modules inside a network (rare in NVIDIA's code, common in forks) become inert
:class:`TorchModuleRecord` objects holding their state; ``dnnlib.util.EasyDict`` becomes a plain ``dict``.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import logging
import os
import pickle
import sys
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
import torch

from core.errors import ModelLoadError

log = logging.getLogger(__name__)

PERSISTENCE_VERSION = 6  # the torch_utils.persistence format of stylegan2-ada-pytorch and stylegan3
MEMORY_FACTOR = 2  # the pickle's storage bytes and the tensors copied from them are alive together while loading
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # first pickle of a legacy (non-zip) torch.save stream
_TORCH_LEGACY_PROTOCOL = 1001
_MAX_DEPTH = 64  # nesting of sub-modules; real generators are < 10 deep
_GENERATOR_KEYS = ("G_ema", "G")
_G_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")


@dataclass(frozen=True, slots=True)
class PersistentRecord:
    """One NVIDIA persistent network object, reduced to data; its class source is hashed, never compiled."""

    class_name: str
    version: int
    source_sha256: str  # sha256 of the embedded module source (UTF-8)
    init_args: tuple
    init_kwargs: dict
    state: dict  # the module's __dict__: _parameters, _buffers, _modules, plain attributes


class TorchModuleRecord:
    """A plain ``torch.nn`` module from the file, kept as its class path and state; never a live module.

    Pickle builds these with NEWOBJ (``cls.__new__``) and BUILD (``__setstate__``); calling the class with
    arguments, which no module pickle does, is refused.
    """

    class_path: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ModelLoadError(f"refused: the file asks to call {self.class_path}(…), which a model file never needs.")

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise ModelLoadError(f"The file gives {self.class_path} a malformed state.")
        self.state = dict(state)

    def __repr__(self) -> str:
        return f"TorchModuleRecord({self.class_path})"


@dataclass(frozen=True, slots=True)
class _StorageType:
    """What ``torch.FloatStorage`` and friends resolve to inside a storage blob: only their dtype."""

    dtype: torch.dtype


@dataclass(frozen=True, slots=True)
class _Storage:
    """A storage read from the file: a flat, contiguous CPU tensor of its dtype."""

    data: torch.Tensor  # [numel]


_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
    "ComplexFloatStorage": torch.complex64, "ComplexDoubleStorage": torch.complex128, "UntypedStorage": torch.uint8,
}


# ---------------------------------------------------------------------------------------------- tensor rebuilding


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    """Stands in for ``_codecs.encode``, which protocol-2 pickles use to spell ``bytes``; latin-1 only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _refuse("_codecs.encode with a codec other than latin-1")
    return text.encode("latin1")


def _refuse(what: str) -> ModelLoadError:
    return ModelLoadError(f"refused: the file asks to run {what}, which a model file never needs.")


def _check_view(storage: _Storage, offset: Any, size: Any, stride: Any) -> None:
    """Bounds-check a tensor view so a crafted size/stride can never reach past its storage."""
    ints = (isinstance(offset, int), all(isinstance(v, int) for v in (*size, *stride)))
    if not all(ints) or len(size) != len(stride) or offset < 0 or min((*size, *stride), default=0) < 0:
        raise ModelLoadError("The file holds a tensor with a malformed shape.")
    if 0 not in size and offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) >= storage.data.numel():
        raise ModelLoadError("The file holds a tensor larger than its own data (the file is damaged or crafted).")


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, *_: Any) -> torch.Tensor:
    """Stands in for ``torch._utils._rebuild_tensor``/``_rebuild_tensor_v2``; hooks and metadata are ignored."""
    if not isinstance(storage, _Storage) or not isinstance(size, tuple | list) or not isinstance(stride, tuple | list):
        raise ModelLoadError("The file holds a tensor without readable data.")
    _check_view(storage, storage_offset, tuple(size), tuple(stride))
    return storage.data.as_strided(tuple(size), tuple(stride), storage_offset)


def _rebuild_tensor_v3(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any, hooks: Any,
                       dtype: Any, *_: Any) -> torch.Tensor:
    """Stands in for ``torch._utils._rebuild_tensor_v3``: an untyped (byte) storage viewed as ``dtype``."""
    if not isinstance(storage, _Storage) or not isinstance(dtype, torch.dtype):
        raise ModelLoadError("The file holds a tensor without readable data.")
    item = torch.empty((), dtype=dtype).element_size()
    if storage.data.numel() % item:
        raise ModelLoadError("The file holds a tensor whose data does not fit its type.")
    return _rebuild_tensor(_Storage(storage.data.view(dtype)), offset, size, stride)


def _rebuild_parameter(data: Any, *_: Any) -> torch.Tensor:
    """Stands in for ``torch._utils._rebuild_parameter[_with_state]``: a parameter is kept as its plain tensor."""
    if not isinstance(data, torch.Tensor):
        raise ModelLoadError("The file holds a parameter without a tensor.")
    return data


class _StorageUnpickler(pickle.Unpickler):
    """Unpickles the small pickles of a legacy torch.save stream: storage types and storage ids, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module in ("torch", "torch.storage") and name in _STORAGE_DTYPES:  # torch.storage.UntypedStorage too
            return _StorageType(_STORAGE_DTYPES[name])
        raise _refuse(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise ModelLoadError("The file holds a storage record this loader does not know.")
        _, storage_type, key, _location, numel, view = pid
        if view is not None or not isinstance(numel, int) or numel < 0:
            raise ModelLoadError("The file holds a storage view or a malformed storage record.")
        return ("storage", storage_type.dtype, str(key), numel)


def _storage_from_bytes(blob: Any) -> _Storage:
    """Stands in for ``torch.storage._load_from_bytes``: parse one legacy torch.save stream holding one storage."""
    if not isinstance(blob, bytes | bytearray):
        raise ModelLoadError("The file holds a storage without bytes.")
    stream = io.BytesIO(blob)
    header = [_StorageUnpickler(stream).load() for _ in range(3)]  # magic, protocol, sys_info
    if header[0] != _TORCH_MAGIC or header[1] != _TORCH_LEGACY_PROTOCOL or not isinstance(header[2], dict):
        raise ModelLoadError("The file holds a tensor in a storage format this loader does not know.")
    if header[2].get("little_endian", True) != (sys.byteorder == "little"):
        raise ModelLoadError("The file was written on a machine of the other byte order; it cannot be read here.")
    spec = _StorageUnpickler(stream).load()
    keys = _StorageUnpickler(stream).load()
    if not (isinstance(spec, tuple) and len(spec) == 4 and spec[0] == "storage") or keys != [spec[2]]:
        raise ModelLoadError("The file holds a storage record this loader does not know.")
    _, dtype, _, numel = spec
    count = int.from_bytes(stream.read(8), "little", signed=True)
    nbytes = numel * torch.empty((), dtype=dtype).element_size()
    raw = stream.read(nbytes)
    if count != numel or len(raw) != nbytes:
        raise ModelLoadError("The file is truncated or damaged (a tensor's data is incomplete).")
    data = torch.frombuffer(bytearray(raw), dtype=dtype) if nbytes else torch.empty(0, dtype=dtype)
    return _Storage(data)


# ----------------------------------------------------------------------------------------- persistence records


def _persistent_record(meta: Any) -> PersistentRecord:
    """Stands in for ``torch_utils.persistence._reconstruct_persistent_obj``; ``module_src`` is hashed only."""
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise ModelLoadError("The file holds a persistent object of a kind this loader does not know.")
    src, name, state = meta.get("module_src"), meta.get("class_name"), meta.get("state")
    if not isinstance(src, str) or not isinstance(name, str) or not isinstance(state, dict):
        raise ModelLoadError("The file holds a malformed persistent object.")
    version = meta.get("version")
    if version != PERSISTENCE_VERSION:
        log.warning("%s uses persistence version %r (known: %d); reading it as data anyway.", name, version,
                    PERSISTENCE_VERSION)
    args, kwargs = state.get("_init_args", ()), state.get("_init_kwargs", {})
    if not isinstance(args, tuple | list) or not isinstance(kwargs, dict):
        raise ModelLoadError(f"The file's {name} has malformed init arguments.")
    digest = hashlib.sha256(src.encode("utf-8", "surrogatepass")).hexdigest()
    return PersistentRecord(name, int(version) if isinstance(version, int) else -1, digest, tuple(args),
                            dict(kwargs), dict(state))


_torch_module_types: dict[str, type[TorchModuleRecord]] = {}


def _torch_module_type(module: str, name: str) -> type[TorchModuleRecord] | None:
    """A record type for a real ``torch.nn.modules`` class, looked up (never imported) in ``sys.modules``."""
    cls = getattr(sys.modules.get(module), name, None) if module.startswith("torch.nn.modules.") else None
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        return None
    path = f"{module}.{name}"
    if path not in _torch_module_types:
        _torch_module_types[path] = type(name, (TorchModuleRecord,), {"class_path": path, "__module__": __name__})
    return _torch_module_types[path]


# ------------------------------------------------------------------------------------------------- allow-list


def _numpy_multiarray() -> Any:
    try:
        return importlib.import_module("numpy._core.multiarray")  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        return importlib.import_module("numpy.core.multiarray")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _persistent_record,
    ("dnnlib.util", "EasyDict"): dict,
    ("dnnlib", "EasyDict"): dict,
    ("collections", "OrderedDict"): OrderedDict,
    **{(mod, cls.__name__): cls for mod in ("builtins", "__builtin__") for cls in (set, frozenset)},  # protocol 2 names
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("_codecs", "encode"): _latin1_bytes,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    **{(pkg, fn): getattr(_numpy_multiarray(), fn)
       for pkg in ("numpy.core.multiarray", "numpy._core.multiarray") for fn in ("_reconstruct", "scalar")},
}


def _resolve_global(module: str, name: str) -> Any:
    """The allow-list: what a global named in the file may be, or a refusal before anything is called."""
    if (module, name) in _ALLOWED:
        return _ALLOWED[(module, name)]
    if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
        return getattr(torch, name)  # a dtype is a constant, not code
    if (record_type := _torch_module_type(module, name)) is not None:
        return record_type
    if module.startswith("dnnlib.tflib"):
        raise ModelLoadError("This is a TensorFlow-era StyleGAN pickle; convert it to a PyTorch pickle first.")
    raise _refuse(f"{module}.{name}")


class _NetworkUnpickler(pickle.Unpickler):
    """The outer unpickler: globals only from :data:`_ALLOWED`; plain ``pickle.dump`` has no persistent ids."""

    def find_class(self, module: str, name: str) -> Any:
        return _resolve_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise ModelLoadError("refused: the file uses external references, which a network pickle never has.")


# ------------------------------------------------------------------------------------------------ the loader


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``); None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_file(path: Path, fh: BinaryIO) -> None:
    """Cheap checks before unpickling, so the common mistakes get a message that names them."""
    size = path.stat().st_size
    if size == 0:
        raise ModelLoadError(f"'{path.name}' is empty.")
    free = _available_memory()
    if free is not None and size * MEMORY_FACTOR > free:
        raise ModelLoadError(f"'{path.name}' ({size / 2**30:.1f} GiB) needs about {MEMORY_FACTOR}× its size in "
                             f"memory to load, but only {free / 2**30:.1f} GiB is free. Close other programs.")
    head = fh.read(4)
    fh.seek(0)
    if head.startswith(b"PK\x03\x04"):
        raise ModelLoadError(f"'{path.name}' is a torch.save (zip) checkpoint, not an NVIDIA network pickle (.pkl).")
    if not head.startswith(b"\x80") or len(head) < 2 or not 2 <= head[1] <= pickle.HIGHEST_PROTOCOL:
        raise ModelLoadError(f"'{path.name}' is not an NVIDIA network pickle (it does not start like one).")


def _unpickle(path: Path) -> Any:
    with path.open("rb") as fh:
        _check_file(path, fh)
        try:
            return _NetworkUnpickler(fh).load()
        except ModelLoadError as exc:
            raise ModelLoadError(f"'{path.name}': {exc} Nothing in it was run.") from None
        except MemoryError as exc:
            raise ModelLoadError(f"'{path.name}' does not fit in memory.") from exc
        except EOFError as exc:
            raise ModelLoadError(f"'{path.name}' is truncated (it ends in the middle of its data).") from exc
        except Exception as exc:  # a damaged pickle can raise almost anything; none of it ran file code
            raise ModelLoadError(f"'{path.name}' is damaged or not a network pickle ({exc}).") from exc


def _merged_init_kwargs(net: PersistentRecord) -> dict[str, Any]:
    """Constructor kwargs with positional args named, and the standard dims filled from the object's attributes."""
    merged = {k: net.state[k] for k in _G_POSITIONAL if k in net.state}
    merged.update(zip(_G_POSITIONAL, net.init_args, strict=False))
    merged.update(net.init_kwargs)
    merged.setdefault("mapping_kwargs", {})
    merged.setdefault("synthesis_kwargs", {})
    return merged


def _named_items(state: dict, key: str, owner: str) -> list[tuple[str, Any]]:
    table = state.get(key) or {}
    if not isinstance(table, dict) or not all(isinstance(name, str) for name in table):
        raise ModelLoadError(f"The file's {owner} has a malformed {key} table.")
    return list(table.items())


def flatten_state_dict(record: PersistentRecord | TorchModuleRecord, prefix: str = "",
                       _depth: int = 0) -> dict[str, torch.Tensor]:
    """Dotted names → tensors, in the order and with the names ``module.state_dict()`` would give."""
    if _depth > _MAX_DEPTH:
        raise ModelLoadError("The file's network nests deeper than any real network (or loops on itself).")
    state, owner = getattr(record, "state", {}), prefix.rstrip(".") or "network"
    skip = state.get("_non_persistent_buffers_set") or set()
    out: dict[str, torch.Tensor] = {}
    for key in ("_parameters", "_buffers"):
        for name, value in _named_items(state, key, owner):
            if value is None or (key == "_buffers" and name in skip):
                continue
            if type(value) is not torch.Tensor:
                raise ModelLoadError(f"The file's {prefix}{name} is not a tensor.")
            out[prefix + name] = value.detach()
    for name, child in _named_items(state, "_modules", owner):
        if child is None:
            continue
        if not isinstance(child, PersistentRecord | TorchModuleRecord):
            raise ModelLoadError(f"The file's {prefix}{name} is not a module.")
        out.update(flatten_state_dict(child, f"{prefix}{name}.", _depth + 1))
    return out


def load_nvidia_pickle(path: str | Path) -> dict[str, Any]:
    """Read the generator of an NVIDIA stylegan2-ada/stylegan3 ``.pkl`` as data: no network is built.

    Returns ``{"init_kwargs", "state_dict", "source_sha256", "class_name", "network"}``; ``network`` says whether
    ``G_ema`` (preferred: the averaged weights NVIDIA samples with) or ``G`` was used.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"No model file at '{path}'.")
    data = _unpickle(path)
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{path.name}' is a pickle, but not an NVIDIA network pickle (no dict of networks).")
    key = next((k for k in _GENERATOR_KEYS if isinstance(data.get(k), PersistentRecord)), None)
    if key is None:
        raise ModelLoadError(f"'{path.name}' holds no generator (neither G_ema nor G is an NVIDIA network).")
    net: PersistentRecord = data[key]
    return {"init_kwargs": _merged_init_kwargs(net), "state_dict": flatten_state_dict(net),
            "source_sha256": net.source_sha256, "class_name": net.class_name, "network": key}
