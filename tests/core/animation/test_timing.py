"""Clip timing: frame counts, where each frame sits between keyframes, easing, loops and latent interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from core.animation import EASINGS, ClipTiming, ease, interpolate
from core.errors import InvalidInputError


@pytest.mark.parametrize("name", EASINGS)
def test_every_easing_keeps_its_ends_and_never_turns_back(name):
    t = np.linspace(0, 1, 101)
    eased = ease(name, t)
    assert eased[0] == pytest.approx(0.0) and eased[-1] == pytest.approx(1.0)
    assert np.all(np.diff(eased) >= -1e-12)
    assert (ease(name, np.array([0.5]))[0] == pytest.approx(0.5)) == (name in ("linear", "ease-in-out"))


def test_an_open_clip_runs_from_a_to_b_and_a_loop_comes_back_without_a_doubled_frame():
    open_clip = ClipTiming(fps=10, seconds=2, easing="linear")
    assert open_clip.frames == 20
    assert open_clip.sweep()[0] == 0.0 and open_clip.sweep()[-1] == pytest.approx(1.0)
    loop = ClipTiming(fps=10, seconds=2, easing="linear", loop=True)
    sweep = loop.sweep()
    assert sweep[0] == 0.0 and sweep[10] == pytest.approx(1.0)  # b halfway
    assert sweep[-1] == pytest.approx(0.1)  # one step short of a: the next repeat's first frame is a
    np.testing.assert_allclose(sweep[1:10], sweep[19:10:-1])  # there and back alike


def test_a_walk_visits_every_keyframe_in_order_and_a_loop_returns_to_the_first():
    timing = ClipTiming(fps=10, seconds=3, easing="ease-in-out")  # 30 frames, 3 keyframes: 2 segments
    places = timing.walk(3)
    assert places[0] == (0, 0.0) and places[-1] == (1, pytest.approx(1.0))
    assert [s for s, _ in places] == sorted(s for s, _ in places)
    looping = ClipTiming(fps=10, seconds=3, loop=True).walk(3)  # 3 segments, the last one back to the first
    assert {s for s, _ in looping} == {0, 1, 2} and looping[10] == (1, 0.0) and looping[20] == (2, 0.0)
    with pytest.raises(InvalidInputError, match="at least 2"):
        timing.walk(1)
    with pytest.raises(InvalidInputError, match="cannot pass through 4 keyframes"):
        ClipTiming(fps=3, seconds=1).walk(4)


@pytest.mark.parametrize(("timing", "message"), [
    (ClipTiming(fps=0), "frame rate"), (ClipTiming(fps=float("nan")), "frame rate"), (ClipTiming(fps=61), "frame rate"),
    (ClipTiming(seconds=0), "duration"), (ClipTiming(seconds=float("inf")), "duration"),
    (ClipTiming(easing="bounce"), "easing"), (ClipTiming(fps=1, seconds=1), "fewer than 2 frames"),
])
def test_settings_no_clip_can_have_are_refused(timing, message):
    with pytest.raises(InvalidInputError, match=message):
        timing.validate()


def test_gaussian_codes_turn_on_the_sphere_and_other_codes_move_in_a_line():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(100), rng.standard_normal(100)
    for spherical in (False, True):
        np.testing.assert_allclose(interpolate(a, b, 0.0, spherical=spherical), a, atol=1e-5)
        np.testing.assert_allclose(interpolate(a, b, 1.0, spherical=spherical), b, atol=1e-5)
    middle, straight = interpolate(a, b, 0.5, spherical=True), interpolate(a, b, 0.5, spherical=False)
    assert np.linalg.norm(middle) == pytest.approx((np.linalg.norm(a) + np.linalg.norm(b)) / 2, rel=1e-5)
    assert np.linalg.norm(straight) < 0.8 * np.linalg.norm(middle)  # the straight line's washed-out midpoint
    assert np.isfinite(interpolate(a, -a, 0.5, spherical=True)).all()  # opposite codes: no great circle, no NaN
