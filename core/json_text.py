"""Strict JSON for the files and output we write: NaN and ±Infinity become null, never bare tokens.

Python's ``json.dumps`` writes ``NaN``/``Infinity`` by default, which strict readers (browsers, jq, most languages)
reject, so one diverged metric would make a whole ``report.json`` unreadable. Every report goes through here: a
value that is not a finite number is written as ``null`` (unknown), and ``allow_nan=False`` proves none slipped by.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (Python or numpy, at any depth) replaced by None; numpy scalars and
    arrays become plain JSON values."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_or_none(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_dumps(data: Any, indent: int | None = 2) -> str:
    """``data`` as strict JSON text (non-finite numbers as null)."""
    return json.dumps(finite_or_none(data), indent=indent, allow_nan=False)
