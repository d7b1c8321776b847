"""A generator's weights after pivotal tuning, kept as a delta from the original model.

Pivotal tuning (PTI) fine-tunes a copy of the generator for one photo. Storing ``tuned − original`` per parameter
(rather than a second model file) lets a project file carry the tuning, ties it to the exact model it was made
for (``base_model_id``), and makes "reset to the original model" a matter of dropping it.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.errors import InvalidInputError, ModelLoadError
from core.generators.base import Generator


@dataclass(frozen=True)
class WeightDelta:
    """``tuned − original`` for each tuned parameter of ``G.net`` (float32 arrays, names as in ``named_parameters``)."""

    base_model_id: str  # the generator the delta applies to
    delta: dict[str, np.ndarray]
    info: dict[str, Any]  # how it was made: steps, final losses, seconds (JSON-ready)

    @property
    def digest(self) -> str:
        """SHA-256 over names and bytes: the tuned model's identity."""
        h = hashlib.sha256(self.base_model_id.encode())
        for name in sorted(self.delta):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.delta[name], dtype=np.float32).tobytes())
        return h.hexdigest()

    @property
    def tuned_model_id(self) -> str:
        return f"{self.base_model_id}+tuned@{self.digest[:12]}"

    def summary(self) -> dict[str, Any]:
        return {"base_model_id": self.base_model_id, "tuned_model_id": self.tuned_model_id,
                "parameters": int(sum(v.size for v in self.delta.values())), **self.info}


def weight_delta(original: Generator, tuned: Generator, info: dict[str, Any]) -> WeightDelta:
    """The delta between two copies of one generator (parameters that did not change are left out)."""
    before = dict(original.net.named_parameters())
    delta = {}
    for name, param in tuned.net.named_parameters():
        change = (param.detach() - before[name].detach()).float().cpu().numpy()
        if np.any(change):
            delta[name] = change
    return WeightDelta(original.model_id, delta, info)


def tuned_copy(G: Generator, delta: WeightDelta | None = None) -> Generator:
    """A deep copy of ``G`` (one extra model in memory), with ``delta`` added to its weights when given.

    Refuses a delta made for another model or whose shapes do not match, so a project never pairs a tuning
    with the wrong generator.
    """
    if delta is not None:
        _check_delta(G, delta)  # before copying: a refused delta costs no memory
    tuned = copy.deepcopy(G)
    if delta is None:
        return tuned
    params = dict(tuned.net.named_parameters())
    with torch.no_grad():
        for name, change in delta.delta.items():
            params[name].add_(torch.tensor(change).to(params[name]))
    tuned.model_id = delta.tuned_model_id
    tuned._base_model_id = G.base_model_id
    return tuned


def _check_delta(G: Generator, delta: WeightDelta) -> None:
    if delta.base_model_id != G.model_id:
        raise ModelLoadError(f"The tuned weights were made for {delta.base_model_id}, not for {G.model_id}.")
    params = dict(G.net.named_parameters())
    unknown = set(delta.delta) - set(params)
    if unknown:
        raise ModelLoadError(f"The tuned weights name parameters {G.name} lacks: {', '.join(sorted(unknown)[:3])}.")
    for name, change in delta.delta.items():
        if tuple(change.shape) != tuple(params[name].shape):
            raise ModelLoadError(f"The tuned weight '{name}' is {change.shape}, the model's is "
                                 f"{tuple(params[name].shape)}.")
        if not np.isfinite(change).all():
            raise InvalidInputError(f"The tuned weight '{name}' contains NaN or infinite values.")
