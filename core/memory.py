"""Memory a job may use, and what a computation keeps for its backward pass — measured, so a training run can
fit its batch into the machine it runs on instead of being killed by the system when it does not fit.

Shared by θ's training (:mod:`core.landscape.memory_plan`) and the encoder's (:mod:`core.inversion.encoder_training`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from core.allocator import heap_overhead
from core.errors import InvalidInputError

SAFETY = 1.5  # the backward pass's own buffers (gradients, the double backward's temporaries) over what is saved
SHARE = 0.7  # of the memory free when training starts: the editor, the OS and other programs keep the rest
GIB = 1024**3


def available_bytes(device: torch.device | str) -> int:
    """Memory free for new allocations on ``device``: the GPU's free memory, else the system's available memory
    (``MemAvailable``, which counts reclaimable caches), else its free physical pages."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (OSError, ValueError, AttributeError):
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def memory_budget(device: torch.device | str) -> int:
    """What a training run may plan for: ``SHARE`` of the memory free now, less the heap's own overhead on a CPU
    where :mod:`core.allocator`'s settings are in force (freed blocks not reused at once: see ``heap_overhead``)."""
    device = torch.device(device)
    overhead = 1.0 if device.type == "cuda" else heap_overhead()
    return int(SHARE * available_bytes(device) / overhead)


def saved_bytes(run: Callable[[], object], *, loaded: Iterable[torch.Tensor] = ()) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass while ``run()`` executes, leaving out
    those of the ``loaded`` tensors (weights saved by reference take no memory of their own)."""
    storages: dict[int, int] = {}
    skip = {tensor.untyped_storage().data_ptr() for tensor in loaded}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        try:
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in skip:
                storages[storage.data_ptr()] = storage.nbytes()
        except (RuntimeError, NotImplementedError):  # a tensor without storage of its own: counted by its size
            storages[id(tensor)] = tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()
    return sum(storages.values())


def resident(*modules: torch.nn.Module) -> list[torch.Tensor]:
    """The parameters and buffers of ``modules``: in memory before a job starts, so never counted as its cost."""
    return [t for module in modules for t in [*module.parameters(), *module.buffers()]]


def faces_per_pass(batch: int, face_bytes: int, budget_bytes: int, what: str) -> int:
    """How many of ``batch`` faces one forward and backward pass may hold (``face_bytes`` each, with ``SAFETY``)
    within ``budget_bytes``; refused, with the figures, when not even one fits. ``what`` names the job."""
    per_face = max(1, int(face_bytes * SAFETY))
    if per_face > budget_bytes:
        raise InvalidInputError(
            f"{what} on this model needs about {per_face / GIB:.1f} GiB for a single face, but only "
            f"{budget_bytes / GIB:.1f} GiB can be used here ({SHARE:.0%} of the free memory). Close other programs, "
            "or train on a machine with more memory or a GPU.")
    return min(batch, budget_bytes // per_face)
