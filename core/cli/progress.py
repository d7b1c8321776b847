"""How a headless command runs a job: a progress bar, warnings on stderr, and Ctrl-C that stops politely.

Shared by every command (invert, inpaint, restore, slice, the trainers), so they all behave alike at a terminal.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from tqdm import tqdm

from core.inversion import InversionStep
from core.jobs import CancelToken, run_job


@contextlib.contextmanager
def first_ctrl_c_cancels(token: CancelToken) -> Iterator[None]:
    """First Ctrl-C asks the job to stop after this step (results are kept); a second one aborts."""
    def handler(signum: int, frame: object) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def drive_inversion(build: Callable[[CancelToken], Any], steps: int, quiet: bool, desc: str) -> Any:
    """Run the job ``build(token)`` (it yields :class:`InversionStep`) with a progress bar and its warnings on
    stderr; the first Ctrl-C stops it at the next step (the job returns what it has), a second one aborts."""
    token = CancelToken()
    bar = tqdm(total=steps, desc=desc, unit="step", file=sys.stderr, disable=quiet)

    def on_step(step: InversionStep) -> None:
        for notice in step.notices:
            tqdm.write(f"warning: {notice}", file=sys.stderr)
        bar.set_postfix(loss=f"{step.losses['total']:.4f}", best=f"{step.best_loss:.4f}", refresh=False)
        bar.update(step.step - bar.n)

    with first_ctrl_c_cancels(token):
        result = run_job(build(token), on_step)
    bar.close()
    return result
