"""Running a recipe over many photos on this machine: one warm model, every outcome a manifest row; photos share
one inversion batch where the recipe's method allows (:func:`groups_of`). A bad photo becomes a "failed" row and
the rest go on; a photo already done with this recipe (same bytes, same recipe hash, its files still there) is
skipped; ``stop()`` is asked between photos (or groups), so stopping never leaves a half-made result.

The per-photo work (:mod:`core.batch.photo`) is the same a Ray worker runs (:mod:`core.batch.ray_engine`).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Generator as JobGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.batch.photo import WarmModel, groups_of, process_group
from core.batch.plan import BatchReport, plan_batch
from core.batch.recipe import Recipe
from core.jobs import CancelToken, run_job

GROUP = 8  # photos inverted together where the method allows (bench batch measures the speed-up)

__all__ = ["GROUP", "BatchProgress", "BatchReport", "WarmModel", "batch_job", "run_batch"]


@dataclass(frozen=True)
class BatchProgress:
    """What a batch job yields after each photo: its manifest row, how far the batch is, and small previews
    (uint8 [h, w, 3], ≤ ``THUMB`` px) of the photo before and after for a live list."""

    row: dict[str, Any]
    finished: int
    to_do: int
    before: np.ndarray | None = None
    after: np.ndarray | None = None


THUMB = 96


def _thumb(path: Path) -> np.ndarray | None:
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (THUMB, THUMB))
            small = opened.convert("RGB")
        small.thumbnail((THUMB, THUMB))
        return np.asarray(small).copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def batch_job(entries: list[str], recipe: Recipe, out: Path, *, device: torch.device | str = "cpu",
              overwrite: bool = False, cancel: CancelToken | None = None, model: WarmModel | None = None,
              thumbnails: bool = False, group: int = GROUP) -> JobGenerator[BatchProgress, None, BatchReport]:
    """The whole batch on this machine as a job (see the module doc): yields after each photo, checks ``cancel``
    between photos (never inside one), returns the report. Up to ``group`` photos are inverted together when the
    recipe's method allows it (:func:`groups_of`); ``cancel`` is then asked between groups."""
    plan = plan_batch(entries, recipe, out, overwrite=overwrite)
    model = model or WarmModel.load(recipe, device)
    count = 0
    for photos in groups_of(model, plan.to_do, group):
        if cancel is not None and cancel.cancelled:
            plan.report.stopped = True
            break
        for photo, outcome in zip(photos, process_group(model, photos, plan.names), strict=True):
            plan.commit(outcome)
            count += 1
            row = outcome.row
            done = row["status"] == "done"
            yield BatchProgress(row, count, len(plan.to_do), _thumb(photo.path) if thumbnails and done else None,
                                _thumb(plan.folder.out / str(row["output"])) if thumbnails and done else None)
    plan.folder.write_summary()
    return plan.report


def run_batch(entries: list[str], recipe: Recipe, out: Path, *, device: torch.device | str = "cpu",
              overwrite: bool = False, stop: Callable[[], bool] = lambda: False,
              on_row: Callable[[dict[str, Any], int, int], None] = lambda _row, _i, _n: None,
              model: WarmModel | None = None, group: int = GROUP) -> BatchReport:
    """:func:`batch_job` driven here; ``stop()`` is asked between photos (or groups), ``on_row(row, finished,
    to_do)`` told after each."""
    token = _StopToken(stop)
    return run_job(batch_job(entries, recipe, out, device=device, overwrite=overwrite, cancel=token, model=model,
                             group=group), lambda p: on_row(p.row, p.finished, p.to_do))


class _StopToken(CancelToken):
    """A token whose flag is also raised by a callable (the CLI's first Ctrl-C)."""

    def __init__(self, stop: Callable[[], bool]) -> None:
        super().__init__()
        self._stop = stop

    @property
    def cancelled(self) -> bool:
        return self._stop() or super().cancelled
