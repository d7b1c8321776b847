"""Pictures of directions: a strip of faces moved along one direction, and a contact sheet of many.

A strip has one row per seed and one column per α (std units), so what a direction changes, and what it leaves
alone, is visible across faces. The discover dialog, ``directions discover --sheet`` and the docs figures all
use these two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from core.device import to_uint8_hwc
from core.directions.apply import apply_directions
from core.directions.library import Direction, check_direction
from core.errors import InvalidInputError
from core.generators import Generator

SHEET_SEEDS = (0, 1, 2)
SHEET_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
LABEL_WIDTH = 120  # pixels of the name column on a contact sheet
GAP = 6  # pixels between components on a contact sheet


@torch.no_grad()
def direction_strip(G: Generator, direction: Direction, seeds: Sequence[int] = SHEET_SEEDS,
                    alphas: Sequence[float] = SHEET_ALPHAS) -> np.ndarray:
    """uint8 [len(seeds)·R, len(alphas)·R, 3]: the face of each seed (rows) moved by each α (columns)."""
    if not seeds or not alphas:
        raise InvalidInputError("A strip needs at least one seed and one α.")
    check_direction(direction, G)
    codes = torch.cat([G.sample_latent(1, int(s), direction.space) for s in seeds])  # [S, *shape]
    moved = torch.stack([apply_directions(codes, [(direction, a)]) for a in alphas], dim=1)  # [S, A, *shape]
    images = to_uint8_hwc(G.synthesize(moved.flatten(0, 1), direction.space))  # [S·A, R, R, 3]
    r = G.resolution
    return images.reshape(len(seeds), len(alphas), r, r, 3).transpose(0, 2, 1, 3, 4).reshape(
        len(seeds) * r, len(alphas) * r, 3)


def contact_sheet(G: Generator, directions: Sequence[Direction], seeds: Sequence[int] = SHEET_SEEDS,
                  alphas: Sequence[float] = SHEET_ALPHAS, upscale: int = 1) -> np.ndarray:
    """uint8 HWC: one strip per direction, stacked, each with its name on the left and α over the columns.

    ``upscale`` enlarges the faces by an integer factor (nearest neighbour) so 64-px faces stay legible.
    """
    if not directions:
        raise InvalidInputError("A contact sheet needs at least one direction.")
    strips = [np.kron(direction_strip(G, d, seeds, alphas), np.ones((upscale, upscale, 1), np.uint8))
              for d in directions]
    width = LABEL_WIDTH + strips[0].shape[1]
    header = 16
    height = header + sum(s.shape[0] + GAP for s in strips)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    cell = strips[0].shape[1] // len(alphas)
    for i, alpha in enumerate(alphas):
        draw.text((LABEL_WIDTH + i * cell + cell // 2 - 8, 2), f"{alpha:+g}", fill="black", font=font)
    y = header
    for direction, strip in zip(directions, strips, strict=True):
        sheet.paste(Image.fromarray(strip), (LABEL_WIDTH, y))
        lines = _wrapped(direction.name, lambda text: draw.textlength(text, font=font), LABEL_WIDTH - 8)
        for k, line in enumerate([*lines, direction.method]):
            draw.text((4, y + 4 + 14 * k), line, fill="gray" if k == len(lines) else "black", font=font)
        y += strip.shape[0] + GAP
    return np.asarray(sheet).copy()


def _wrapped(text: str, width_of: Callable[[str], float], room: float, most: int = 3) -> list[str]:
    """``text`` broken at spaces into at most ``most`` lines that fit ``room`` (a word longer than that is cut)."""
    lines: list[str] = []
    for word in text.split():
        if lines and width_of(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    fitted = []
    for line in lines[:most]:
        while len(line) > 1 and width_of(line) > room:
            line = line[:-1]
        fitted.append(line)
    return fitted
