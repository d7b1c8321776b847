"""The editor's side of batches: File → Save Recipe… writes the document's settings (on the engine thread)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from app.batch.recipe_saving import document_recipe, write_recipe
from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.engine import JobRequest
from app.inversion.panel import InversionPanel
from app.models.presenter import ModelsPresenter
from core.errors import CoreError
from core.jobs import call_as_job

RECIPE_FILTER = "Landscape Studio recipe (*.json);;All files (*)"


class RecipePresenter:
    def __init__(self, doc: DocumentController, edits: EditController, panel: InversionPanel,
                 models: ModelsPresenter, settings: QSettings, parent: QWidget) -> None:
        self.doc, self.edits, self.panel, self.models, self.settings, self.parent = (
            doc, edits, panel, models, settings, parent)
        doc.register_job("save-recipe", lambda path: doc.status_changed.emit(
            f"Recipe saved to {path}: run it over a folder with `landscape-studio batch FOLDER --recipe {path} "
            "--out DIR`."))

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
        placement = self.doc.placement
        try:
            recipe, files = document_recipe(
                model=self.models.current_key(), aligned=placement is not None and placement.is_aligned,
                config=self.panel.config(), edits=self.doc.edits, library_names=set(self.edits.library.names()),
                composite=self.doc.composite, feather=self.doc.feather)
        except CoreError as exc:
            self.doc.error_raised.emit(f"Cannot save the recipe: {exc}")
            return False
        return self.doc.submit(JobRequest("save-recipe", lambda: call_as_job(lambda: write_recipe(path, recipe,
                                                                                                   files))))
