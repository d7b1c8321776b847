import threading

from core.jobs import CancelToken, run_job


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
