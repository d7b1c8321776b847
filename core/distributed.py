"""Data-parallel training across processes and machines, as started by ``torchrun --nproc_per_node N``.

Each process takes an equal share of every global batch, and the gradients are averaged across processes before
each optimiser step, so N processes take the steps one process would (the same batch, the same mean loss) up to
the order of floating-point sums. We average the gradients ourselves rather than wrap the model in
``DistributedDataParallel``: θ's training differentiates through its own inner descent with
``torch.autograd.grad``, which DDP's reducer does not support, and the models trained here are small enough for
one flat all-reduce a step. Only the first process (rank 0) validates, checkpoints and saves; a time budget or a
Ctrl-C on any process stops every process at the same iteration.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from core.errors import InvalidInputError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1

    def share(self, batch: int) -> slice:
        """This process's rows of a global batch of ``batch`` (equal shares, so the mean loss is one process's)."""
        if batch % self.size:
            raise InvalidInputError(f"--batch {batch} does not split evenly over {self.size} processes; use a "
                                    f"multiple of {self.size}.")
        part = batch // self.size
        return slice(self.rank * part, (self.rank + 1) * part)

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any process (every process must call this at the same point)."""
        if not self.active:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=_device())
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` averaged over the processes (for progress figures of the whole batch)."""
        if not self.active:
            return values
        total = values.detach().clone().to(_device())
        dist.all_reduce(total)
        return (total / self.size).to(values.device)

    def average_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """Every parameter's ``.grad`` replaced by its mean over the processes: one flat all-reduce."""
        if not self.active:
            return
        params = [p for p in parameters if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads]).to(_device())
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for p, g in zip(params, grads, strict=True):
            p.grad = flat[offset: offset + g.numel()].view_as(g).to(g.device)
            offset += g.numel()

    def broadcast(self, module: torch.nn.Module) -> None:
        """``module``'s parameters and buffers set to rank 0's, so every process starts from the same weights."""
        if not self.active:
            return
        for tensor in [*module.parameters(), *module.buffers()]:
            carried = tensor.data.to(_device())
            dist.broadcast(carried, src=0)
            tensor.data.copy_(carried.to(tensor.device))


SINGLE = World()


def _device() -> torch.device:
    """Where collectives run: the process's GPU under nccl, the CPU under gloo."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def join_world(device: torch.device) -> tuple[World, torch.device]:
    """The process group torchrun described in the environment (``WORLD_SIZE`` > 1), joined with nccl when this
    process trains on CUDA (on GPU ``LOCAL_RANK``) and gloo otherwise; one process alone: ``SINGLE``."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE, device
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(world.local_rank)
        device = torch.device("cuda", world.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return world, device


@contextmanager
def taking_part(world: World) -> Iterator[World]:
    """The block a rank trains in; the group is left on the way out. A clean finish waits at a barrier first,
    because a rank that tears the group down while a peer still works on its last step (rank 0 alone gates and
    writes) can abort inside gloo's worker threads. A failure leaves at once: its peers may be inside another
    collective, where a barrier would hang until the timeout; torchrun stops them when this rank exits."""
    try:
        yield world
    except BaseException:
        _leave(world)
        raise
    if world.active and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            _leave(world)


def _leave(world: World) -> None:
    if world.active and dist.is_initialized():
        dist.destroy_process_group()
