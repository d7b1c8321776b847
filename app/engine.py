"""The one module that touches QThread: a long-lived engine thread that runs core jobs, and where results go.

``Engine`` is what the rest of the app talks to: every job name has one typed route (``JobRoute``: where its
result, failure and progress records go, and whether it is a quiet preview); ``submit`` starts a job or defers
one asked for while a quiet preview runs; the current job's name is public, so no controller needs another's
internals to know what runs.

A core job is a generator function (see ``core.jobs``). The worker drives it on its own thread and sends the
GUI what it yielded, batched so that the GUI gets at most ~30 updates a second however fast the steps are;
every record still arrives (the loss plot needs every step), only grouped. Cancelling sets the job's token:
nothing is ever terminated, the job stops between steps and returns its best result.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.allocator import keep_freed_memory, release_freed_memory
from core.errors import CoreError
from core.jobs import CancelToken

log = logging.getLogger(__name__)
MIN_INTERVAL_S = 1 / 30  # at most ~30 step batches a second reach the GUI
GIL_SWITCH_INTERVAL_S = 0.001  # Python's default is 5 ms


def configure_interpreter() -> None:
    """Hand the GIL between the GUI and engine threads every 1 ms instead of 5 ms: while the GUI draws in
    Python, the engine waits less to run its per-step Python code (measured: about 10 % more steps/s)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    keep_freed_memory()


@dataclass
class JobRequest:
    """What to run: ``factory`` builds the job on the worker thread (so heavy setup never blocks the GUI)."""

    name: str
    factory: Callable[[], Generator[Any, None, Any]]
    token: CancelToken = field(default_factory=CancelToken)
    release_memory: bool = True  # hand the job's freed memory back when it ends (not after quick previews)


class EngineWorker(QObject):
    """Runs one job at a time; lives on the engine thread."""

    job_started = Signal(str)  # the job's name
    step_yielded = Signal(object)  # list of records yielded since the last emission (never empty)
    job_finished = Signal(str, object)  # the job's name and return value (the name travels with the result: the
    # GUI may already have started the next job when this arrives)
    job_failed = Signal(str, str)  # the job's name and a plain-language message

    @Slot(object)
    def run(self, request: JobRequest) -> None:
        self.job_started.emit(request.name)
        pending: list[Any] = []
        last = 0.0
        try:
            job = request.factory()
            while True:
                try:
                    record = next(job)
                except StopIteration as stop:
                    if pending:
                        self.step_yielded.emit(pending)
                    self.job_finished.emit(request.name, stop.value)
                    return
                pending.append(record)
                now = time.perf_counter()
                if now - last >= MIN_INTERVAL_S:
                    self.step_yielded.emit(pending)
                    pending, last = [], now
        except CoreError as exc:
            self.job_failed.emit(request.name, str(exc))
        except Exception as exc:  # a bug must reach the user as a message, not kill the thread
            log.error("job %s failed:\n%s", request.name, traceback.format_exc())
            self.job_failed.emit(request.name, f"Unexpected error in {request.name}: {exc}")
        finally:  # the job's peak memory goes back to the system (see core.allocator), after its outcome is out
            if request.release_memory:
                release_freed_memory()


