"""How a project file holds a pivotal tuning: a ``"tuning"`` manifest entry and one ``tune_<i>`` array per weight.

The entry lists the tuned parameters' names in the order of their arrays (``tune_0`` is the first name), so the
names live in JSON and the arrays hold only float32 numbers. Kept apart from ``store`` to keep the archive code
short. The limits are what loading accepts; saving checks the same ones, so a saved project always opens again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from core.errors import InvalidInputError
from core.generators.tuning import WeightDelta

PREFIX = "tune_"
MAX_PARAMETERS = 4096  # tuned parameter tensors (StyleGAN2 at 1024 px has about 360)
MAX_NAME_CHARS = 200  # a parameter's dotted name ("synthesis.b1024.conv0.affine.weight" is 35)
MAX_VALUES = 1 << 26  # per tensor (StyleGAN2's largest, 512 × 512 × 3 × 3, is 2.4 M)
MAX_TOTAL_VALUES = 1 << 28  # all tensors together: 1 GiB of float32 (StyleGAN2 at 1024 px has about 30 M)


def array_key(i: int) -> str:
    return f"{PREFIX}{i}"


def is_tune_key(key: str) -> bool:
    return key.startswith(PREFIX)


def entry(tuning: WeightDelta | None) -> dict[str, Any] | None:
    """The manifest's ``"tuning"`` value: null, or the base model, how it was made and the names in array order.

    Refuses a tuning beyond the loading limits now, rather than writing a project that could not be reopened.
    """
    if tuning is None:
        return None
    problem = names_problem(list(tuning.delta)) or size_problem([a.shape for a in tuning.delta.values()])
    if problem:
        raise InvalidInputError(f"Cannot save the project's tuned weights: {problem}.")
    return {"base_model_id": tuning.base_model_id, "info": tuning.info, "parameters": list(tuning.delta)}


def arrays(tuning: WeightDelta | None) -> dict[str, np.ndarray]:
    """``tune_<i>`` → the delta of the i-th listed parameter (float32, as the document holds it)."""
    return {} if tuning is None else {array_key(i): a for i, a in enumerate(tuning.delta.values())}


def entry_problem(value: Any) -> str | None:
    """What is wrong with a loaded ``"tuning"`` value, as a phrase (None when it is well formed)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not (isinstance(value.get("base_model_id"), str)
                                           and isinstance(value.get("info"), dict)
                                           and isinstance(value.get("parameters"), list)):
        return "it is not {base_model_id: text, info: object, parameters: list of names}"
    return names_problem(value["parameters"])


def names_problem(names: list[Any]) -> str | None:
    if len(names) > MAX_PARAMETERS:
        return f"it tunes {len(names)} parameters, more than the {MAX_PARAMETERS} a project may hold"
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
            return f"the tuned parameter name {repr(name)[:40]} is not text of 1 to {MAX_NAME_CHARS} characters"
    if len(set(names)) != len(names):
        return "a tuned parameter is listed twice"
    return None


def shape_ok(shape: tuple[int, ...]) -> bool:
    """A plausible parameter tensor: 1 to 4 non-empty axes, at most ``MAX_VALUES`` values."""
    return 1 <= len(shape) <= 4 and min(shape) >= 1 and math.prod(shape) <= MAX_VALUES


def size_problem(shapes: Iterable[tuple[int, ...]]) -> str | None:
    """Too many values in all (checked from the headers, before any data is read)."""
    total = sum(math.prod(shape) for shape in shapes)
    if total > MAX_TOTAL_VALUES:
        return f"the tuned weights hold {total:,} values, more than the {MAX_TOTAL_VALUES:,} a project may hold"
    return None


def tuning(value: dict[str, Any] | None, loaded: dict[str, np.ndarray]) -> WeightDelta | None:
    """The ``WeightDelta`` of a checked entry and its loaded arrays (the ``Document`` validates it further)."""
    if value is None:
        return None
    delta = {name: loaded[array_key(i)] for i, name in enumerate(value["parameters"])}
    return WeightDelta(value["base_model_id"], delta, value["info"])
