"""Build a network for a model file only once the file is known to fill it: the network is first built on the
``meta`` device (shapes, no memory), compared with the tensors the file holds, and only then allocated. A file
whose metadata or tensor count claims an enormous network is refused before anything is allocated; weights that
are not finite (NaN, ±inf) or absurdly large are refused after reading, instead of rendering black images."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import torch
from torch import nn

from core.errors import CoreError, ModelLoadError

M = TypeVar("M", bound=nn.Module)
MAX_ABS_WEIGHT = 1e8  # trained weights, biases and running statistics stay far below this


def build_checked(factory: Callable[[], M], shapes: Mapping[str, Iterable[int]], label: str, layout: str) -> M:
    """``factory()`` once its persistent state matches ``shapes`` (name → shape the file holds) exactly; ``layout``
    names the architecture in messages ("DCGAN", "StyleGAN2")."""
    try:
        with torch.device("meta"):
            probe = factory()
    except (CoreError, RuntimeError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise ModelLoadError(f"'{label}' describes a network that cannot be built ({_first_line(exc)}).") from exc
    expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    held = {k: tuple(int(n) for n in s) for k, s in shapes.items()}
    missing, unexpected = sorted(set(expected) - set(held)), sorted(set(held) - set(expected))
    if missing or unexpected:
        what = f"no tensor '{missing[0]}'" if missing else f"an unknown tensor '{unexpected[0]}'"
        raise ModelLoadError(f"'{label}' does not match the {layout} layout it describes: it has {what} "
                             f"({len(missing)} missing, {len(unexpected)} unknown).")
    for name, shape in expected.items():
        if held[name] != shape:
            raise ModelLoadError(f"'{label}' does not match the {layout} layout it describes: '{name}' is "
                                 f"{list(held[name])}, the network needs {list(shape)}.")
    extra = sum(math.prod(b.shape) for name, b in probe.named_buffers() if name not in expected)
    if extra > 2**26:  # non-persistent buffers the file does not pay for (blur kernels, w_avg): small in real nets
        raise ModelLoadError(f"'{label}' describes a network far larger than the file holds.")
    return factory()


def check_weights(tensors: Mapping[str, torch.Tensor], label: str) -> None:
    """Refuse non-finite or absurdly large floating-point weights (the model would render black or NaN images)."""
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and tensor.numel():
            values = tensor.detach().float()
            if not torch.isfinite(values).all():
                raise ModelLoadError(f"'{label}' holds NaN or infinite weights ('{name}'); the file is damaged.")
            if values.abs().max().item() > MAX_ABS_WEIGHT:
                raise ModelLoadError(f"'{label}' holds absurdly large weights ('{name}'); the file is damaged.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
