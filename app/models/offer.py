"""The welcome state's offer of the photoreal model: once the FFHQ model is installed and the user has not chosen
a model yet, a note over the canvas says so, with its licence, and two buttons. It is offered once; the choice
itself lives in File → Choose Model… afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.widgets.overlay import FollowResize, note_width

OFFER_TEXT = ("<b>Photoreal faces are installed.</b> The FFHQ model (1024 px results) looks like real people "
              "where the embedded one draws small synthetic faces; each step takes longer. Its weights are for "
              "<b>non-commercial use only</b>.")


class ModelOffer(QFrame):
    """A dismissable note on ``viewport`` (the canvas's): "Use Photoreal Faces" calls ``accept``."""

    def __init__(self, viewport: QWidget, accept: Callable[[], object]) -> None:
        super().__init__(viewport)
        self.setObjectName("modelOffer")
        self.setStyleSheet("#modelOffer { background: rgba(20, 20, 20, 225); border: 1px solid #777; "
                           "border-radius: 6px; } QLabel { color: #f0f0f0; }")
        self.text = text = QLabel(OFFER_TEXT)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.use_button = QPushButton("Use Photoreal Faces")
        self.later_button = QPushButton("Not Now")
        self.use_button.clicked.connect(self.hide)
        self.use_button.clicked.connect(lambda: accept())
        self.later_button.clicked.connect(self.hide)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.later_button)
        row.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(text)
        layout.addLayout(row)
        self.follower = FollowResize(viewport, self._place, self)
        self.show()

    def _place(self) -> None:
        parent = cast(QWidget, self.parentWidget())
        width = note_width(parent, 200)
        self.setFixedWidth(width)
        self.text.setFixedHeight(self.text.heightForWidth(width - 24))  # wrapped: the lines it needs, no more
        self.adjustSize()
        self.move((parent.width() - width) // 2, max(parent.height() - self.height() - 16, 12))
