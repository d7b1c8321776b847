"""Wiring of the Landscape feature: panel ↔ landscape controller; exports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from app.directions.controller import EditController
from app.document.controller import DocumentController
from app.landscape.controller import LandscapeController, SliceDone, SliceStarted
from app.landscape.panel import LandscapePanel
from app.views.canvas import CanvasView


class LandscapePresenter:
    def __init__(self, doc: DocumentController, edits: EditController, panel: LandscapePanel, canvas: CanvasView,
                 parent: QWidget) -> None:
        self.doc, self.edits, self.panel, self.canvas, self.parent = doc, edits, panel, canvas, parent
        self.landscape = LandscapeController(doc)
        self._notes: dict[str, str] = {}
        panel.compute_requested.connect(self.compute)
        panel.stop_requested.connect(doc.engine.cancel)
        panel.export_requested.connect(self.export_dialog)
        panel.image_requested.connect(lambda space, x, y: self.landscape.image_at(space, x, y))
        self.landscape.slice_started.connect(self._started)
        self.landscape.row_ready.connect(lambda space, i, values: panel.view.maps[space].set_row(i, values))
        self.landscape.slice_done.connect(self._slice_done)
        self.landscape.finished.connect(self._finished)
        self.landscape.image_ready.connect(panel.show_clicked)
        edits.library_changed.connect(self._names)
        self._names()

    def _names(self) -> None:
        self.panel.set_direction_names(self.edits.names())

    def compute(self) -> None:
        if self.landscape.compute(self.panel.config(), self.panel.steps.value(), self.edits.library):
            self._notes = {}
            self.panel.set_running(True)

    def _started(self, started: SliceStarted) -> None:
        if started.space == "x":  # a new run: the other maps' slices are of the last one
            for space, other in self.panel.view.maps.items():
                if space != "x":
                    other.clear()
            self.panel.describe_profile(started.config)
        view = self.panel.view.maps[started.space]
        view.describe(started.config)
        view.begin(started.xs, started.ys)

    def _slice_done(self, done: SliceDone) -> None:
        sliced = done.slice
        view = self.panel.view.maps[done.space]
        view.describe(sliced.config, sliced.explained_variance)
        view.set_loss(sliced.loss)
        view.set_trajectory(sliced.trajectory)
        self.panel.show_profile(done.space, *done.profile)
        if done.space == "x" or self.panel.surface_item is not None:
            self.panel.show_surface(sliced.xs, sliced.ys, sliced.loss)
        text = f"{done.space.upper()}: {sliced.seconds:.1f} s"
        if sliced.explained_variance is not None:
            a, b = (100 * v for v in sliced.explained_variance)
            text += f", the axes explain {a:.0f} % and {b:.0f} % of the path's variance"
        self._notes[done.space] = text + "."
        self.panel.status.setText("\n".join(self._notes[s] for s in sorted(self._notes)))

    def _finished(self, found: dict | None) -> None:
        self.panel.set_running(False)
        self.panel.export.setEnabled(bool(found))

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent, "Export the landscape to a folder")
        if folder:
            self.export(Path(folder))

    def export(self, folder: Path) -> list[Path]:
        """NPZ + CSV + JSON + PNG (the bare map) per space from core, and the maps as the panel shows them — axes,
        colour bars, legend — as ``landscape_plot.png``."""
        written = self.landscape.export(folder)
        shot = folder / "landscape_plot.png"
        folder.mkdir(parents=True, exist_ok=True)
        if not self.panel.view.figure().save(str(shot)):
            self.doc.error_raised.emit(f"Could not write {shot}.")
            return written
        self.doc.status_changed.emit(f"Exported the landscape to {folder}")
        return [*written, shot]
