"""A recipe: what to do to each photo of a batch, as a versioned JSON file the GUI saves and the CLI reads.

::

    {"format": "landscape-studio-recipe", "version": 1,
     "model": "default", "align": true, "face": 0,
     "inversion": {"method": "pivotal", "steps": 100, "loss": {"lpips": 0.5, "lpips_net": "alex"}},
     "edits": {"age": 1.5, "smile.npy": -1},
     "restore": null, "composite": "detail", "feather": 0.08,
     "export": {"format": "jpg", "quality": 95}, "naming": "{stem}_edited"}

Every key is optional except ``format``/``version``; an unknown key, a wrong type or an out-of-range value is
refused with the key named, so a typo never runs a thousand photos with the wrong settings. The recipe's hash
(of its canonical form, defaults filled in) tells a resumed batch which results are still valid.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from core.atomic_files import atomic_write_bytes
from core.errors import InvalidInputError
from core.inversion import InversionConfig
from core.inversion.config import restoration_config
from core.objectives.operators import parse_operator
from core.placement import COMPOSITE_MODES, DEFAULT_COMPOSITE, DEFAULT_FEATHER, MAX_FEATHER

FORMAT, VERSION = "landscape-studio-recipe", 1
EXPORT_FORMATS = {"png": ".png", "jpg": ".jpg", "jpeg": ".jpg"}
NAME_FIELDS = ("stem", "index")
MAX_RECIPE_BYTES = 1 << 20
# A recipe that names no method runs the editor's default, chosen by `bench quality` on real photos (README:
# "Choosing the editor's default"): pivotal tuning, 100 pivot steps, LPIPS 0.5 on AlexNet.
DEFAULT_INVERSION: dict[str, Any] = {"method": "pivotal", "steps": 100, "loss": {"lpips": 0.5, "lpips_net": "alex"}}


@dataclass(frozen=True)
class Export:
    format: str = "png"  # "png" or "jpg"
    quality: int = 95  # JPEG quality 1–100 (PNG ignores it)

    @property
    def suffix(self) -> str:
        return EXPORT_FORMATS[self.format]


@dataclass(frozen=True)
class Recipe:
    """What a batch does to each photo (see the module doc for the file)."""

    model: str = "default"  # "default", "ffhq" or a model file
    align: bool = True  # align the face to the model's framing (else the default square)
    face: int = 0  # which face when several (0 = the largest)
    inversion: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_INVERSION))  # InversionConfig fields
    edits: dict[str, float] = field(default_factory=dict)  # direction name or .npy path → amount (std units)
    restore: str | None = None  # "downsample4", "grayscale", "downsample4+grayscale": invert through it
    composite: str = DEFAULT_COMPOSITE  # "detail" (the photo keeps its detail) or "replace"
    feather: float = DEFAULT_FEATHER
    export: Export = field(default_factory=Export)
    naming: str = "{stem}_edited"  # output file name without suffix: {stem} (the photo's), {index} (its place)

    def config(self) -> InversionConfig:
        """The inversion settings: the recipe's fields over the defaults (a restoration's measured ones)."""
        data = dict(self.inversion)
        base = InversionConfig() if self.restore is None else restoration_config(self.restore)
        merged = base.to_dict() | data
        if "loss" in data:
            merged["loss"] = base.to_dict()["loss"] | data["loss"]
        return InversionConfig.from_dict(merged)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    def digest(self) -> str:
        """sha256 of the canonical recipe (sorted keys, defaults filled): equal digests, equal results."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def output_name(self, stem: str, index: int) -> str:
        return self.naming.format(stem=stem, index=index) + self.export.suffix

    @classmethod
    def from_dict(cls, data: Any, where: str = "the recipe") -> Recipe:
        if not isinstance(data, dict):
            raise InvalidInputError(f"{where} must be a JSON object.")
        if data.get("format") != FORMAT:
            raise InvalidInputError(f"{where} is not a Landscape Studio recipe (\"format\": \"{FORMAT}\").")
        if data.get("version") != VERSION:
            raise InvalidInputError(f"{where} has version {data.get('version')!r}; this version reads recipe "
                                    f"version {VERSION}.")
        known = {"format", "version", *cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"{where} has unknown keys: {', '.join(unknown)} (known: "
                                    f"{', '.join(sorted(known - {'format', 'version'}))}).")
        body = {k: v for k, v in data.items() if k not in ("format", "version")}
        if "export" in body:
            body["export"] = _export(body["export"], where)
        recipe = cls(**body)
        recipe.validate(where)
        return recipe

    def validate(self, where: str = "the recipe") -> None:
        """Types and ranges of every field, the inversion settings included (a message names the key)."""
        _typed(where, model=(self.model, str), align=(self.align, bool), face=(self.face, int),
               inversion=(self.inversion, dict), edits=(self.edits, dict), composite=(self.composite, str),
               feather=(self.feather, int | float), naming=(self.naming, str))
        if self.face < 0:
            raise InvalidInputError(f"{where}: \"face\" must be 0 or more (got {self.face}).")
        if self.composite not in COMPOSITE_MODES:
            raise InvalidInputError(f"{where}: \"composite\" must be one of {', '.join(COMPOSITE_MODES)}.")
        if not 0 <= self.feather <= MAX_FEATHER:
            raise InvalidInputError(f"{where}: \"feather\" must be from 0 to {MAX_FEATHER} (got {self.feather}).")
        for name, amount in self.edits.items():
            if not isinstance(name, str) or not name or isinstance(amount, bool) or not isinstance(
                    amount, int | float) or not -100 <= amount <= 100:
                raise InvalidInputError(f"{where}: edit {name!r}: {amount!r} must be a direction name (or .npy "
                                        "path) and an amount from -100 to 100.")
        if self.restore is not None:
            if not isinstance(self.restore, str):
                raise InvalidInputError(f"{where}: \"restore\" must be an operator name or null.")
            parse_operator(self.restore)
        _check_naming(self.naming, where)
        try:
            self.config().validate()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: \"inversion\": {exc}") from exc


