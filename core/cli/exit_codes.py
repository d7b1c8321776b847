"""The CLI's exit codes, in a module of their own so start-up can use them before the engine (torch) is imported."""

import contextlib
import signal

EXIT_BAD_INPUT = 2  # bad input, a refused file, a fault while writing: one "error: …" line
EXIT_INTERRUPTED = 130  # Ctrl-C: the run stopped (a result so far is still written) or start-up was interrupted


def settled(code: int) -> int:
    """``code``, with Ctrl-C ignored from now on: the command is over (its results written, or discarded and said
    so), and the interpreter's teardown (seconds, with torch loaded) restores the default handler, so a Ctrl-C
    then would kill the process by the signal and replace the command's own exit code with a bare ``-2``."""
    with contextlib.suppress(ValueError):  # not the main thread: signals are not ours to set
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code
