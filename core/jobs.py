"""The job contract shared by the CLI and the GUI worker.

A job is a generator function: it yields progress records and *returns* its result (``StopIteration.value``).
That keeps long work free of threads and callbacks in ``core``: the GUI worker and the CLI both drive the same
generator, and cancellation is a token the job checks between steps, so nothing is ever killed mid-write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import TypeVar

Y = TypeVar("Y")
R = TypeVar("R")


class CancelToken:
    """A thread-safe flag: the GUI thread sets it, the job polls it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def run_job(job: Generator[Y, None, R], on_step: Callable[[Y], None] | None = None) -> R:
    """Drive a job to its end, handing each yielded record to ``on_step``; returns the job's result."""
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        if on_step is not None:
            on_step(record)


def observed(job: Generator[Y, None, R], on_step: Callable[[Y], None]) -> Generator[Y, None, R]:
    """``job`` relayed unchanged, each record shown to ``on_step`` first: ``result = yield from observed(job, f)``
    lets a job built on another one keep what it needs of each step (a trajectory, per-photo losses)."""
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return stop.value
        on_step(record)
        yield record


def call_as_job(fn: Callable[..., R], *args: object) -> Generator[None, None, R]:
    """Wrap a plain call as a job that yields nothing, so one-shot work (open, export) runs on the engine too."""
    return fn(*args)
    yield  # unreachable, but makes this a generator function
