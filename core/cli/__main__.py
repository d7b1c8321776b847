"""``python -m core.cli …``: the same commands as ``landscape-studio …``."""

import logging
import os
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


def leave(code: int) -> None:
    """End the process with ``code``. A torchrun worker (``WORLD_SIZE`` > 1) skips the C++ runtime's teardown once
    its output is flushed: its results are written and its process group left, and that teardown is where a gloo
    worker was seen to abort ("terminate called without an active exception", SIGABRT, once in CI) after a
    finished run. One process alone exits as usual."""
    if int(os.environ.get("WORLD_SIZE", "1") or "1") <= 1:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(run())
