"""The headless command line: one module per command family, all thin over ``core.photo_jobs``.

Importing this package is cheap: the commands (and torch with them) load on first use of ``main``, ``COMMANDS`` or
``build_parser``, so ``python -m core.cli`` can answer a Ctrl-C during that slow import with one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.cli.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED

if TYPE_CHECKING:
    from core.cli.commands import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "build_parser", "main"]


def __getattr__(name: str) -> Any:
    if name in ("COMMANDS", "build_parser", "main"):
        from core.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module 'core.cli' has no attribute {name!r}")
