"""The main window fits a laptop: its minimum size stays below 1366×768 whatever panels are shown, and at that size
Run/Stop, Apply and Compute are on screen, uncovered; a restored geometry is clamped to the screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QGuiApplication, QRegion
from PySide6.QtWidgets import QMainWindow, QWidget

from app.window_geometry import fit_to_screen, fitted

LAPTOP = QSize(1366, 768)
FRAME_AND_PANEL = 70  # a maximised window on that screen loses about this much height to a title bar and a panel


def _fits_a_laptop(window: QMainWindow) -> None:
    hint = window.minimumSizeHint()
    assert hint.width() <= LAPTOP.width(), f"minimum width {hint.width()}"
    assert hint.height() <= LAPTOP.height() - FRAME_AND_PANEL, f"minimum height {hint.height()}"


def _assert_in_sight(window: QMainWindow, widget: QWidget) -> None:
    """Shown, inside the window, and not covered or scrolled away, not even in part."""
    name = widget.text() if hasattr(widget, "text") else type(widget).__name__
    assert widget.isVisible(), f"{name} is hidden"
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    assert window.rect().contains(rect), f"{name} at {rect} is outside the window {window.rect()}"
    visible = widget.visibleRegion()
    assert visible.isEmpty() is False, f"{name} is covered"
    assert (QRegion(widget.rect()) - visible).isEmpty(), f"{name} is partly covered: {visible.boundingRect()}"


def _settle(qtbot) -> None:
    qtbot.wait(100)  # the dock layout and the scroll areas settle through posted layout requests


def test_minimum_size_fits_a_laptop_in_every_state(window, qtbot) -> None:
    _fits_a_laptop(window)  # as after start: Inversion raised over its tabs, Progress below
    window.inversion_panel.method.setCurrentText("pivotal")  # five more settings rows
    _settle(qtbot)
    _fits_a_laptop(window)
    window.docks["inpainting"].raise_()
    _settle(qtbot)
    _fits_a_laptop(window)
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    _settle(qtbot)
    _fits_a_laptop(window)
    for dock in window.docks.values():  # no dock sets the window's minimum: each asks for under half the height
        assert dock.minimumSizeHint().height() < LAPTOP.height() // 2, dock.windowTitle()


def test_run_apply_and_compute_are_in_sight_at_1366x768(window, qtbot) -> None:
    window.resize(LAPTOP)
    qtbot.waitExposed(window)
    _settle(qtbot)
    assert window.size() == LAPTOP  # no minimum size holds the window taller or wider
    panel = window.inversion_panel
    _assert_in_sight(window, panel.run_button)
    _assert_in_sight(window, panel.compare_button)
    panel.set_running(True)  # the same button reads Stop during a run
    assert panel.run_button.text() == "Stop"
    _assert_in_sight(window, panel.run_button)
    panel.set_running(False)
    panel.method.setCurrentText("pivotal")
    _settle(qtbot)
    _assert_in_sight(window, panel.run_button)
    window.docks["inpainting"].raise_()
    _settle(qtbot)
    _assert_in_sight(window, window.inpainting_panel.run_button)
    _assert_in_sight(window, window.inpainting_panel.apply_button)
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    _settle(qtbot)
    assert window.size() == LAPTOP
    _assert_in_sight(window, window.landscape_panel.compute)
    _assert_in_sight(window, window.inpainting_panel.apply_button)
    window.docks["inversion"].raise_()
    _settle(qtbot)
    _assert_in_sight(window, panel.run_button)


SCREEN = QRect(0, 0, 1366, 728)  # a laptop's available area: 1366×768 less a 40 px panel


@pytest.mark.parametrize(("saved", "expected"), [
    (QRect(100, 50, 800, 600), QRect(100, 50, 800, 600)),  # fits: unchanged
    (QRect(0, 0, 1560, 1238), QRect(0, 0, 1366, 728)),  # taller and wider than the screen: shrunk to it
    (QRect(900, 500, 800, 600), QRect(566, 128, 800, 600)),  # hangs off the right and the bottom: moved in
    (QRect(-300, -40, 800, 600), QRect(0, 0, 800, 600)),  # off the left and the top: moved in
    (QRect(200, 300, 1400, 500), QRect(0, 228, 1366, 500)),  # too wide only: shrunk and moved, height kept
])
def test_fitted_keeps_a_saved_geometry_on_the_screen(saved: QRect, expected: QRect) -> None:
    assert fitted(saved, SCREEN) == expected


def test_fitted_moves_onto_a_second_screen_to_the_right() -> None:
    second = QRect(1920, 0, 1366, 768)
    assert fitted(QRect(3500, 100, 2000, 1200), second) == second  # from a larger screen that was unplugged


def test_fit_to_screen_shrinks_and_moves_a_window_into_the_available_area(qtbot) -> None:
    widget = QMainWindow()
    qtbot.addWidget(widget)
    available = QGuiApplication.primaryScreen().availableGeometry()
    widget.setGeometry(available.x() + 50, available.y() + 50, available.width() + 400, available.height() + 300)
    fit_to_screen(widget)
    assert available.contains(widget.geometry()), (widget.geometry(), available)
    assert widget.height() < available.height()  # room left for the title bar the window manager adds
    assert widget.width() == available.width()
