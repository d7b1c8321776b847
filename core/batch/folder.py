"""A batch's output folder: bound to one recipe, with an append-only ``manifest.jsonl`` (one row per finished or
failed photo) and a ``summary.csv`` rebuilt from it.

The folder is ours only if it is new, empty, or holds our ``batch.json``: a folder of someone else's files is
refused, and so is one made with another recipe (unless ``overwrite``: then its recorded results are removed
first). A row is appended — written, flushed, fsynced — only after the photo's files are in place, so a crash or a
second Ctrl-C leaves at most files without a row, which a re-run redoes; a torn last line is ignored.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic_files import atomic_write_bytes
from core.batch.recipe import Recipe
from core.errors import InvalidInputError

BATCH_FILE, MANIFEST, SUMMARY = "batch.json", "manifest.jsonl", "summary.csv"
FORMAT, VERSION = "landscape-studio-batch", 1
SUMMARY_COLUMNS = ("index", "photo", "status", "output", "latent", "psnr", "seconds", "warnings", "error")


class BatchFolder:
    def __init__(self, out: Path, recipe: Recipe, *, overwrite: bool = False) -> None:
        self.out, self.recipe, self.recipe_sha256 = out.expanduser(), recipe, recipe.digest()
        self._claim(overwrite)

    def _claim(self, overwrite: bool) -> None:
        header = self.out / BATCH_FILE
        if self.out.exists() and not self.out.is_dir():
            raise InvalidInputError(f"'{self.out}' is a file; --out must be a folder.")
        if header.is_file():
            try:
                recorded = json.loads(header.read_text(encoding="utf-8")).get("recipe_sha256")
            except (OSError, ValueError, AttributeError) as exc:
                raise InvalidInputError(f"'{header}' is damaged ({exc}); choose another output folder.") from exc
            if recorded == self.recipe_sha256:
                return  # the same batch: resume it
            if not overwrite:
                raise InvalidInputError(f"'{self.out}' holds a batch made with another recipe; its results stay. "
                                        "Choose another output folder, or pass --overwrite to replace them.")
            self._remove_recorded()
        elif self.out.is_dir() and any(self.out.iterdir()):
            raise InvalidInputError(f"'{self.out}' is not empty and holds no batch of ours: nothing in it is "
                                    "overwritten. Choose a new or empty output folder.")
        self.out.mkdir(parents=True, exist_ok=True)
        record = {"format": FORMAT, "version": VERSION, "recipe_sha256": self.recipe_sha256,
                  "recipe": self.recipe.to_dict(), "created": datetime.now(UTC).isoformat(timespec="seconds")}
        atomic_write_bytes(header, (json.dumps(record, indent=2) + "\n").encode())

    def _remove_recorded(self) -> None:
        for row in self.rows():
            for key in ("output", "latent"):
                name = row.get(key)
                if isinstance(name, str) and name and Path(name).name == name:
                    (self.out / name).unlink(missing_ok=True)
        for name in (MANIFEST, SUMMARY):
            (self.out / name).unlink(missing_ok=True)

    # -- the manifest ----------------------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """Every readable row, in order (a line torn by a crash is skipped)."""
        try:
            lines = (self.out / MANIFEST).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        rows = []
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def finished(self) -> dict[str, dict[str, Any]]:
        """Photo sha256 → its latest "done" row whose files are all still there (this recipe's)."""
        done: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            if row.get("recipe_sha256") != self.recipe_sha256 or not isinstance(row.get("sha256"), str):
                continue
            files = [row.get("output"), row.get("latent")]
            if row.get("status") == "done" and all(isinstance(f, str) and (self.out / f).is_file() for f in files):
                done[row["sha256"]] = row
            else:
                done.pop(row["sha256"], None)
        return done

    def append(self, row: dict[str, Any]) -> None:
        line = json.dumps({**row, "recipe_sha256": self.recipe_sha256}, allow_nan=False) + "\n"
        fd = os.open(self.out / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def commit(self, row: dict[str, Any], files: dict[str, bytes]) -> None:
        """A photo's files (each written atomically, plain names only), then its row."""
        for name, data in files.items():
            if Path(name).name != name or name in (BATCH_FILE, MANIFEST, SUMMARY):
                raise InvalidInputError(f"'{name}' is not a name a batch may write; check the recipe's naming.")
            atomic_write_bytes(self.out / name, data)
        self.append(row)

    def write_summary(self) -> Path:
        """``summary.csv``: the latest row of each photo, in batch order."""
        latest: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            if row.get("recipe_sha256") == self.recipe_sha256:
                latest[str(row.get("photo"))] = row
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, SUMMARY_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in sorted(latest.values(), key=lambda r: (r.get("index", 0), str(r.get("photo")))):
            writer.writerow({**row, "warnings": " | ".join(row.get("warnings") or []),
                             "psnr": "" if row.get("psnr") is None else f"{row['psnr']:.2f}",
                             "seconds": "" if row.get("seconds") is None else f"{row['seconds']:.1f}"})
        return atomic_write_bytes(self.out / SUMMARY, buffer.getvalue().encode())
