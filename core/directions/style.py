"""Truncation and style mixing as edits: a pull toward a point, kept, undone and applied like any slider.

- **Truncation** pulls the code toward the model's average code (StyleGAN's w_avg; the DCGAN's z = 0): α = 1 − ψ,
  so α = 0 is the code itself and α = 1 the average face. Faces grow more typical and artefacts fade.
- **Style mixing** pulls a range of a StyleGAN's per-layer codes toward another code (a seed's, or another
  photo's latent): with α = 1 those layers are the other face's. Coarse layers carry pose and face shape, middle
  ones features and expression, fine ones colour and texture.

Both are :class:`Direction` objects whose ``vector`` is the point pulled toward (``Direction.anchored``), so
projects, undo, the sliders, animations and the command line need nothing of their own.
"""

from __future__ import annotations

import numpy as np
import torch

from core.directions.library import ANCHOR_RANGE, Direction
from core.errors import InvalidInputError
from core.generators import Generator
from core.npy_files import read_npy

# StyleGAN2 at 1024 px has 18 style inputs: 0–3 drive 4–8 px (coarse), 4–7 drive 16–32 px (middle), 8–17 the rest
# (fine). Other layer counts are split in the same proportions.
LAYER_GROUPS = {"coarse": (0.0, 4 / 18), "middle": (4 / 18, 8 / 18), "fine": (8 / 18, 1.0)}
TRUNCATION = "truncation"


def truncation(G: Generator, space: str | None = None) -> Direction:
    """The truncation edit for ``G``'s codes in ``space``: α pulls them toward the average code."""
    name = G.space(space).name
    average = G.mean_latent(name)[0].detach().cpu().numpy().astype(np.float32)
    if name == "w+":  # one average for every layer: a [w_dim] point, broadcast over the rows
        average = average[0]
    return Direction(name=TRUNCATION, vector=average, space=name, model_id=G.model_id, method="truncation",
                     value_range=ANCHOR_RANGE, provenance={"psi": "1 - alpha"})


def layer_range(G: Generator, layers: str | tuple[int, int]) -> tuple[int, int]:
    """The half-open range of ``G``'s w+ rows that ``layers`` ("coarse", "middle", "fine" or (start, stop)) names."""
    if "w+" not in G.latent_spaces:
        raise InvalidInputError(f"{G.name} has no per-layer codes: style mixing needs a StyleGAN-family model "
                                "(FFHQ, or your own StyleGAN2).")
    count = G.space("w+").shape[0]
    if isinstance(layers, str):
        if layers not in LAYER_GROUPS:
            raise InvalidInputError(f"Unknown layer range '{layers}' (choose coarse, middle, fine or START:STOP).")
        low, high = LAYER_GROUPS[layers]
        start, stop = round(low * count), round(high * count)
    else:
        start, stop = (int(v) for v in layers)
    if not 0 <= start < stop <= count:
        raise InvalidInputError(f"Layers {start}:{stop} are outside this model's {count} style layers (0:{count}).")
    return start, stop


def style_mix(G: Generator, source: np.ndarray, source_space: str, layers: str | tuple[int, int], *,
              label: str) -> Direction:
    """The edit that gives ``layers`` of a code the ``source`` code's (a [*shape] code of ``source_space``)."""
    rows = layer_range(G, layers)
    code = torch.from_numpy(np.ascontiguousarray(source[None], dtype=np.float32)).to(G.device)
    target = "w" if source_space in ("z", "w") else "w+"
    with torch.no_grad():
        point = G.convert_latent(code, source_space, target)[0].cpu().numpy().astype(np.float32)
    where = layers if isinstance(layers, str) else f"layers {rows[0]}–{rows[1] - 1}"
    space = G.default_space if G.default_space in ("w", "w+") else "w+"  # edits a w code through its w+ rows
    return Direction(name=f"mix {label} ({where})", vector=point, space=space, model_id=G.model_id,
                     method="style-mix", value_range=ANCHOR_RANGE, layers=rows,
                     provenance={"source": label, "layers": list(rows)})


def seed_mix(G: Generator, seed: int, layers: str | tuple[int, int]) -> Direction:
    """Style mixing with the model's sample of ``seed``."""
    layer_range(G, layers)  # a model without layers fails before sampling
    return style_mix(G, G.sample_latent(1, seed, "w")[0].cpu().numpy(), "w", layers, label=f"seed {seed}")


def named_style_edit(name: str, G: Generator) -> Direction | None:
    """The style edit a name spells, as the command line and recipes write them: ``truncation`` (α = 1 − ψ), or
    ``mix:LAYERS:SOURCE`` with LAYERS coarse, middle, fine or START-STOP and SOURCE ``seed=N`` or a latent
    ``.npy`` file (one code of the model's z, w or w+); None for any other name."""
    if name == TRUNCATION:
        return truncation(G)
    if not name.startswith("mix:"):
        return None
    _, layers_text, source = [*name.split(":", 2), "", ""][:3]
    layers: str | tuple[int, int] = layers_text
    if "-" in layers_text:
        start, _, stop = layers_text.partition("-")
        if not (start.isdigit() and stop.isdigit()):
            raise InvalidInputError(f"'{name}': layers are coarse, middle, fine or START-STOP (e.g. 0-4).")
        layers = (int(start), int(stop))
    if source.startswith("seed="):
        if not source[5:].isdigit():
            raise InvalidInputError(f"'{name}': the seed must be a whole number (e.g. mix:coarse:seed=12).")
        return seed_mix(G, int(source[5:]), layers)
    if not source.lower().endswith(".npy"):
        raise InvalidInputError(f"'{name}' is not mix:LAYERS:seed=N or mix:LAYERS:LATENT.npy.")
    code = np.asarray(read_npy(source, "latent"), dtype=np.float32)
    for space in ("w+", "w", "z"):  # an inverted photo's code is w or w+; a [512] code is read as w, not z
        if space in G.latent_spaces and code.shape in (G.space(space).shape, (1, *G.space(space).shape)):
            return style_mix(G, code.reshape(G.space(space).shape), space, layers, label=source.rsplit("/", 1)[-1])
    raise InvalidInputError(f"'{source}' holds a code of shape {list(code.shape)}, none of {G.name}'s latent shapes.")
