"""Guards against Qt binding releases that break this product (seen: PySide6 6.12.0 on Python 3.11)."""

import sys

from PySide6.QtCore import QObject


def test_void_qt_calls_do_not_leak_references_to_none():
    """6.12.0 released a reference to None on every call returning nothing, aborting the process after a few
    thousand GUI calls ("none_dealloc"); pyproject.toml pins below it. This fails if such a release returns."""
    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(1000):
        obj.setObjectName("x")
    assert abs(sys.getrefcount(None) - before) < 10
