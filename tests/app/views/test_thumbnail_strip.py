"""app.views.thumbnail_strip: a horizontal strip of step previews that keeps the newest and reports clicks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView

from app.views.thumbnail_strip import MAX_THUMBNAILS, ThumbnailStripView


@pytest.fixture
def strip(qtbot) -> ThumbnailStripView:
    s = ThumbnailStripView()
    qtbot.addWidget(s)
    s.resize(600, s.height())
    return s


def _image(value: int, h: int = 64, w: int = 64) -> np.ndarray:
    return np.full((h, w, 3), value, dtype=np.uint8)


def test_layout_is_one_horizontal_row_of_icons(strip: ThumbnailStripView) -> None:
    assert strip.viewMode() == QListView.ViewMode.IconMode
    assert strip.flow() == QListView.Flow.LeftToRight
    assert not strip.isWrapping()
    assert 64 <= strip.iconSize().width() <= 96


def test_add_shows_a_captioned_scaled_thumbnail(strip: ThumbnailStripView) -> None:
    strip.add(7, _image(200, 1024, 512))
    assert strip.count() == 1
    item = strip.item(0)
    assert item.text() == "step 7"
    sizes = item.icon().availableSizes()
    assert sizes and max(sizes[0].width(), sizes[0].height()) <= 96  # stored small, not at 1024 px
    pixmap = item.icon().pixmap(strip.iconSize())
    assert not pixmap.isNull()
    assert pixmap.toImage().pixelColor(pixmap.width() // 2, pixmap.height() // 2).red() == 200


def test_grayscale_previews_are_accepted(strip: ThumbnailStripView) -> None:
    strip.add(1, np.zeros((32, 32), np.uint8))
    assert strip.count() == 1


def test_keeps_at_most_fifty_dropping_the_oldest(strip: ThumbnailStripView) -> None:
    for step in range(60):
        strip.add(step * 10, _image(step))
    assert MAX_THUMBNAILS == 50
    assert strip.count() == 50
    assert strip.steps() == [step * 10 for step in range(10, 60)]
    assert strip.item(0).text() == "step 100"


def test_clear_empties_the_strip(strip: ThumbnailStripView) -> None:
    strip.add(1, _image(1))
    strip.add(2, _image(2))
    strip.clear()
    assert strip.count() == 0 and strip.steps() == []
    strip.add(3, _image(3))
    assert strip.steps() == [3]


def test_click_emits_the_step(strip: ThumbnailStripView, qtbot) -> None:
    strip.show()
    for step in (5, 15, 25):
        strip.add(step, _image(step))
    qtbot.waitExposed(strip)
    rect = strip.visualItemRect(strip.item(1))
    with qtbot.waitSignal(strip.thumbnail_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [15]


def test_bad_pixels_are_refused(strip: ThumbnailStripView) -> None:
    with pytest.raises(TypeError):
        strip.add(1, np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError):
        strip.add(1, np.zeros((8, 8, 2), np.uint8))
    assert strip.count() == 0
