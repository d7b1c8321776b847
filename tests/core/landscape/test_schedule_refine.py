"""Refining a trained schedule by evolution strategies: one step moves it by the stride, it is kept only when
ahead on check faces, the same seeds give the same schedule, and a θ without a schedule is refused."""

from __future__ import annotations

import copy

import pytest
import torch

from core.landscape.schedule_refine import ScheduleRefinement, refine_schedule
from core.theta.mapping import LandscapeMapping
from tests.core.landscape.test_schedule import SCHEDULED, scheduled_theta


def _schedule(theta: LandscapeMapping) -> torch.Tensor:
    return torch.cat([theta.step_offsets.detach(), theta.momenta.detach()]).clone()


def test_a_refined_schedule_is_kept_only_when_it_is_ahead_on_check_faces(G):
    theta = scheduled_theta()
    again = copy.deepcopy(theta)  # its MLP is drawn from the global RNG: a copy, not a second draw
    trained = _schedule(theta)
    refinement = ScheduleRefinement(steps=1, faces=3, check_faces=4, seed=1)
    record = refine_schedule(G, theta, refinement)
    assert record["moved"] == pytest.approx(0.05, abs=1e-4)  # one stride along the estimated slope
    assert record["kept"] == (record["check_gain_db"]["mean"] > 0)
    assert torch.equal(_schedule(theta), trained) != record["kept"]
    assert {**refine_schedule(G, again, refinement), "seconds": 0} == {**record, "seconds": 0}
    assert torch.equal(_schedule(again), _schedule(theta))  # seeded: the same faces, probes and steps


def test_a_theta_without_a_schedule_is_refused(G):
    from dataclasses import replace

    with pytest.raises(ValueError, match="no learned schedule"):
        refine_schedule(G, LandscapeMapping(replace(SCHEDULED, schedule=False)), ScheduleRefinement(steps=1))
