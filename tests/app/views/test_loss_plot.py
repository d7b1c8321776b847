"""app.views.loss_plot: live loss curves on a log axis, one per term, appended cheaply."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.views.loss_plot import LossPlotView


@pytest.fixture
def view(qtbot) -> LossPlotView:
    v = LossPlotView()
    qtbot.addWidget(v)
    v.resize(480, 320)
    return v


def _losses(step: int) -> dict[str, float]:
    pixel, lpips = 0.3 * math.exp(-step / 50) + 0.01, 0.4 * math.exp(-step / 80) + 0.1
    return {"pixel": pixel, "lpips": lpips, "prior": 0.05, "total": pixel + lpips, "best": pixel + lpips}


def _legend_names(view: LossPlotView) -> list[str]:
    return [label.text for _, label in view.getPlotItem().legend.items]


def test_axes_are_log_loss_against_step(view: LossPlotView) -> None:
    item = view.getPlotItem()
    assert item.getAxis("left").logMode and not item.getAxis("bottom").logMode
    assert item.getAxis("bottom").labelText == "step"
    assert item.getAxis("left").labelText == "loss"
    assert item.getAxis("left").grid and item.getAxis("bottom").grid
    view.set_value_label("px to go")  # a drag plots its distance left; the next run's reset names losses again
    assert item.getAxis("left").labelText == "px to go"
    view.reset()
    assert item.getAxis("left").labelText == "loss"


def test_one_curve_per_term_with_a_legend_entry(view: LossPlotView) -> None:
    view.append([0, 1], [_losses(0), _losses(1)])
    assert sorted(view.terms()) == ["best", "lpips", "pixel", "prior", "total"]
    assert sorted(_legend_names(view)) == sorted(view.terms())
    steps, values = view.values("pixel")
    np.testing.assert_array_equal(steps, [0, 1])
    np.testing.assert_allclose(values, [_losses(0)["pixel"], _losses(1)["pixel"]])
    assert len(view.getPlotItem().listDataItems()) == 5


def test_styles_total_thick_best_dashed_colours_distinct(view: LossPlotView) -> None:
    extra = {"mask": 0.2, "ssim": 0.3, "tv": 0.4}
    view.append([0], [_losses(0) | extra])
    pens = {term: view._curves[term].opts["pen"] for term in view.terms()}
    assert pens["total"].widthF() > max(pens[t].widthF() for t in pens if t != "total")
    assert pens["best"].style() == Qt.PenStyle.DashLine
    assert all(pens[t].style() == Qt.PenStyle.SolidLine for t in pens if t != "best")
    colours = {pen.color().name() for pen in pens.values()}
    assert len(colours) == len(pens) == 8


def test_batches_accumulate_and_terms_may_appear_late(view: LossPlotView) -> None:
    view.append([0, 1], [{"pixel": 1.0}, {"pixel": 0.5}])
    view.append([2, 3], [{"pixel": 0.25, "lpips": 0.9}, {"pixel": 0.125, "lpips": 0.8}])
    np.testing.assert_array_equal(view.values("pixel")[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(view.values("pixel")[1], [1.0, 0.5, 0.25, 0.125])
    np.testing.assert_array_equal(view.values("lpips")[0], [2, 3])
    assert view.values("prior")[0].size == 0


def test_values_a_log_axis_cannot_show_are_skipped(view: LossPlotView) -> None:
    bad = [0.0, -1.0, float("nan"), float("inf"), float("-inf"), None, "x", True]
    view.append(list(range(len(bad) + 1)), [{"pixel": value} for value in bad] + [{"pixel": 0.5}])
    steps, values = view.values("pixel")
    np.testing.assert_array_equal(steps, [len(bad)])
    np.testing.assert_array_equal(values, [0.5])
    view.append([100], [{"prior": 0.0}])  # a term with nothing drawable gets no curve yet
    assert "prior" not in view.terms()
    assert not view.grab().isNull()


def test_reset_removes_curves_and_legend(view: LossPlotView) -> None:
    view.append([0], [_losses(0)])
    view.reset()
    assert view.terms() == [] and _legend_names(view) == []
    assert view.getPlotItem().listDataItems() == []
    assert view.values("total")[0].size == 0
    view.append([0], [{"pixel": 0.1}])
    assert view.terms() == ["pixel"] and _legend_names(view) == ["pixel"]


def test_set_history_replaces_everything_and_ignores_lr(view: LossPlotView) -> None:
    view.append([0], [{"old": 1.0}])
    history = [{"step": s * 10, "lr": 0.1, **_losses(s)} for s in range(20)]
    view.set_history(history)
    assert "lr" not in view.terms() and "step" not in view.terms() and "old" not in view.terms()
    steps, values = view.values("total")
    np.testing.assert_array_equal(steps, np.arange(20) * 10)
    np.testing.assert_allclose(values, [h["total"] for h in history])


def test_mismatched_batch_is_refused(view: LossPlotView) -> None:
    with pytest.raises(ValueError):
        view.append([0, 1], [_losses(0)])


def test_many_single_appends_reuse_the_same_curves(view: LossPlotView, qtbot) -> None:
    view.show()
    view.append([0], [_losses(0)])
    curves = dict(view._curves)
    for step in range(1, 500):
        view.append([step], [_losses(step)])
        if step % 50 == 0:
            qtbot.wait(1)  # let it repaint now and then, as the GUI would
    assert view._curves == curves and all(view._curves[t] is curves[t] for t in curves)
    assert len(view.getPlotItem().listDataItems()) == 5
    steps, values = view.values("total")
    np.testing.assert_array_equal(steps, np.arange(500))
    x, _ = view._curves["total"].getData()
    assert len(x) == 500  # the curve holds all of it
    assert np.all(np.diff(values) < 0)
