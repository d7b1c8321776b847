"""``python -m core.cli …``: the same commands as ``landscape-studio …``."""

import sys

from core.cli.exit_codes import EXIT_INTERRUPTED, settled


def run() -> int:
    """The CLI, with a Ctrl-C during the slow start-up (importing torch) answered like one during a command."""
    try:
        from core.cli.commands import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return settled(EXIT_INTERRUPTED)
    return settled(main())


if __name__ == "__main__":
    sys.exit(run())