def _typed(where: str, **values: tuple[Any, Any]) -> None:
    for key, (value, kind) in values.items():
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidInputError(f"{where}: \"{key}\" has the wrong type ({type(value).__name__}).")


def _export(value: Any, where: str) -> Export:
    if not isinstance(value, dict) or set(value) - {"format", "quality"}:
        raise InvalidInputError(f"{where}: \"export\" takes {{\"format\": \"png\"|\"jpg\", \"quality\": 1-100}}.")
    export = Export(**value)
    if export.format not in EXPORT_FORMATS:
        raise InvalidInputError(f"{where}: export format {export.format!r} is not one of png, jpg.")
    if isinstance(export.quality, bool) or not isinstance(export.quality, int) or not 1 <= export.quality <= 100:
        raise InvalidInputError(f"{where}: export quality must be a whole number from 1 to 100.")
    return export


def _check_naming(naming: str, where: str) -> None:
    fields_used = re.findall(r"{(\w*)}", naming)
    if not naming or any(f not in NAME_FIELDS for f in fields_used) or ("{stem}" not in naming and (
            "{index}" not in naming)):
        raise InvalidInputError(f"{where}: \"naming\" must use {{stem}} or {{index}} (and nothing else in braces) "
                                f"so every photo gets its own file (got {naming!r}).")
    if re.search(r"[/\\]|^\.", naming.replace("{stem}", "x").replace("{index}", "0")):
        raise InvalidInputError(f"{where}: \"naming\" must be a file name, not a path (got {naming!r}).")


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise InvalidInputError(f"'{path.name}' is too large to be a recipe.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInputError(f"No recipe at '{path}'.") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"'{path.name}' is not a readable JSON recipe ({exc}).") from exc
    recipe = Recipe.from_dict(data, f"'{path.name}'")
    # a vector file named relative to the recipe (as Save Recipe… writes them) is found beside it; so is the other
    # code of a style mix (mix:LAYERS:FILE.npy)
    edits = {}
    for name, amount in recipe.edits.items():
        prefix, file = split_mix(name)
        beside = file.lower().endswith(".npy") and not Path(file).is_absolute()
        edits[prefix + (str(path.parent / file) if beside else file)] = amount
    return replace(recipe, edits=edits)


def split_mix(name: str) -> tuple[str, str]:
    """A recipe edit's name as (``mix:LAYERS:`` or "", the rest): the rest of a style mix may be a file."""
    if name.startswith("mix:") and name.count(":") >= 2:
        layers_end = name.index(":", 4) + 1
        return name[:layers_end], name[layers_end:]
    return "", name


def save_recipe(recipe: Recipe, path: str | Path) -> Path:
    recipe.validate()
    return atomic_write_bytes(Path(path).expanduser(),
                              (json.dumps(recipe.to_dict(), indent=2, allow_nan=False) + "\n").encode())
