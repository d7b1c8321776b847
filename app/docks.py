"""The main window's dock layout: which panel docks where and which share a tab stack. The object names derive from
the titles, so a layout saved by ``QMainWindow.saveState`` keeps restoring as long as the titles stay."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

RIGHT, BOTTOM = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
DOCKS = [("inversion", "Inversion", RIGHT), ("progress", "Progress", RIGHT), ("directions", "Directions", RIGHT),
         ("inpainting", "Inpainting", RIGHT), ("history", "History", RIGHT), ("landscape", "Landscape", BOTTOM)]
TABBED_WITH_INVERSION = ("directions", "inpainting", "history")


def build_docks(window: QMainWindow, widgets: dict[str, QWidget]) -> dict[str, QDockWidget]:
    """Dock each of ``widgets`` (keyed by the names in DOCKS) in ``window``; returns the docks by the same names."""
    # the right column runs the window's full height: the Landscape view opens under the canvas only, so the
    # Inversion and Progress docks keep their height on a short screen
    window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
    window.setCorner(Qt.Corner.TopRightCorner, RIGHT)
    docks = {name: _dock(window, title, widgets[name], area) for name, title, area in DOCKS}
    for name in TABBED_WITH_INVERSION:
        window.tabifyDockWidget(docks["inversion"], docks[name])
    docks["landscape"].hide()  # View → Landscape opens it: most edits never need it
    return docks


def _dock(window: QMainWindow, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock_{title.lower()}")
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def add_tabbed_dock(window: QMainWindow, docks: dict[str, QDockWidget], name: str, title: str,
                    widget: QWidget) -> QDockWidget:
    """A feature's panel docked as one more tab beside the Inversion panel (keyed ``name`` in ``docks``), so a
    feature package adds its panel without the window's own list growing."""
    dock = docks[name] = _dock(window, title, widget, RIGHT)
    window.tabifyDockWidget(docks["inversion"], dock)
    return dock
