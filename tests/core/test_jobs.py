import threading

from core.jobs import CancelToken, observed, run_job


def counting_job(n, token=None):
    done = 0
    for i in range(n):
        if token is not None and token.cancelled:
            break
        done += 1
        yield i
    return done


def test_run_job_returns_the_generator_result_and_passes_each_step():
    seen = []
    assert run_job(counting_job(4), seen.append) == 4
    assert seen == [0, 1, 2, 3]


def test_a_token_cancelled_from_another_thread_is_seen():
    token = CancelToken()
    thread = threading.Thread(target=token.cancel)
    thread.start()
    thread.join()
    assert token.cancelled
    assert run_job(counting_job(10, token)) == 0


def test_an_observed_job_relays_every_step_and_its_result():
    def counting():
        yield from range(3)
        return "done"

    seen: list[int] = []

    def outer():
        result = yield from observed(counting(), seen.append)
        return result.upper()

    relayed: list[int] = []
    assert run_job(outer(), relayed.append) == "DONE"
    assert seen == relayed == [0, 1, 2]
