"""A job's result reaches that job's handler, even when it arrives after the GUI has started the next job.

The engine marks itself free in one queued slot and the controller handles the result in the next; a click (or a
test's code) between the two can start another job. The result must still go to the job that made it.
"""

import threading

from app.controller import DocumentController
from app.workers import JobRequest
from core.jobs import call_as_job

WAIT_MS = 30_000


def test_a_late_result_goes_to_its_own_job_and_leaves_the_running_one_alone(qtbot):
    controller = DocumentController()
    first, second, busy = [], [], []
    controller.register_job("describe", first.append, quiet=True)
    controller.register_job("load", second.append)
    controller.busy_changed.connect(busy.append)
    release = threading.Event()

    def slow_load() -> str:
        release.wait(20)
        return "loaded"

    assert controller.submit(JobRequest("load", lambda: call_as_job(slow_load)))
    assert controller.engine.busy and busy == [True]
    controller._on_finished("describe", "model info")  # the previous job's result, arriving late
    assert first == ["model info"] and second == []
    assert controller.engine.busy and controller._job == "load" and busy == [True]  # "load" still shows as running
    with qtbot.waitSignal(controller.busy_changed, timeout=WAIT_MS):
        release.set()
    assert second == ["loaded"] and first == ["model info"] and busy == [True, False]
    assert not controller.engine.busy and controller._job == ""
    controller.shutdown()


def test_a_failure_reports_the_failing_jobs_name(qtbot):
    controller = DocumentController()
    failures: list[str] = []
    controller.register_job("describe", lambda _v: None, on_failed=failures.append, quiet=True)

    def broken() -> None:
        raise ValueError("no such model")

    with qtbot.waitSignal(controller.engine.worker.job_failed, timeout=WAIT_MS) as failed:
        controller.submit(JobRequest("describe", lambda: call_as_job(broken)), quiet=True)
    assert failed.args[0] == "describe" and "no such model" in failed.args[1]
    qtbot.waitUntil(lambda: failures != [], timeout=WAIT_MS)
    assert "no such model" in failures[0]
    controller.shutdown()
