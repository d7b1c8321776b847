"""What a batch has to do, the same for every engine: the photos from the user's entries, the output folder
claimed for the recipe, the rows of files that could not be read, what earlier runs already finished, and each
photo's output name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.batch.folder import BatchFolder
from core.batch.inputs import BatchPhoto, Inputs, collect
from core.batch.photo import PhotoOutcome, output_names
from core.batch.recipe import Recipe


@dataclass
class BatchReport:
    rows: list[dict[str, Any]] = field(default_factory=list)  # this run's rows (done and failed)
    skipped: int = 0  # already done by an earlier run
    stopped: bool = False  # stop() ended it early
    retried: int = 0  # photos sent again because the worker holding them died (Ray engine)
    inputs: Inputs | None = None


@dataclass
class BatchPlan:
    folder: BatchFolder
    to_do: list[BatchPhoto]
    names: dict[str, str]  # photo sha256 → output file name
    report: BatchReport

    def commit(self, outcome: PhotoOutcome) -> None:
        """Write the photo's files, then its row (the order that keeps a crash from leaving a row without files)."""
        self.folder.commit(outcome.row, outcome.files)
        self.report.rows.append(outcome.row)


def plan_batch(entries: list[str], recipe: Recipe, out: Path, *, overwrite: bool = False) -> BatchPlan:
    inputs = collect(entries, out)
    folder = BatchFolder(out, recipe, overwrite=overwrite)
    report = BatchReport(inputs=inputs)
    for path, reason in inputs.unreadable:
        row = {"index": -1, "photo": str(path), "sha256": "", "status": "failed", "error": reason}
        folder.append(row)
        report.rows.append(row)
    finished = folder.finished()
    to_do = [p for p in inputs.photos if p.sha256 not in finished]
    report.skipped = len(inputs.photos) - len(to_do)
    return BatchPlan(folder, to_do, output_names(recipe, inputs.photos), report)
