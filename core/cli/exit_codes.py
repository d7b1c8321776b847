"""The CLI's exit codes, in a module of their own so start-up can use them before the engine (torch) is imported."""

import contextlib
import signal

EXIT_BAD_INPUT = 2  # bad input, a refused file, a fault while writing: one "error: …" line
EXIT_INTERRUPTED = 130  # Ctrl-C: the run stopped (a result so far is still written) or start-up was interrupted


def settled(code: int) -> int:
    """``code``, with Ctrl-C ignored from now on and any earlier one forgotten: the command is over (its results
    written, or discarded and said so).

    Two ways the process could otherwise end by SIGINT (a bare ``-2``) instead of with ``code``:
    - the interpreter's teardown (seconds, with torch loaded) restores the default handler, so a Ctrl-C then would
      kill the process by the signal; it is ignored instead;
    - CPython remembers a KeyboardInterrupt that ended any code run from a *string* (``exec``/``eval`` of source:
      every dataclass's ``__init__`` and namedtuple is made that way), even when a caller caught it, and a process
      started with ``python -m`` then kills itself by SIGINT on exit. A Ctrl-C landing while a module defined a
      dataclass did exactly that. Each string run clears the mark before it starts, so running one empty string
      clears a mark left by one that was interrupted."""
    with contextlib.suppress(ValueError):  # not the main thread: signals are not ours to set
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    exec("", {})  # a constant empty string: clears the interrupted-string mark (see above)
    return code
