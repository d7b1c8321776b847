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
from app.inversion.panel import InversionPanel
from app.models.controller import DEFAULT, MODEL_FILTER, ModelController, ModelInfo, is_model_file
from app.models.info_panel import ModelInfoDialog
from app.recent_files import RecentFiles
from core.generators import DEFAULT_MODEL

RECENT_KEY = "models/recent"


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
        self.models.model_loaded.connect(self._loaded)
        self.models.info_described.connect(self._described)
        self._set_label(DEFAULT_MODEL if doc.model_name == DEFAULT else Path(doc.model_name).stem)

    # -- menus -------------------------------------------------------------------------------------------------
    def add_to_file_menu(self, file: QMenu) -> None:
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
        if not info.builtin:
            self.recent_models.remember(info.path)

    def _described(self, info: ModelInfo) -> None:
        self._set_label(info.name)
        self.label.setToolTip(f"{info.architecture}, {info.resolution} px, {info.model_id}: click for details")
        self.panel.set_spaces(info.spaces, info.default_space)
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
