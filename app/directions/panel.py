"""The Directions panel: one slider per named direction, and the ways to make new directions.

The panel only shows values and reports gestures; the edit controller renders, records undo and keeps the
library. ``edits_changing`` carries every value of a drag (preview), ``edits_committed`` one finished gesture.
"""

from __future__ import annotations

from functools import partial
from typing import cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.widgets.labelled_slider import LabelledSlider
from core.directions import Direction

Edits = dict[str, float]
NO_RESULT_HINT = "Invert a photo first: the sliders move the latent of the adopted result."


class DirectionsPanel(QWidget):
    edits_changing = Signal(object)  # Edits, while a slider is dragged
    edits_committed = Signal(object, object, str)  # (old Edits, new Edits, undo text)
    discover_requested = Signal()
    train_requested = Signal()
    two_photos_requested = Signal()
    import_requested = Signal()
    rename_requested = Signal(str)
    range_requested = Signal(str)
    remove_requested = Signal(str)
    condition_requested = Signal(str)
    reset_requested = Signal()
    style_requested = Signal(str)  # "truncation", "seed", "photo" or "latent"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sliders: dict[str, LabelledSlider] = {}
        self.hint = QLabel(NO_RESULT_HINT)
        self.hint.setWordWrap(True)
        self.discover = QPushButton("Discover…")
        self.discover.setToolTip("Find directions without labels (SeFa or PCA) and name the ones you like")
        self.train = QPushButton("Train from labels…")
        self.train.setToolTip("Mark sample faces yes/no for an attribute; a linear classifier gives its direction")
        self.two_photos = QPushButton("From two photos…")
        self.two_photos.setToolTip("The difference between the inverted latents of two photos")
        self.import_file = QPushButton("Import…")
        self.import_file.setToolTip("An InterFaceGAN boundary (.npy, [1, D]) or GANSpace components (.npz)")
        self.reset_all = QPushButton("Reset all")
        self.style_button = QToolButton()
        self.style_button.setText("Style")
        self.style_button.setToolTip("Truncation toward the average face, and style mixing (StyleGAN-family models)")
        style_menu = QMenu(self.style_button)
        style_menu.addAction("Truncation", partial(self.style_requested.emit, "truncation"))
        style_menu.addAction("Mix Styles from a Seed…", partial(self.style_requested.emit, "seed"))
        style_menu.addAction("Mix Styles from Another Photo…", partial(self.style_requested.emit, "photo"))
        style_menu.addAction("Mix Styles from a Latent…", partial(self.style_requested.emit, "latent"))
        self.style_button.setMenu(style_menu)
        self.style_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        buttons = QHBoxLayout()
        for button in (self.discover, self.train, self.two_photos):
            buttons.addWidget(button)
        self.rows = QVBoxLayout()
        self.rows.addStretch(1)
        holder = QWidget()
        holder.setLayout(self.rows)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(scroll, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.import_file)
        bottom.addWidget(self.style_button)
        bottom.addStretch(1)
        bottom.addWidget(self.reset_all)
        layout.addLayout(bottom)
        self.discover.clicked.connect(self.discover_requested)
        self.train.clicked.connect(self.train_requested)
        self.two_photos.clicked.connect(self.two_photos_requested)
        self.reset_all.clicked.connect(self.reset_requested)
        self.import_file.clicked.connect(self.import_requested)
        self.set_has_result(False)

    # -- content ---------------------------------------------------------------------------------------------
    def set_directions(self, directions: list[Direction]) -> None:
        """Rebuild the rows for ``directions`` (library order), keeping the values of names that stay."""
        values = self.edits()
        while self.rows.count() > 1:
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.sliders = {}
        for direction in directions:
            self.rows.insertWidget(self.rows.count() - 1, self._row(direction, values.get(direction.name, 0.0)))
        self._sync_enabled()

    def _row(self, direction: Direction, value: float) -> QWidget:
        name = direction.name
        slider = LabelledSlider(name, *direction.value_range)
        slider.set_value(min(max(value, direction.value_range[0]), direction.value_range[1]))
        slider.setToolTip(direction_tooltip(direction))
        slider.value_changing.connect(lambda v, n=name: self.edits_changing.emit({**self.edits(), n: v}))
        slider.value_committed.connect(lambda old, new, n=name: self._committed(n, old, new))
        more = QToolButton()
        more.setText("⋯")
        more.setToolTip(f"Rename, set the range of, or remove '{name}'")
        menu = QMenu(more)
        menu.addAction("Rename…", partial(self.rename_requested.emit, name))
        menu.addAction("Range…", partial(self.range_requested.emit, name))
        menu.addAction("Keep others fixed…", partial(self.condition_requested.emit, name))
        menu.addAction("Remove", partial(self.remove_requested.emit, name))
        more.setMenu(menu)
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        cast(QHBoxLayout, slider.layout()).addWidget(more)  # LabelledSlider lays its row out in a QHBoxLayout
        self.sliders[name] = slider
        return slider

    def _committed(self, name: str, old: float, new: float) -> None:
        after = self.edits()
        before = {**after, name: old}
        self.edits_committed.emit(before, after, f"Edit {name} {new:+.2f}")

    # -- values ----------------------------------------------------------------------------------------------
    def edits(self) -> Edits:
        return {name: slider.value() for name, slider in self.sliders.items() if slider.value() != 0.0}

    def set_edits(self, edits: Edits) -> None:
        """Show ``edits`` (names not listed go to 0) without emitting anything."""
        for name, slider in self.sliders.items():
            slider.set_value(edits.get(name, 0.0))

    def set_has_result(self, has_result: bool) -> None:
        self._has_result = has_result
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        self.hint.setVisible(not self._has_result)
        for slider in self.sliders.values():
            slider.setEnabled(self._has_result)
        self.reset_all.setEnabled(self._has_result)
        self.two_photos.setEnabled(True)


def direction_tooltip(direction: Direction) -> str:
    """What a slider edits: its kind and space, the rows it moves, and for a recipe's direction what was seen
    when it was checked (so a user knows what to expect from, e.g., glasses before moving it)."""
    rows = "" if direction.layers is None else f", rows {direction.layers[0]}–{direction.layers[1] - 1}"
    text = f"{direction.name}: {direction.method} direction in {direction.space}{rows}"
    recipe = direction.provenance.get("recipe")
    checked = recipe.get("checked") if isinstance(recipe, dict) else None
    return f"{text}\n\nChecked by eye: {checked}" if isinstance(checked, str) and checked else text
