"""The engine's one job registry: a job's result reaches that job's route, even when it arrives after the GUI has
started the next job, and a failure reaches the failing job's route and the document's error message.

The engine marks itself free in one queued slot and routes the result in the next; a click (or a test's code)
between the two can start another job. The result must still go to the job that made it.
"""

import threading

from app.document.controller import DocumentController
from app.engine import JobRequest
from core.jobs import call_as_job

WAIT_MS = 30_000


def test_a_late_result_goes_to_its_own_job_and_leaves_the_running_one_alone(qtbot):
    controller = DocumentController()
    engine = controller.engine
    first, second, busy = [], [], []
    controller.register_job("describe", first.append, quiet=True)
    controller.register_job("load", second.append)
    controller.busy_changed.connect(busy.append)
    release = threading.Event()

    def slow_load() -> str:
        release.wait(20)
        return "loaded"

    assert controller.submit(JobRequest("load", lambda: call_as_job(slow_load)))
    assert engine.busy and busy == [True]
    engine._on_finished("describe", "model info")  # the previous job's result, arriving late (the worker's slot)
    assert first == ["model info"] and second == []
    assert engine.busy and engine.current_job == "load" and busy == [True]  # "load" still runs
    with qtbot.waitSignal(controller.busy_changed, timeout=WAIT_MS):
        release.set()
    assert second == ["loaded"] and first == ["model info"] and busy == [True, False]
    assert not engine.busy and engine.current_job == ""
    controller.shutdown()


def test_a_failure_reports_the_failing_jobs_name(qtbot):
    controller = DocumentController()
    failures: list[str] = []
    errors: list[str] = []
    controller.register_job("describe", lambda _v: None, on_failed=failures.append, quiet=True)
    controller.error_raised.connect(errors.append)

    def broken() -> None:
        raise ValueError("no such model")

    with qtbot.waitSignal(controller.engine.job_failed, timeout=WAIT_MS) as failed:
        controller.submit(JobRequest("describe", lambda: call_as_job(broken)), quiet=True)
    assert failed.args[0] == "describe" and "no such model" in failed.args[1]
    assert "no such model" in failures[0] and "no such model" in errors[0]
    controller.shutdown()


def test_a_job_asked_for_during_a_quiet_preview_runs_right_after_it(qtbot):
    controller = DocumentController()
    order: list[str] = []
    controller.register_job("preview", lambda v: order.append(v), quiet=True)
    controller.register_job("export", lambda v: order.append(v))
    release = threading.Event()

    def preview() -> str:
        release.wait(20)
        return "preview"

    assert controller.submit(JobRequest("preview", lambda: call_as_job(preview)), quiet=True)
    assert controller.submit(JobRequest("export", lambda: call_as_job(lambda: "export")))  # deferred, not refused
    release.set()
    qtbot.waitUntil(lambda: order == ["preview", "export"], timeout=WAIT_MS)
    controller.shutdown()
