"""The headless command line: one module per command family, all thin over ``core.photo_jobs``."""

from core.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from core.cli.main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "build_parser", "main"]
