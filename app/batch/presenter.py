"""The editor's side of batches: File → Save Recipe… writes the document's settings, File → Batch… runs a recipe
over photos — both on the engine thread; the batch dialog shows each photo as it finishes."""

from __future__ import annotations

from collections.abc import Generator as JobGenerator
from pathlib import Path
from typing import cast

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from app.batch.dialog import BatchDialog
from app.batch.recipe_saving import document_recipe, write_recipe
from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.engine import JobRequest
from app.inversion.panel import InversionPanel
from app.models.presenter import ModelsPresenter
from core.batch import Recipe, load_recipe
from core.batch.local import BatchProgress, BatchReport, batch_job
from core.device import pick_device
from core.errors import CoreError
from core.jobs import CancelToken, call_as_job
from core.resources import user_data_dir

RECIPE_FILTER = "Landscape Studio recipe (*.json);;All files (*)"


class RecipePresenter:
    def __init__(self, doc: DocumentController, edits: EditController, panel: InversionPanel,
                 models: ModelsPresenter, settings: QSettings, parent: QWidget) -> None:
        self.doc, self.edits, self.panel, self.models, self.settings, self.parent = (
            doc, edits, panel, models, settings, parent)
        doc.register_job("save-recipe", lambda path: doc.status_changed.emit(
            f"Recipe saved to {path}: run it over a folder with `landscape-studio batch FOLDER --recipe {path} "
            "--out DIR`."))

        doc.register_job("batch", self._batch_done, self._batch_failed, on_steps=self._batch_steps)
        self.dialog: BatchDialog | None = None
        self._token: CancelToken | None = None

    # -- File → Batch… ------------------------------------------------------------------------------------------
    def batch_dialog(self) -> BatchDialog:
        if self.dialog is None:
            self.dialog = BatchDialog(self.parent)
            self.dialog.start_requested.connect(self.start_batch)
            self.dialog.stop_requested.connect(self.stop_batch)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def start_batch(self, entries: list[str], recipe_file: str | None, out: str) -> bool:
        """Run the recipe file (or the document's current settings) over ``entries`` into ``out``."""
        current = None if recipe_file is not None else self._current_recipe()
        if recipe_file is None and current is None:
            return False
        token = CancelToken()

        def job() -> JobGenerator[BatchProgress, None, BatchReport]:
            if recipe_file is not None:
                recipe = load_recipe(recipe_file)
            else:
                assert current is not None
                folder = user_data_dir() / "recipes"  # kept: what the batch ran, with any vector files
                folder.mkdir(parents=True, exist_ok=True)
                recipe = load_recipe(write_recipe(folder / "current.json", *current))
            return (yield from batch_job(entries, recipe, Path(out).expanduser(), device=pick_device("auto"),
                                         cancel=token, thumbnails=True))

        if not self.doc.submit(JobRequest("batch", job, token)):
            return False
        self._token = token
        if self.dialog is not None:
            self.dialog.set_running(True)
        return True

    def stop_batch(self) -> None:
        """Stop after the photo under way (it is finished and recorded)."""
        if self._token is not None:
            self._token.cancel()
            self.doc.status_changed.emit("The batch stops after the photo under way…")

    def _current_recipe(self) -> tuple[Recipe, dict[str, np.ndarray]] | None:
        placement = self.doc.placement
        try:
            return document_recipe(
                model=self.models.current_key(), aligned=placement is not None and placement.is_aligned,
                config=self.panel.config(), edits=self.doc.edits, library_names=set(self.edits.library.names()),
                composite=self.doc.composite, feather=self.doc.feather)
        except CoreError as exc:
            self.doc.error_raised.emit(f"Cannot use the current settings as a recipe: {exc}")
            return None

    def _batch_steps(self, records: list[BatchProgress]) -> None:
        if self.dialog is not None:
            self.dialog.add_progress(records)

    def _batch_done(self, report: BatchReport) -> None:
        self._token = None
        if self.dialog is not None:
            self.dialog.show_report(report)
        self.doc.status_changed.emit("Batch finished.")

    def _batch_failed(self, message: str) -> None:
        self._token = None
        if self.dialog is not None:
            self.dialog.show_failure(message)

    # -- File → Save Recipe… ------------------------------------------------------------------------------------
    def save_dialog(self) -> None:
        start = cast(str, self.settings.value("paths/last_recipe_dir", str(Path.home())))
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save recipe", str(Path(start) / "recipe.json"),
                                              RECIPE_FILTER)
        if path:
            self.settings.setValue("paths/last_recipe_dir", str(Path(path).parent))
            self.save(path)

    def save(self, path: str | Path) -> bool:
        """Write the recipe of what this document does now: model, alignment, inversion settings, edits,
        composite mode and feather (export format: PNG unless the file is edited)."""
        path = Path(path)
        if path.suffix.lower() != ".json":
            path = path.with_suffix(".json")
        current = self._current_recipe()
        if current is None:
            return False
        recipe, files = current
        return self.doc.submit(JobRequest("save-recipe", lambda: call_as_job(lambda: write_recipe(path, recipe,
                                                                                                   files))))