class EngineThread(QObject):
    """Owns the engine thread and its worker; ``submit`` queues a job onto it."""

    _submitted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qthread = QThread()  # not ``thread``: that would hide QObject.thread()
        self.qthread.setObjectName("engine")
        self.worker = EngineWorker()
        self.worker.moveToThread(self.qthread)
        self._submitted.connect(self.worker.run)  # queued: runs on the engine thread
        self.qthread.start()
        self.current: JobRequest | None = None
        self.worker.job_finished.connect(self._clear)
        self.worker.job_failed.connect(self._clear)

    @property
    def busy(self) -> bool:
        return self.current is not None

    def submit(self, request: JobRequest) -> None:
        self.current = request
        self._submitted.emit(request)

    def cancel(self) -> None:
        if self.current is not None:
            self.current.token.cancel()

    def _clear(self, *_: object) -> None:
        self.current = None

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel what runs, let it return, and stop the thread (call before the application quits)."""
        self.cancel()
        self.qthread.quit()
        self.qthread.wait(timeout_ms)


@dataclass(frozen=True)
class JobRoute:
    """Where the outcome of the jobs of one name goes."""

    on_done: Callable[[Any], None]
    on_failed: Callable[[str], None] | None = None  # besides the error dialog every failure gets
    on_steps: Callable[[list[Any]], None] | None = None  # records yielded, batched (≤ ~30 batches a second)
    quiet: bool = False  # a preview: never shows as busy, never reports "busy" when refused


class Engine(QObject):
    """The engine thread plus the one typed job registry: submit by name, results routed by the job's name."""

    busy_changed = Signal(bool)  # a non-quiet job started (True) or the engine became free after one (False)
    job_started = Signal(str)  # a job was handed to the engine thread
    job_ended = Signal(str)  # a job finished or failed (after its route ran)
    job_failed = Signal(str, str)  # the job's name and a plain-language message (after its own on_failed)
    refused = Signal(str)  # a job could not start: the engine is busy
    idle = Signal()  # a job ended and nothing was deferred: queued interactive work may go now

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine_thread = EngineThread(self)  # not ``thread``: that would hide QObject.thread()
        self.routes: dict[str, JobRoute] = {}
        self.current_job = ""  # the name of the job on the engine ("" when free)
        self._deferred: JobRequest | None = None  # a job asked for while a quiet preview ran
        self.engine_thread.worker.step_yielded.connect(self._on_steps)
        self.engine_thread.worker.job_finished.connect(self._on_finished)
        self.engine_thread.worker.job_failed.connect(self._on_failed)

    def register(self, name: str, route: JobRoute) -> None:
        """Send the outcome of jobs called ``name`` to ``route`` (one route per name; a second replaces it)."""
        self.routes[name] = route

    @property
    def busy(self) -> bool:
        return self.engine_thread.busy

    def running(self, *names: str) -> bool:
        """One of the jobs ``names`` is on the engine now."""
        return self.busy and self.current_job in names

    def pending(self, *names: str) -> bool:
        """One of the jobs ``names`` runs now or waits to run right after a quiet preview."""
        return self.running(*names) or (self._deferred is not None and self._deferred.name in names)

    def submit(self, request: JobRequest, quiet: bool = False) -> bool:
        """Start ``request`` now, or right after a quiet preview; False (and ``refused``) when the engine is busy."""
        if self.busy and not quiet and self._is_quiet(self.current_job) and self._deferred is None:
            self._deferred = request  # a slider preview takes milliseconds: run this right after it
            return True
        if self.busy:
            if not quiet:
                self.refused.emit(request.name)
            return False
        self.current_job = request.name
        request.release_memory = not (quiet or self._is_quiet(request.name))
        self.engine_thread.submit(request)
        self.job_started.emit(request.name)
        if not quiet:
            self.busy_changed.emit(True)
        return True

    def cancel(self, *names: str) -> None:
        """Stop the current job after its step (only if it is one of ``names``, when given)."""
        if not names or self.current_job in names:
            self.engine_thread.cancel()

    def shutdown(self) -> None:
        self.engine_thread.shutdown()

    def _is_quiet(self, job: str) -> bool:
        return job in self.routes and self.routes[job].quiet

    def _on_steps(self, records: list[Any]) -> None:
        route = self.routes.get(self.current_job)
        if route is not None and route.on_steps is not None:
            route.on_steps(records)

    def _ended(self, job: str) -> None:
        """Book-keeping when ``job`` ended. The engine is marked free by its own slot, queued just before this
        one, so the GUI may have started another job in between: that job's name and busy state are kept."""
        if not self.busy:
            self.current_job = ""
        if not self._is_quiet(job) and not self.busy:
            self.busy_changed.emit(False)

    def _on_finished(self, job: str, value: object) -> None:
        self._ended(job)
        route = self.routes.get(job)
        if route is None:
            log.error("no route for the result of job %r", job)
        else:
            route.on_done(value)
        self._after(job)

    def _on_failed(self, job: str, message: str) -> None:
        self._ended(job)
        route = self.routes.get(job)
        if route is not None and route.on_failed is not None:
            route.on_failed(message)
        self.job_failed.emit(job, message)
        self._after(job)

    def _after(self, job: str) -> None:
        self.job_ended.emit(job)
        if self.busy:
            return
        if self._deferred is not None:
            request, self._deferred = self._deferred, None
            self.submit(request)
            return
        self.idle.emit()
