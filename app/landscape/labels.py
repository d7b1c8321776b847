"""What a landscape map's axes and colours mean, in words: a reader of "axis 1" cannot tell a principal direction
of the optimiser's path from a random one, nor in what units it is measured.

The coordinates of a slice are distances from the centre latent (the inversion's result) along two directions
that carry their own length (``core.landscape.slicing``): the path's reach along a principal direction, the
centre latent's norm for random directions, one std of the model's latents for an editing direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.landscape import SliceConfig
from core.landscape.slicing import edit_names

MARKERS = {  # marker kind → legend text
    "path": "descent path",
    "start": "start",
    "end": "result (centre)",
    "picked": "clicked point",
}


@dataclass(frozen=True)
class AxisText:
    """What one axis runs along and its unit (two short lines fit under a ~250 px map), and the full sentence."""

    name: str
    unit: str
    tooltip: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})"

    @property
    def html(self) -> str:
        return f"{self.name}<br>{self.unit}"


def axis_texts(config: SliceConfig, explained: np.ndarray | None = None,
               space: str | None = None) -> tuple[AxisText, AxisText]:
    """The two axes of a slice in ``config.space``; ``explained`` adds each principal direction's variance share.
    ``space`` overrides the space's name ("x or z" for the profile, whose curves run in both)."""
    space = space or config.space
    delta = "Δ" if " " in space else f"Δ{space}"
    where = " or ".join(s.upper() for s in space.split(" or "))
    zero = "centre" if " " in space else f"{space}₀"
    texts = []
    for k in range(2):
        if config.dirs == "trajectory":
            share = "" if explained is None else f"{100 * float(explained[k]):.0f} %"
            name, unit = f"{delta} along path PC {k + 1}" + (f" ({share})" if share else ""), "× the path's reach"
            tooltip = (f"Distance in {where} from the centre latent along the path's principal direction {k + 1}"
                       + (f" ({share} of its variance)" if share else "") + "; 1 = the path's farthest reach along it.")
        elif config.dirs == "random":
            name, unit = f"{delta} along random dir. {k + 1}", f"× ‖{zero}‖"
            tooltip = (f"Distance in {where} from the centre latent ({zero}) along seeded random direction {k + 1} "
                       f"(seed {config.seed}); 1 = the norm of {zero} (filter normalisation).")
        else:
            names = edit_names(config.dirs)
            direction = names[k] if len(names) == 2 else f"direction {k + 1}"
            name, unit = f"{delta} along '{direction}'", "× one std"
            tooltip = (f"Distance in {where} from the centre latent along the editing direction '{direction}'; "
                       "1 = one std of the model's latents along it (as the Directions panel's sliders).")
        texts.append(AxisText(name, unit, tooltip))
    return texts[0], texts[1]


def loss_label(term: str, log_scale: bool) -> str:
    """The colour bar's quantity: which loss, and whether its colours are log10 of it."""
    name = f"{term} loss"  # "total loss", "pixel loss", …
    return f"{name} (log10)" if log_scale else name
