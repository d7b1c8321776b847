"""The three ways to make a direction in the GUI: discover (SeFa/PCA gallery), train from labels, two photos.

Dialogs run nothing themselves: they emit what the user asked for, the edit controller runs it on the engine
and hands back pictures (``show_components``, ``show_faces``) or a message (``set_status``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayoutItem,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.widgets.qimage import numpy_to_qimage

FACE_PX = 88  # on-screen size of one face in the galleries
PHOTO_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"


def pixmap(pixels: np.ndarray, height: int) -> QPixmap:
    image = numpy_to_qimage(pixels)
    return QPixmap.fromImage(image).scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)


def _scroll(widget: QWidget) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(widget)
    return scroll


def _delete_item(item: QLayoutItem | None) -> None:
    """Delete the widget of an item taken out of a gallery's grid (which holds only widgets)."""
    widget = item.widget() if item is not None else None
    if widget is not None:
        widget.deleteLater()


class DiscoverDialog(QDialog):
    """A gallery of unsupervised components, each as faces at −3 / 0 / +3; tick, name, add."""

    compute_requested = Signal(str, int, object)  # method (DISCOVERY_METHODS), count, layers (start, stop) or None
    add_requested = Signal(object)  # list[tuple[int, str]]: component index and the name given

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Discover directions")
        self.resize(760, 620)
        self.method = QComboBox()
        self.method.addItem("SeFa (closed form, from the first layer's weights)", "sefa")
        self.method.addItem("PCA (GANSpace, from sampled activations)", "pca")
        self.method.addItem("From attribute classifiers (age and gender, InterFaceGAN)", "attributes")
        self.count = QSpinBox()
        self.count.setRange(1, 50)
        self.count.setValue(10)
        self.only_layers = QCheckBox("Only layers")
        self.only_layers.setToolTip("SeFa on a per-layer model (StyleGAN2): factorise only these layers' style "
                                    "weights, and make directions that move only them (coarse layers: pose and "
                                    "shape; fine layers: colour and texture)")
        self.first_layer, self.last_layer = QSpinBox(), QSpinBox()
        for box in (self.first_layer, self.last_layer):
            box.setEnabled(False)
        self.only_layers.toggled.connect(self.first_layer.setEnabled)
        self.only_layers.toggled.connect(self.last_layer.setEnabled)
        self.method.currentIndexChanged.connect(lambda _i: self.only_layers.setEnabled(
            self.method.currentData() == "sefa"))
        self.set_layer_count(0)
        self.compute = QPushButton("Compute")
        self.status = QLabel("Each row shows faces moved to −3, 0 and +3 along one component.")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (QLabel("Method"), self.method, QLabel("Components"), self.count, self.only_layers,
                       self.first_layer, QLabel("to"), self.last_layer, self.compute):
            top.addWidget(widget)
        top.addStretch(1)
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        self.rows: list[tuple[QCheckBox, QLineEdit]] = []
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.add = buttons.addButton("Add selected", QDialogButtonBox.ButtonRole.ActionRole)
        self.add.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(_scroll(holder), 1)
        layout.addWidget(buttons)
        self.compute.clicked.connect(self._compute)
        self.add.clicked.connect(self._add)
        buttons.rejected.connect(self.reject)

    def _compute(self) -> None:
        self.compute.setEnabled(False)
        self.status.setText("Computing…")
        self.compute_requested.emit(self.method.currentData(), self.count.value(), self.layers())

    def set_layer_count(self, num_ws: int) -> None:
        """The loaded model's per-layer codes (StyleGAN2's num_ws); 0 hides the layer range (the DCGAN has none)."""
        for box in (self.first_layer, self.last_layer):
            box.setRange(0, max(num_ws - 1, 0))
        self.first_layer.setValue(0)
        self.last_layer.setValue(min(3, max(num_ws - 1, 0)))
        for widget in (self.only_layers, self.first_layer, self.last_layer):
            widget.setVisible(num_ws > 1)
        if num_ws <= 1:
            self.only_layers.setChecked(False)

    def layers(self) -> tuple[int, int] | None:
        """The half-open layer range to factorise, or None for all layers."""
        if not (self.only_layers.isChecked() and self.only_layers.isEnabled() and self.only_layers.isVisibleTo(self)):
            return None
        first, last = sorted((self.first_layer.value(), self.last_layer.value()))
        return first, last + 1

    def show_components(self, names: list[str], strips: list[np.ndarray], notes: list[str]) -> None:
        """One row per component: a tick box, an editable name and its strip (uint8 HWC)."""
        while self.grid.count():
            _delete_item(self.grid.takeAt(0))
        self.rows = []
        for row, (name, strip, note) in enumerate(zip(names, strips, notes, strict=True)):
            tick, field, picture = QCheckBox(), QLineEdit(name), QLabel()
            picture.setPixmap(pixmap(strip, strip.shape[0] * 3 // 2))  # 1.5× so 64-px faces stay legible
            picture.setToolTip(note)
            for col, widget in enumerate((tick, field, picture)):
                self.grid.addWidget(widget, row, col)
            self.rows.append((tick, field))
        self.compute.setEnabled(True)
        self.add.setEnabled(bool(self.rows))
        self.status.setText("Tick the components that change one thing, give them a name, and add them.")

    def set_status(self, text: str) -> None:
        self.compute.setEnabled(True)
        self.status.setText(text)

    def _add(self) -> None:
        chosen = [(i, field.text().strip()) for i, (tick, field) in enumerate(self.rows) if tick.isChecked()]
        if chosen:
            self.add_requested.emit(chosen)


class LabelDialog(QDialog):
    """Sample faces to mark yes/no for one attribute; a linear classifier's normal becomes the direction."""

    faces_requested = Signal(int, int)  # first seed, count
    train_requested = Signal(str, int, object)  # name, first seed, labels (list[bool])

    def __init__(self, parent: QWidget | None = None, count: int = 32) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a direction from labels")
        self.resize(820, 640)
        self.count = count
        self.name = QLineEdit()
        self.name.setPlaceholderText("attribute, e.g. smile")
        self.seed = QSpinBox()
        self.seed.setRange(0, 999_999)
        self.more = QPushButton("Show these faces")
        self.status = QLabel("Click every face that has the attribute (yes); the others count as no.")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (QLabel("Name"), self.name, QLabel("First seed"), self.seed, self.more):
            top.addWidget(widget)
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        self.faces: list[QToolButton] = []
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.train = buttons.addButton("Train and add", QDialogButtonBox.ButtonRole.ActionRole)
        self.train.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(_scroll(holder), 1)
        layout.addWidget(buttons)
        self.more.clicked.connect(lambda: self.faces_requested.emit(self.seed.value(), self.count))
        self.train.clicked.connect(self._train)
        buttons.rejected.connect(self.reject)

    def show_faces(self, faces: np.ndarray) -> None:
        """uint8 [N, R, R, 3] faces for seeds seed … seed + N − 1, as toggle buttons."""
        while self.grid.count():
            _delete_item(self.grid.takeAt(0))
        self.faces = []
        columns = 8
        for i, face in enumerate(faces):
            button = QToolButton()
            button.setCheckable(True)
            button.setIcon(QIcon(pixmap(face, FACE_PX)))
            button.setIconSize(QSize(FACE_PX, FACE_PX))
            button.setStyleSheet("QToolButton:checked { border: 4px solid #2e9d3a; background: #d8f0da; }")
            button.setToolTip(f"seed {self.seed.value() + i}")
            self.grid.addWidget(button, i // columns, i % columns)
            self.faces.append(button)
        self.train.setEnabled(True)

    def labels(self) -> list[bool]:
        return [button.isChecked() for button in self.faces]

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _train(self) -> None:
        labels, name = self.labels(), self.name.text().strip()
        if not name:
            self.status.setText("Give the direction a name first.")
            return
        if sum(labels) < 2 or len(labels) - sum(labels) < 2:
            self.status.setText("Mark at least two faces yes and leave at least two no.")
            return
        self.status.setText("Training…")
        self.train_requested.emit(name, self.seed.value(), labels)


class TwoPhotosDialog(QDialog):
    """Two photos (without / with the attribute): their inverted latents' difference is the direction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Direction from two photos")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. glasses")
        self.first, self.second = QLineEdit(), QLineEdit()
        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(200)
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        for label, field in (("Photo without (from)", self.first), ("Photo with (to)", self.second)):
            pick = QPushButton("Browse…")
            pick.clicked.connect(lambda _=False, f=field: self._browse(f))
            row = QHBoxLayout()
            row.addWidget(field, 1)
            row.addWidget(pick)
            form.addRow(label, row)
        form.addRow("Inversion steps", self.steps)
        form.addRow(QLabel("Each photo is inverted on its centre square (or its recorded face crop)."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        form.addRow(self.error)
        form.addRow(buttons)

    def _browse(self, field: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a photo", field.text(), PHOTO_FILTER)
        if path:
            field.setText(path)

    def _accept(self) -> None:
        if not self.name.text().strip() or not self.first.text() or not self.second.text():
            self.error.setText("Give a name and both photos.")
            return
        self.accept()
