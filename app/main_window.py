"""The main window: docks, menus, toolbar and status bar. Wiring only; the work is in the controller."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QProgressBar, QUndoView

from app.alignment.presenter import AlignPresenter
from app.animation.presenter import AnimationPresenter
from app.batch.presenter import RecipePresenter
from app.before_key import BeforeKey
from app.dialogs import CANVAS_KEYS, Preferences, PreferencesDialog, ShortcutsDialog
from app.directions.controller import EditController
from app.directions.panel import DirectionsPanel
from app.directions.presenter import DirectionsPresenter
from app.docks import build_docks
from app.document.autosave import Autosave, RecoveryOffer
from app.document.controller import DocumentController
from app.document.projects import ProjectController, ReopenedProject
from app.document.state import Adopted, OpenedPhoto
from app.document.unsaved import UnsavedChangesGuard
from app.drag.presenter import DragPresenter
from app.guide import Guide
from app.inpainting.panel import InpaintingPanel
from app.inpainting.presenter import InpaintingPresenter
from app.inversion.controller import InversionController
from app.inversion.panel import InversionPanel
from app.inversion.progress_panel import PREVIEW_PX, ProgressPanel
from app.landscape.panel import LandscapePanel
from app.landscape.presenter import LandscapePresenter
from app.menus import build_menu_bar
from app.models.presenter import ModelsPresenter
from app.recent_files import RecentFiles
from app.views.canvas import CanvasView
from app.widgets.canvas_toolbar import CanvasToolBar
from app.window_geometry import fit_to_screen
from core.errors import CoreError
from core.imageio import save_image
from core.inversion import InversionConfig

PHOTO_FILTER = ("Photos and projects (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif *.lsproj);;"
                "Projects (*.lsproj);;Generator models (*.pt *.pth *.pkl *.safetensors);;All files (*)")


class MainWindow(QMainWindow):
    def __init__(self, controller: DocumentController, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Landscape Studio")
        self.controller = controller
        self.settings = settings or QSettings()
        self.prefs = Preferences(self.settings)
        controller.default_composite = self.prefs.composite
        self._run_waits = False  # a Run asked for during the face alignment starts when it ends
        self.canvas = CanvasView()
        self.setCentralWidget(self.canvas)
        self.inversion_panel = InversionPanel()
        self.progress_panel = ProgressPanel()
        self.directions_panel = DirectionsPanel()
        self.inpainting_panel = InpaintingPanel()
        self.landscape_panel = LandscapePanel()
        self.history = QUndoView(controller.undo_stack)
        self.docks = build_docks(self, {
            "inversion": self.inversion_panel, "progress": self.progress_panel, "directions": self.directions_panel,
            "inpainting": self.inpainting_panel, "history": self.history, "landscape": self.landscape_panel})
        self.inversion = InversionController(controller)
        self.edits = EditController(controller)
        self.projects = ProjectController(controller, self.edits)
        self.unsaved = UnsavedChangesGuard(controller, self.projects, self, self.save_project)
        self.autosave = Autosave(controller, self.edits, self.projects, self.prefs.autosave_minutes)
        self.recovery = RecoveryOffer(controller, self.projects, self.autosave, self, self.show_error)
        self.directions = DirectionsPresenter(controller, self.edits, self.directions_panel, self.canvas, self)
        self.landscape = LandscapePresenter(controller, self.edits, self.landscape_panel, self.canvas, self)
        self.inpainting = InpaintingPresenter(controller, self.inpainting_panel, self.canvas,
                                              self.inversion_panel.device_name, self._prepare_run,
                                              lambda shown: self.toolbar.mask_action.setChecked(shown))
        self.models = ModelsPresenter(controller, self.inversion_panel, self.settings, self)
        self.models.layers_changed = self.directions.set_layer_count
        self.recipes = RecipePresenter(controller, self.edits, self.inversion_panel, self.models, self.settings, self)
        self.animation = AnimationPresenter(controller, self.edits, self.inversion, self)
        self.docks["inversion"].raise_()
        self.history.setEmptyLabel("Opened photo")
        self.toolbar = CanvasToolBar(self.canvas, self)
        self.addToolBar(self.toolbar)
        self.alignment = AlignPresenter(controller, self.inversion_panel, self.canvas, self)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.alignment.action)
        self.drag = DragPresenter(self)  # the Drag tool's panel, dock and Edit → Drag Points
        self._status_bar()
        self.setAcceptDrops(True)
        self.before_key = BeforeKey(self, self.canvas.hold_before)  # \ held shows "before", whatever has focus
        (self.recent_menu, self.run_action, self.stop_action, self.reset_model_action,
         self.composite_action) = build_menu_bar(self)
        self.recent = RecentFiles(self.settings, self.recent_menu, self.open_path)
        self._connect()
        if self.edits.library_problem:  # a damaged direction library was moved aside: say so once the window shows
            problem = self.edits.library_problem
            QTimer.singleShot(0, lambda: self.show_error(problem))
        self.guide = Guide(controller, self.canvas, self.toolbar, self.hint, self.settings)
        self._restore()

    def _status_bar(self) -> None:
        """Status and hint on the left; warnings, the model and the progress bar on the right."""
        self.status, self.hint, self.warning = QLabel("Ready"), QLabel(), QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.warning.setStyleSheet("color: #b36b00; padding: 0 6px;")
        self.warning.hide()
        bar = self.statusBar()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.hint, 2)
        for widget in (self.warning, self.models.label, self.progress):
            bar.addPermanentWidget(widget)

    # -- menus -------------------------------------------------------------------------------------------------
    def all_actions(self) -> list[QAction]:
        found = []
        for menu_action in self.menuBar().actions():
            menu = cast(QMenu, menu_action.menu())  # the menu bar's actions are its menus' (typed QObject)
            found += [a for a in menu.actions() if not a.isSeparator()]
        return found + self.toolbar.actions()

    # -- wiring ------------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        c = self.controller
        c.photo_opened.connect(self._photo_opened)
        self.models.models.model_loaded.connect(lambda _info: self._align_opened_photo() if (  # the new framing
            self.prefs.align_on_open and c.opened is not None) else None)
        c.crop_applied.connect(self.canvas.set_crop)
        c.result_applied.connect(self._result_applied)
        c.run_state_changed.connect(self._run_state_changed)
        self.inversion.steps_received.connect(self.progress_panel.add_steps)
        self.inversion.progress_changed.connect(self._progress_changed)
        self.inpainting.inpaint.steps_received.connect(self.inversion.show_steps)
        c.mask_changed.connect(self.canvas.refresh_mask)
        c.status_changed.connect(self.status.setText)
        c.warning_raised.connect(self.show_warning)
        c.landscape_changed.connect(self.inversion_panel.set_theta)
        self.inversion_panel.theta_note = c.theta_note
        c.error_raised.connect(self.show_error)
        self.canvas.crop_changed.connect(c.set_crop)
        self.canvas.stroke_finished.connect(lambda edit: c.push_mask_edit(edit, "Brush stroke"))
        self.canvas.brush_size_changed.connect(self.toolbar.sync_brush_size)
        self.inversion_panel.run_requested.connect(self.run_inversion)
        self.inversion_panel.stop_requested.connect(c.stop)
        self.inversion_panel.reset_model_requested.connect(c.reset_model)
        self.inversion_panel.compare_requested.connect(self.compare_dialog)
        self.projects.project_opened.connect(self._project_opened)
        c.model_changed.connect(lambda _key: self.progress_panel.reset())  # its curve and images were the old model's
        self.projects.project_saved.connect(lambda path: self.recent.remember(Path(path)))

    def _photo_opened(self, opened: OpenedPhoto) -> None:
        if getattr(self, "_align_when_opened", False):  # a photo (not a project: it brings its own alignment)
            self._align_when_opened = False
            self.controller.engine_idle.connect(self._align_opened_photo, Qt.ConnectionType.SingleShotConnection)
        self.canvas.set_photo(opened.display, (opened.photo.width, opened.photo.height))
        self.canvas.attach_mask(self.controller.mask)  # the canvas draws, and paints into, the document's mask
        self.canvas.set_crop(opened.placement.crop)
        self.progress_panel.reset()
        source = opened.photo.source
        if source is not None:  # None: a project's embedded photo without a path (the project titles the window)
            self.setWindowTitle(f"{source.name}[*] — Landscape Studio")
            self.recent.remember(source)

    def _align_opened_photo(self) -> None:
        """Once the open job has ended: align the new photo's face, unless work on it has already begun."""
        if self.controller.adopted is None and self.controller.alignment is None:
            self.alignment.aligner.align(part_of_opening=True)

    def _result_applied(self, adopted: Adopted | None) -> None:
        self.canvas.set_result(self.controller.shown_display())
        tuned = adopted is not None and adopted.tuning is not None
        self.inversion_panel.set_tuned(tuned)
        self.reset_model_action.setEnabled(tuned)
        if adopted is not None:
            self.progress_panel.show_result(adopted.image)

    def _run_state_changed(self, running: bool) -> None:
        if not running:
            self.progress_panel.finish(self.inversion.elapsed())
        self.inversion_panel.set_running(running)
        self.run_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.progress.setVisible(running)

    def _progress_changed(self, step: int, steps: int, per_second: float) -> None:
        self.progress.setMaximum(max(steps, 1))
        self.progress.setValue(step)
        self.progress_panel.set_speed(step, steps, per_second)

    def _apply_preferences(self) -> None:
        self.controller.feather = self.prefs.feather
        self.controller.default_composite = self.prefs.composite  # photos opened from now on
        self.autosave.set_interval(self.prefs.autosave_minutes)

    def _prepare_run(self, steps: int, tuning_steps: int = 0, coarse_steps: int = 0) -> None:
        """Before a run: the preferences apply, and the progress view starts over on the current crop, its axis
        the whole run (a pivotal run's weight tuning included, the switch from the coarse image marked)."""
        c = self.controller
        self._apply_preferences()
        if c.opened is not None and c.placement is not None:
            shown = c.opened.on_display(c.placement).target(c.opened.display, PREVIEW_PX)
            self.progress_panel.reset(shown, steps, tuning_steps, coarse_steps)

    def run_inversion(self) -> None:
        c = self.controller
        if c.opened is None or c.crop is None:
            self.show_error("Open a photo first.")
            return
        if c.aligning:  # the alignment after opening takes a second or two: run right after it, not never
            if not self._run_waits:
                self._run_waits = True
                c.engine_idle.connect(self._run_after_alignment, Qt.ConnectionType.SingleShotConnection)
            c.status_changed.emit("The run starts once the face is aligned…")
            return
        config = self.inversion_panel.config()
        self._prepare_run(config.steps, config.tune_steps if config.method == "pivotal" else 0,
                          self.inversion_panel.coarse_steps_in_use())
        self.inversion.run(config, self.inversion_panel.device_name())

    def _run_after_alignment(self) -> None:
        self._run_waits = False
        self.run_inversion()

    def show_warning(self, message: str) -> None:
        """A lasting, visible notice (e.g. LPIPS unavailable): short text in the status bar, details on hover."""
        short = "⚠ LPIPS unavailable: pixel loss only" if "LPIPS" in message else f"⚠ {message[:60]}"
        self.warning.setText(short)
        self.warning.setToolTip(message)
        self.warning.show()

    def show_error(self, message: str) -> None:
        self.status.setText(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "Landscape Studio", message, parent=self)
        box.open()  # window-modal without blocking the event loop

    # -- files -------------------------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """Open a photo or a project, or load a model file (by its suffix: dropped files all come here); unsaved
        changes are offered for saving first, since each replaces the document."""
        what = "loading another model" if self.models.accepts(path) else f"opening {Path(path).name}"
        if not self.unsaved.confirm(what, lambda: self.open_path(path)):
            return
        if self.models.accepts(path):
            self.models.load(path)
        elif Path(path).suffix.lower() == ".lsproj":
            self.projects.open(path)
        else:
            self._align_when_opened = self.prefs.align_on_open
            self.controller.open_photo(path)

    def save_project(self) -> bool:
        """Save to the project's file (asking for one the first time); False when no save was started."""
        if self.projects.path is None:
            return self.save_project_as()
        return self.projects.save(self.projects.path, cast(bool, self.settings.value("projects/embed", False, bool)))

    def save_project_as(self) -> bool:
        c = self.controller
        if c.opened is None:
            self.show_error("Open a photo first.")
            return False
        source = c.opened.photo.source
        suggestion = str(self.projects.path or (source.with_suffix(".lsproj") if source else "untitled.lsproj"))
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggestion, "Landscape Studio project (*.lsproj)")
        if not path:
            return False
        embed = QMessageBox.question(
            self, "Embed the photo?", "Embed a copy of the photo in the project? The project then opens even if "
            "the photo is moved or deleted, at the cost of its size.") == QMessageBox.StandardButton.Yes
        self.settings.setValue("projects/embed", embed)
        return self.projects.save(path, embed)

    def _project_opened(self, project: ReopenedProject) -> None:
        self.setWindowTitle(f"{project.path.name}[*] — Landscape Studio")
        self.recent.remember(project.path)

    def open_dialog(self) -> None:
        start = cast(str, self.settings.value("paths/last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", start, PHOTO_FILTER)
        if path:
            self.settings.setValue("paths/last_dir", str(Path(path).parent))
            self.open_path(path)

    def export_dialog(self) -> None:
        if self.controller.opened is None:
            self.show_error("Open a photo first.")
            return
        source = self.controller.opened.photo.source
        suggestion = str(source.with_name(f"{source.stem}_edited.png") if source else "edited.png")
        path, _ = QFileDialog.getSaveFileName(self, "Export photo", suggestion, "PNG (*.png);;JPEG (*.jpg *.jpeg)")
        if path:
            self.controller.export(path, self.prefs.jpeg_quality)

    def save_latent_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save latent", "latent.npy", "NumPy array (*.npy)")
        if path:
            self.controller.save_latent(path)

    def import_mask_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import mask", "", "PNG (*.png);;All files (*)")
        if path:
            self.import_mask(path)

    def import_mask(self, path: str | Path) -> None:
        try:
            self.controller.import_mask(path)
        except CoreError as exc:
            self.show_error(str(exc))

    def export_mask_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export mask", "mask.png", "PNG (*.png)")
        if path:
            save_image(self.controller.mask[..., None].repeat(3, axis=2), path)

    # -- dialogs -----------------------------------------------------------------------------------------------
    def preferences_dialog(self) -> None:
        dialog = PreferencesDialog(self.prefs, self)
        dialog.accepted.connect(self._apply_preferences)
        dialog.open()

    def shortcuts_dialog(self) -> None:
        ShortcutsDialog(self.all_actions(), CANVAS_KEYS, self).open()

    def landscape_dialog(self) -> None:
        from app.landscape.training_dialog import LandscapeTrainDialog

        if getattr(self, "_landscape_dialog", None) is None:
            self._landscape_dialog = LandscapeTrainDialog(self.controller, self.models.models, self)
        self._landscape_dialog.show()
        self._landscape_dialog.raise_()

    def compare_dialog(self) -> None:
        """One non-modal comparison window, opened on demand (its controller registers the "compare" job)."""
        from app.inversion.compare_controller import CompareController
        from app.inversion.compare_dialog import CompareMethodsDialog

        if self.controller.opened is None:
            self.show_error("Open a photo first: methods are compared on its crop.")
            return
        if getattr(self, "_compare_dialog", None) is None:
            self._compare_dialog = CompareMethodsDialog(CompareController(self.controller), self._compare_inputs,
                                                        self)
        self._compare_dialog.show()
        self._compare_dialog.raise_()

    def _compare_inputs(self) -> tuple[InversionConfig, str, np.ndarray]:
        """What a comparison runs with: the Inversion panel's settings and device, the document's mask."""
        return self.inversion_panel.config(), self.inversion_panel.device_name(), self.controller.mask

    def about_dialog(self) -> None:
        QMessageBox(QMessageBox.Icon.Information, "About Landscape Studio",
                    "Landscape Studio edits photos by inverting a generative network.\n"
                    "Default model: DCGAN on DigiFace1M (MIT, gan-face-generate 1.1.1).", parent=self).open()

    # -- drag & drop, settings, close ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_path(files[0])
            event.acceptProposedAction()

    def _restore(self) -> None:
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state)
        self.inversion_panel.load_settings(self.settings)
        fit_to_screen(self)  # a saved geometry (or the default) never ends up larger than, or off, the screen

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.running and not self.confirm_quit_during_run():
            event.ignore()
            return
        if not self.unsaved.confirm("quitting", self.close):
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.inversion_panel.save_settings(self.settings)
        self.controller.shutdown()
        self.autosave.close()  # a clean exit leaves no recovery file
        event.accept()

    def confirm_quit_during_run(self) -> bool:
        answer = QMessageBox.question(self, "Quit during a run?",
                                      "A run is in progress. Stop it and quit? Its result will be lost.")
        return answer == QMessageBox.StandardButton.Yes
