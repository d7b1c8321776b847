"""The main window's menu bar: which actions exist, in what order, with which shortcuts. Kept out of
:mod:`app.main_window` so the window only wires; every slot stays the window's (or one of its presenters')."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from app.dialogs import COMPOSITE_HINT

if TYPE_CHECKING:
    from app.main_window import MainWindow


class MenuBar(NamedTuple):
    """The menu entries the window updates after building: its recent files and the run/stop state."""

    recent_menu: QMenu
    run_action: QAction
    stop_action: QAction
    reset_model_action: QAction  # enabled while the result uses a pivotal-tuned generator copy
    composite_action: QAction  # Edit → Keep Photo Detail (checked: "detail"), follows the document


def add_action(menu: QMenu, text: str, slot: Callable[..., object],
               shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(slot)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action


def build_menu_bar(window: MainWindow) -> MenuBar:
    """Fill ``window``'s menu bar (File, Edit, View, Run, Help); the recent-files menu is left empty."""
    bar = window.menuBar()
    recent_menu = _file_menu(window, bar.addMenu("&File"))
    composite = _edit_menu(window, bar.addMenu("&Edit"))
    _view_menu(window, bar.addMenu("&View"))
    run_action, stop_action, reset_model = _run_menu(window, bar.addMenu("&Run"))
    help_menu = bar.addMenu("&Help")
    add_action(help_menu, "&Keyboard Shortcuts", window.shortcuts_dialog, QKeySequence.StandardKey.HelpContents)
    window.models.add_to_help_menu(help_menu)
    add_action(help_menu, "&About", window.about_dialog)
    return MenuBar(recent_menu, run_action, stop_action, reset_model, composite)


def _file_menu(window: MainWindow, file: QMenu) -> QMenu:
    keys = QKeySequence.StandardKey
    add_action(file, "&Open…", window.open_dialog, keys.Open)
    recent_menu = file.addMenu("Open &Recent")
    file.addSeparator()
    window.models.add_to_file_menu(file)
    file.addSeparator()
    add_action(file, "Save &Project", window.save_project, keys.Save)
    add_action(file, "Save Project &As…", window.save_project_as, keys.SaveAs)
    add_action(file, "&Export…", window.export_dialog, "Ctrl+E")
    add_action(file, "Export &Animation…", window.animation.show_dialog, "Ctrl+Shift+E")
    add_action(file, "Save &Latent…", window.save_latent_dialog, "Ctrl+Shift+L")
    add_action(file, "Save Re&cipe…", window.recipes.save_dialog)
    add_action(file, "&Batch…", window.recipes.batch_dialog)
    add_action(file, "&Import Mask…", window.import_mask_dialog)
    add_action(file, "Export &Mask…", window.export_mask_dialog)
    file.addSeparator()
    add_action(file, "&Quit", window.close, keys.Quit)
    return recent_menu


def _edit_menu(window: MainWindow, edit: QMenu) -> QAction:
    keys = QKeySequence.StandardKey
    undo = window.controller.undo_stack.createUndoAction(window, "&Undo")
    undo.setShortcut(QKeySequence(keys.Undo))
    redo = window.controller.undo_stack.createRedoAction(window, "&Redo")
    redo.setShortcut(QKeySequence(keys.Redo))
    edit.addActions([undo, redo])
    edit.addSeparator()
    add_action(edit, "&Clear Mask", window.controller.clear_mask, "Ctrl+Shift+X")
    add_action(edit, "&Invert Mask", window.controller.invert_mask, "Ctrl+I")
    edit.addSeparator()
    edit.addAction(window.drag.menu_action)
    edit.addSeparator()
    composite = _composite_action(window)
    edit.addAction(composite)
    edit.addSeparator()
    add_action(edit, "&Preferences…", window.preferences_dialog, keys.Preferences)
    return composite


def _composite_action(window: MainWindow) -> QAction:
    """Edit → Keep Photo Detail: this document's results add their change to the photo (checked) or replace it."""
    controller = window.controller
    action = QAction("Keep Photo &Detail", window)
    action.setCheckable(True)
    action.setChecked(controller.detail)
    action.setStatusTip(COMPOSITE_HINT)
    action.setToolTip(COMPOSITE_HINT)

    def toggled(on: bool) -> None:
        if not controller.set_composite("detail" if on else "replace"):
            action.setChecked(controller.detail)  # refused (busy, no photo): show what the document does

    action.toggled.connect(toggled)
    controller.composite_changed.connect(lambda mode: action.setChecked(mode == "detail"))
    return action


def _view_menu(window: MainWindow, view: QMenu) -> None:
    keys = QKeySequence.StandardKey
    add_action(view, "&Fit", window.canvas.fit, "Ctrl+0")
    add_action(view, "&100 %", window.canvas.zoom_100, "Ctrl+1")
    add_action(view, "Zoom &In", lambda: window.canvas.zoom_by(1.25), keys.ZoomIn)
    add_action(view, "Zoom &Out", lambda: window.canvas.zoom_by(0.8), keys.ZoomOut)
    view.addSeparator()
    view.addActions(window.toolbar.compare_actions)
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())


def _run_menu(window: MainWindow, run: QMenu) -> tuple[QAction, QAction, QAction]:
    run_action = add_action(run, "&Run Inversion", window.run_inversion, "Ctrl+Return")
    run.addAction(window.alignment.action)
    stop_action = add_action(run, "&Stop", window.controller.stop, "Escape")
    stop_action.setEnabled(False)
    run.addSeparator()
    add_action(run, "&Compare Methods…", window.compare_dialog)
    add_action(run, "Train &Landscape…", window.landscape_dialog)
    add_action(run, "Train &Encoder…", lambda: _encoder_dialog(window))
    run.addSeparator()
    reset_model = add_action(run, "Reset to &Original Model", window.controller.reset_model)
    reset_model.setEnabled(False)  # only while the result uses a generator copy tuned for the photo (pivotal)
    return run_action, stop_action, reset_model


def _encoder_dialog(window: MainWindow) -> None:
    """Run → Train Encoder… (imported on first use: the dialog pulls in pyqtgraph and the trainer)."""
    from app.inversion.encoder_training_dialog import open_encoder_dialog

    open_encoder_dialog(window)
