"""The speed and ETA of a run come from its last few seconds of steps, not from the time since it was asked for."""

from __future__ import annotations

import pytest

from app.inversion.controller import RATE_WINDOW_S, StepRate
from app.inversion.progress_panel import format_eta


def test_start_up_time_does_not_count_and_a_slower_phase_shows_at_once() -> None:
    rate = StepRate()
    assert rate.add(100.0, 0) == 0.0  # the first step arrives after 100 s of loading: no speed yet
    for second in range(1, 11):
        measured = rate.add(100.0 + second, 20 * second)
    assert measured == pytest.approx(20.0)  # not 200 steps / 110 s
    t, step = 110.0, 200
    for _ in range(int(RATE_WINDOW_S) + 2):  # a slower phase (weight tuning): 5 steps/s
        t, step = t + 1.0, step + 5
        measured = rate.add(t, step)
    assert measured == pytest.approx(5.0)


def test_a_new_run_starts_a_new_measurement() -> None:
    rate = StepRate()
    rate.add(0.0, 0)
    rate.add(1.0, 100)
    assert rate.add(2.0, 3) == 0.0  # fewer steps than before: another run
    assert rate.add(3.0, 13) == pytest.approx(10.0)


def test_eta_text() -> None:
    assert format_eta(75) == "1:15" and format_eta(9.4) == "9 s" and format_eta(float("inf")) == "–"
