"""A scroll area for a panel's form: it scrolls up and down only, is as wide as the form needs, and asks for
little height, so a dock holding it never sets the window's minimum height."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QWidget

MIN_LINES = 3  # the least height: about three rows of the form stay in sight


class VerticalScrollArea(QScrollArea):
    """Holds ``content`` (a widget or a layout) at the viewport's width; a vertical scroll bar appears when the
    viewport is shorter than the content. Its minimum width is the content's, so the form is never cut off or
    scrolled sideways; its minimum height is a few lines; its preferred size is the content's."""

    def __init__(self, content: QWidget | QLayout, min_lines: int = MIN_LINES, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if isinstance(content, QLayout):
            holder = QWidget()
            holder.setLayout(content)
            content = holder
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        self._min_lines = min_lines
        content.installEventFilter(self)  # the content's hints change (rows shown, hidden): ours change with them

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def _chrome(self) -> QSize:
        frame = 2 * self.frameWidth()
        return QSize(frame + self.verticalScrollBar().sizeHint().width(), frame)

    def minimumSizeHint(self) -> QSize:
        content = self.widget()
        width = content.minimumSizeHint().width() if content is not None else 0
        return QSize(width, self._min_lines * self.fontMetrics().lineSpacing()) + self._chrome()

    def sizeHint(self) -> QSize:
        content = self.widget()
        if content is None:
            return super().sizeHint()
        return content.sizeHint().expandedTo(content.minimumSizeHint()) + self._chrome()
