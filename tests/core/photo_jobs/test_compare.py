"""``compare_methods`` hands over each method's outcome the moment that method ends, not only in the final
``Comparison``: a viewer shows (and may adopt) the first method while the later ones still run."""

import numpy as np
import pytest

from core.generators import load_generator
from core.imageio import load_photo
from core.inversion import InversionConfig
from core.jobs import CancelToken
from core.photo_jobs import CompareStarted, CompareStep, MethodDone, compare_methods
from core.placement import Placement
from core.resources import sample_photos

SAMPLE = sample_photos()[0]
FAST = InversionConfig(steps=3, preview_every=1).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.fixture(scope="module")
def photo():
    return load_photo(SAMPLE)


def _drive(job, on_record=None):
    """Every record the job yields, in order, and what it returned."""
    records = []
    while True:
        try:
            record = next(job)
        except StopIteration as stop:
            return records, stop.value
        records.append(record)
        if on_record is not None:
            on_record(record)


def test_each_method_yields_its_outcome_as_it_ends_in_method_order(G, photo):
    methods = ["direct", "no-such-method", "landscape"]
    job = compare_methods(G, photo, placement=Placement.default_for(photo), methods=methods, config=FAST)
    records, comparison = _drive(job)
    assert isinstance(records[0], CompareStarted)
    done = [r for r in records if isinstance(r, MethodDone)]
    assert [d.outcome.method for d in done] == methods and [d.index for d in done] == [0, 1, 2]
    assert all(d.count == 3 for d in done)
    for d in done:  # its outcome comes after its own steps and before the next method's first step
        at = records.index(d)
        later = [r.method for r in records[at + 1:] if isinstance(r, CompareStep)]
        earlier = [r.method for r in records[:at] if isinstance(r, CompareStep)]
        assert d.outcome.method not in later and set(later) <= set(methods[d.index + 1:])
        assert set(earlier) <= set(methods[: d.index + 1])
    assert [d.outcome.status for d in done] == ["done", "failed", "done"]
    for d, final in zip(done, comparison.outcomes, strict=True):  # the very values the comparison ends with
        assert d.outcome is final  # one object: nothing is recomputed for the final record
        assert d.outcome.steps_done == (3 if final.status == "done" else 0)
        if final.image is not None:
            assert np.array_equal(d.outcome.image, final.image)
            assert np.array_equal(d.outcome.result.best_latent, final.result.best_latent)
            assert np.array_equal(d.outcome.result.best_image, d.outcome.image)  # adoptable as it arrives


def test_methods_skipped_after_stop_still_yield_their_outcome(G, photo):
    token = CancelToken()
    job = compare_methods(G, photo, placement=Placement.default_for(photo), methods=["direct", "landscape"],
                          config=FAST.with_changes(steps=100_000), cancel=token)

    def stop_at_first_step(record):
        if isinstance(record, CompareStep):
            token.cancel()

    records, comparison = _drive(job, stop_at_first_step)
    done = [r.outcome for r in records if isinstance(r, MethodDone)]
    assert [o.status for o in done] == ["stopped", "skipped"] and comparison.cancelled
    assert done[0].result is not None and done[0].steps_done < 100_000
    assert [o.status for o in comparison.outcomes] == ["stopped", "skipped"]
    assert isinstance(records[-1], MethodDone) and records[-1].outcome is comparison.outcomes[-1]
