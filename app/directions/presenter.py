"""Wiring of the Directions feature: panel ↔ edit controller ↔ canvas, and the three "make a direction" dialogs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.directions.controller import EditController, EditPreview
from app.directions.dialogs import DiscoverDialog, LabelDialog, TwoPhotosDialog
from app.directions.maker import DirectionMaker
from app.directions.panel import DirectionsPanel
from app.directions.style import StyleEdits
from app.document.controller import DocumentController
from app.document.state import Adopted
from app.views.canvas import CanvasView
from core.directions import Direction, conditional
from core.errors import CoreError


class DirectionsPresenter:
    def __init__(self, doc: DocumentController, edits: EditController, panel: DirectionsPanel, canvas: CanvasView,
                 parent: QWidget) -> None:
        self.doc, self.edits, self.panel, self.canvas, self.parent = doc, edits, panel, canvas, parent
        self.maker = DirectionMaker(doc)
        self.discover_dialog: DiscoverDialog | None = None
        self._num_ws = 0  # per-layer codes of the loaded model (0: none), for the Discover dialog's layer range
        self.label_dialog: LabelDialog | None = None
        panel.edits_changing.connect(edits.preview)
        panel.edits_committed.connect(edits.commit)
        panel.reset_requested.connect(edits.reset)
        panel.rename_requested.connect(self.rename)
        panel.range_requested.connect(self.set_range)
        panel.remove_requested.connect(self.remove)
        panel.condition_requested.connect(self.condition_dialog)
        panel.discover_requested.connect(self.open_discover)
        panel.train_requested.connect(self.open_labels)
        panel.two_photos_requested.connect(self.open_two_photos)
        panel.import_requested.connect(self.import_dialog)
        self.style = StyleEdits(doc, edits, parent)
        panel.style_requested.connect(self.style.request)
        edits.edits_applied.connect(panel.set_edits)
        edits.preview_ready.connect(self.show_preview)
        edits.library_changed.connect(self.refresh)
        doc.result_applied.connect(self.result_changed)
        doc.run_state_changed.connect(lambda running: panel.setEnabled(not running))
        self.maker.components_ready.connect(self._components)
        self.maker.faces_ready.connect(lambda faces: self.label_dialog and self.label_dialog.show_faces(faces))
        self.maker.direction_made.connect(self._made)
        self.maker.imported.connect(self._imported)
        self.maker.failed.connect(self._failed)
        self.refresh()

    def refresh(self) -> None:
        self.panel.set_directions(self.edits.directions())
        self.panel.set_edits(self.edits.edits)

    def show_preview(self, preview: EditPreview) -> None:
        self.canvas.set_result_patch(preview.patch, preview.box if preview.patch is not None else None)

    def result_changed(self, adopted: Adopted | None) -> None:
        self.panel.set_has_result(adopted is not None)
        self.panel.set_edits({})

    # -- library edits ---------------------------------------------------------------------------------------
    def _guard(self, action: Callable[..., object], *args: object) -> bool:
        try:
            action(*args)
        except CoreError as exc:
            self.doc.error_raised.emit(str(exc))
            return False
        return True

    def rename(self, name: str) -> None:
        new, ok = QInputDialog.getText(self.parent, "Rename direction", "New name:", text=name)
        if ok and new.strip() and new.strip() != name:
            self._guard(self.edits.rename_direction, name, new.strip())

    def set_range(self, name: str) -> None:
        low, high = self.edits.direction(name).value_range
        value, ok = QInputDialog.getDouble(self.parent, "Slider range", f"'{name}' goes from −R to +R; R =",
                                           max(abs(low), abs(high)), 0.1, 50.0, 1)
        if ok:
            self._guard(self.edits.set_range, name, -value, value)

    def remove(self, name: str) -> None:
        answer = QMessageBox.question(self.parent, "Remove direction", f"Remove '{name}' from the library?")
        if answer == QMessageBox.StandardButton.Yes:
            self._guard(self.edits.remove_direction, name)

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Import directions", "",
                                              "Directions (*.npy *.npz);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> bool:
        """Read the file on the engine; its directions join the library when they arrive (``_imported``)."""
        return self.maker.import_file(path)

    def _imported(self, value: tuple[str, list]) -> None:
        name, found = value
        added = [d.name for d in found if self._guard(self.edits.add_direction, d)]
        self.doc.status_changed.emit(f"Imported {', '.join(added) or 'nothing'} from {name}.")

    def condition_dialog(self, name: str) -> None:
        others = [n for n in self.edits.names() if n != name]
        if not others:
            return
        other, ok = QInputDialog.getItem(self.parent, "Keep another direction fixed",
                                         f"A new direction: '{name}' with this one projected out, so moving it "
                                         "leaves this attribute unchanged:", others, 0, False)
        if ok:
            self.condition(name, [other])

    def condition(self, name: str, others: list[str]) -> str | None:
        """Add '<name> | <others>': ``name`` with the others projected out (InterFaceGAN's conditional edit)."""
        new_name = f"{name} | {', '.join(others)}"
        try:
            made = conditional(self.edits.direction(name), [self.edits.direction(o) for o in others], new_name)
        except CoreError as exc:
            self.doc.error_raised.emit(str(exc))
            return None
        return new_name if self._guard(self.edits.add_direction, made) else None

    # -- making directions -----------------------------------------------------------------------------------
    def set_layer_count(self, num_ws: int) -> None:
        self._num_ws = num_ws
        if self.discover_dialog is not None:
            self.discover_dialog.set_layer_count(num_ws)

    def open_discover(self) -> None:
        if self.discover_dialog is None:
            self.discover_dialog = DiscoverDialog(self.parent)
            self.discover_dialog.set_layer_count(self._num_ws)
            self.discover_dialog.compute_requested.connect(self.maker.discover)
            self.discover_dialog.add_requested.connect(self._add_components)
        self.discover_dialog.show()
        self.discover_dialog.raise_()

    def _components(self, value: tuple) -> None:
        found, strips, notes = value
        if self.discover_dialog is not None:
            self.discover_dialog.show_components([d.name for d in found], strips, notes)

    def _add_components(self, chosen: list[tuple[int, str]]) -> None:
        added = [name for index, name in chosen
                 if self._guard(self.edits.add_direction, self.maker.components[index].replace(name=name or
                                                                                            f"component {index}"))]
        if added and self.discover_dialog is not None:
            self.discover_dialog.status.setText(f"Added {', '.join(added)}.")

    def open_labels(self) -> None:
        if self.label_dialog is None:
            self.label_dialog = LabelDialog(self.parent)
            self.label_dialog.faces_requested.connect(self.maker.faces)
            self.label_dialog.train_requested.connect(self.maker.train)
        self.label_dialog.show()
        self.label_dialog.raise_()
        if not self.label_dialog.faces:
            self.maker.faces(self.label_dialog.seed.value(), self.label_dialog.count)

    def open_two_photos(self) -> None:
        dialog = TwoPhotosDialog(self.parent)
        dialog.accepted.connect(lambda: self.maker.from_two_photos(
            dialog.name.text().strip(), Path(dialog.first.text()), Path(dialog.second.text()), dialog.steps.value()))
        dialog.open()

    def _made(self, direction: Direction) -> None:
        if self._guard(self.edits.add_direction, direction):
            accuracy = direction.provenance.get("training_accuracy")
            detail = f" (training accuracy {100 * accuracy:.0f} %)" if accuracy is not None else ""
            self.doc.status_changed.emit(f"Added direction '{direction.name}'{detail}.")
            if self.label_dialog is not None and direction.method == "supervised":
                self.label_dialog.set_status(f"Added '{direction.name}'{detail}.")

    def _failed(self, message: str) -> None:
        if self.discover_dialog is not None:
            self.discover_dialog.set_status(message)
        if self.label_dialog is not None:
            self.label_dialog.set_status(message)
