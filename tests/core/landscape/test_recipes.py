"""Named recipes for a new θ: the shipped one is what ``train-landscape`` makes unless told otherwise."""

from dataclasses import replace

import pytest

from core.cli import build_parser
from core.cli.train_landscape import train_config_from_args
from core.errors import InvalidInputError
from core.theta.mapping import DEFAULT_RECIPE, PRECONDITIONED, MappingConfig, recipe_config


def test_a_recipe_gives_its_settings_and_single_changes_go_on_top():
    assert recipe_config("preconditioned") == MappingConfig(**PRECONDITIONED)
    assert recipe_config("plain") == MappingConfig()
    changed = recipe_config("preconditioned", width=16, momentum=0.0, handover_in_z=None)
    assert changed.width == 16 and changed.momentum == 0.0 and changed.handover_in_z  # None keeps the recipe's
    assert recipe_config("plain", keep_radius=True).keep_radius and not recipe_config("plain").preconditioned


def test_unknown_recipes_and_settings_are_refused():
    with pytest.raises(InvalidInputError, match="recipe 'fast'"):
        recipe_config("fast")
    with pytest.raises(InvalidInputError, match="widht"):
        recipe_config(DEFAULT_RECIPE, widht=3)


def _mapping(*flags: str) -> MappingConfig:
    args = build_parser().parse_args(["train-landscape", "--out", "unused", *flags])
    return train_config_from_args(args).mapping


def test_the_command_line_asks_for_the_shipped_recipe_unless_told_otherwise():
    assert _mapping() == MappingConfig(**PRECONDITIONED)
    assert _mapping("--width", "8", "--no-handover-in-z") == replace(MappingConfig(**PRECONDITIONED), width=8,
                                                                     handover_in_z=False)
    plain = _mapping("--recipe", "plain", "--momentum", "0.5", "--keep-radius")
    assert plain == MappingConfig(momentum=0.5, keep_radius=True)
