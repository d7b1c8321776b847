"""The labelled slider's gestures: a drag previews on every move and commits once; typing and reset commit."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.widgets.labelled_slider import LabelledSlider


def make(qtbot):
    slider = LabelledSlider("smile", -3.0, 3.0)
    qtbot.addWidget(slider)
    slider.resize(400, 30)
    slider.show()
    qtbot.waitExposed(slider)
    changing, committed = [], []
    slider.value_changing.connect(changing.append)
    slider.value_committed.connect(lambda old, new: committed.append((old, new)))
    return slider, changing, committed


def test_a_drag_previews_each_move_and_commits_once(qtbot):
    slider, changing, committed = make(qtbot)
    groove = slider.slider
    y, middle = groove.height() // 2, groove.width() // 2
    QTest.mousePress(groove, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(middle, y))
    for x in range(middle, groove.width(), 20):
        QTest.mouseMove(groove, QPoint(x, y))
    QTest.mouseRelease(groove, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(groove.width(), y))
    assert len(changing) > 3 and changing == sorted(changing)
    assert len(committed) == 1 and committed[0][0] == 0.0 and committed[0][1] == slider.value() > 2.0
    assert slider.box.value() == slider.value()


def test_typing_a_value_and_reset_each_commit_once(qtbot):
    slider, changing, committed = make(qtbot)
    slider.box.setValue(1.25)
    assert committed == [(0.0, 1.25)] and slider.slider.value() == 125 and not changing
    slider.reset.click()
    assert committed == [(0.0, 1.25), (1.25, 0.0)] and slider.value() == 0.0


def test_set_value_is_silent_and_the_range_clamps(qtbot):
    slider, changing, committed = make(qtbot)
    slider.set_value(2.0)
    assert slider.value() == 2.0 and slider.slider.value() == 200 and not committed and not changing
    slider.set_range(-1.0, 1.0)  # a narrower range clamps the value shown
    assert slider.box.maximum() == 1.0 and slider.value() == 1.0 and slider.slider.value() == 100
