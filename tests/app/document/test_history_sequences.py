"""One truth: random sequences of adopt / edit / fill / undo / redo keep the canvas equal to the document that the
history describes, computed here on its own (a model of the history, and the core's compositing and rendering)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from app.document.state import Adopted, composite_photo
from core.generators import load_generator
from core.imageio import load_photo
from core.photo_jobs import FILL_FEATHER, edited_latent, render_latent
from core.resources import resources_dir
from core.sessions import Fill
from tests.app.canvas_pixels import shown_after

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000
EDIT_NAMES = ("smile", "glasses")


@dataclass(frozen=True)
class State:
    adopted: Adopted | None
    edits: tuple[tuple[str, float], ...]
    fills: tuple[Fill, ...]
    composite: str = "detail"


class HistoryModel:
    """The linear history a user expects: a list of states and where undo/redo stand in it."""

    def __init__(self) -> None:
        self.states, self.index = [State(None, (), ())], 0

    @property
    def now(self) -> State:
        return self.states[self.index]

    def push(self, state: State) -> None:
        self.states = [*self.states[: self.index + 1], state]
        self.index += 1


def _same_fills(a: tuple[Fill, ...], b: tuple[Fill, ...]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.image, y.image) and np.array_equal(x.mask, y.mask) and x.placement == y.placement
        and x.feather == y.feather for x, y in zip(a, b, strict=True))


def _settle(qtbot, window) -> None:
    edits = window.edits
    qtbot.waitUntil(lambda: edits._pending is None and not edits._in_flight and not window.controller.engine.busy,
                    timeout=WAIT_MS)


def _expected(window, G, state: State) -> np.ndarray | None:
    c = window.controller
    if state.adopted is None and not state.fills:
        return None
    image = None
    if state.adopted is not None and state.edits:
        pairs = [(window.edits.direction(name), value) for name, value in state.edits]
        latent, space = edited_latent(G, state.adopted.latent, pairs, state.adopted.space)
        image = render_latent(G, latent, space)
    return composite_photo(c.opened.photo.pixels, state.adopted, image, state.fills, c.feather,
                           state.composite == "detail")


def _prepare(qtbot, window) -> tuple[list[Adopted], list[Fill]]:
    """Two real inversions and one real inpainting run whose results the sequences adopt and apply."""
    c, panel = window.controller, window.inversion_panel
    panel.steps.setValue(8)
    panel.lpips.setValue(0.0)
    adopted = []
    for seed in (1, 2):
        panel.seed.setValue(seed)
        with qtbot.waitSignal(c.result_applied, timeout=WAIT_MS):
            panel.run_button.click()
        adopted.append(c.adopted)
    mask = np.zeros((512, 512), np.uint8)
    crop = c.crop
    mask[crop.y + 80:crop.y + 115, crop.x + 35:crop.x + 95] = 255
    c.replace_mask(mask, "Brush")
    inpaint = window.inpainting_panel
    inpaint.candidates.setValue(2)
    inpaint.steps.setValue(8)
    with qtbot.waitSignal(window.inpainting.inpaint.finished, timeout=WAIT_MS):
        inpaint.run_button.click()
    result = window.inpainting.inpaint.result
    fills = [Fill(result.candidates[k], mask, c.placement, FILL_FEATHER, f"inpainting candidate #{k + 1}")
             for k in range(2)]
    return adopted, fills


def _step(rng: random.Random, window, model: HistoryModel, adopted: list[Adopted], fills: list[Fill],
          qtbot) -> str:
    """One random user action, done through the editor and mirrored in ``model``; returns its name."""
    c, stack, now = window.controller, window.controller.undo_stack, model.now
    action = rng.choice(["adopt", "edit", "edit", "fill", "fill", "undo", "undo", "redo", "composite"])
    if action == "adopt":
        chosen = rng.choice(adopted)
        c.adopt(chosen, "Adopt direct inversion")
        model.push(State(chosen, (), (), chosen.composite))
    elif action == "composite":  # Edit → Keep Photo Detail, as a user toggles it
        with qtbot.waitSignal(c.composite_changed, timeout=WAIT_MS):
            window.composite_action.trigger()
        model.push(State(c.adopted, now.edits, now.fills, c.composite))
        assert c.composite != now.composite
    elif action == "edit" and now.adopted is not None:
        values = {name: round(rng.uniform(-3, 3), 2) for name in rng.sample(EDIT_NAMES, rng.randint(0, 2))}
        values = {k: v for k, v in values.items() if v != 0}
        if values == dict(now.edits):
            return "edit (unchanged)"
        window.edits.commit(window.edits.edits, values, "Edit")
        model.push(State(now.adopted, tuple(values.items()), now.fills, now.composite))
    elif action == "fill":
        index = rng.randrange(len(fills))
        assert window.inpainting.inpaint.apply(index)
        model.push(State(now.adopted, now.edits, (*now.fills, fills[index]), now.composite))
    elif action == "undo" and model.index > 0:
        stack.undo()
        model.index -= 1
    elif action == "redo" and model.index < len(model.states) - 1:
        stack.redo()
        model.index += 1
    else:
        return f"{action} (not possible)"
    return action


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_histories_keep_the_canvas_equal_to_the_history_state(qtbot, window, seed):
    adopted, fills = _prepare(qtbot, window)
    c = window.controller
    while c.undo_stack.canUndo():  # the sequence starts from the photo alone
        c.undo_stack.undo()
    c.undo_stack.clear()
    assert c.adopted is None and c.fills == () and c.edits == ()
    G = load_generator("default")
    rng, model, done = random.Random(seed), HistoryModel(), []
    photo = load_photo(SAMPLE).pixels
    for _ in range(16):
        done.append(_step(rng, window, model, adopted, fills, qtbot))
        _settle(qtbot, window)
        state = model.now
        assert (c.adopted is state.adopted and _same_fills(c.fills, state.fills) and c.composite == state.composite
                and {e.name: e.alpha for e in c.edits} == dict(state.edits)), done
        expected, shown = _expected(window, G, state), shown_after(window.canvas)
        if expected is None:
            assert shown is None, done
            continue
        assert shown is not None and shown.shape == photo.shape, done
        difference = np.abs(shown.astype(int) - expected.astype(int))
        assert difference.max() <= 1, (done, int(difference.max()), int((difference > 1).sum()))
    assert {"fill", "undo"} <= set(done), done  # the sequence exercised the stacking and the history
