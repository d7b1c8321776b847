"""Recent-file menus (File → Open Recent, File → Recent Models): newest first, kept in the settings."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

MAX_RECENT = 10


class RecentFiles:
    """Fills ``menu`` from the settings list under ``key``; choosing an entry calls ``open_path`` with it."""

    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[str], object],
                 key: str = "recent") -> None:
        self.settings, self.menu, self.open_path, self.key = settings, menu, open_path, key
        self.rebuild()

    def paths(self) -> list[str]:
        return cast(list[str], self.settings.value(self.key, [], list))

    def remember(self, path: str | Path) -> None:
        recent = [p for p in self.paths() if p != str(path)]
        self.settings.setValue(self.key, [str(path), *recent][:MAX_RECENT])
        self.rebuild()

    def rebuild(self) -> None:
        self.menu.clear()
        recent = self.paths()
        for path in recent:
            self.menu.addAction(Path(path).name, partial(self.open_path, path)).setToolTip(path)
        self.menu.setEnabled(bool(recent))
