"""Upgrade a project's ``project.json`` from any older schema to the current one, one version at a time.

Each step is a function ``v(n) dict → v(n+1) dict`` registered in ``MIGRATIONS[n]``; supporting schema 3 means
writing one step for 3 → 4 and raising ``CURRENT_SCHEMA``. Steps touch only ``project.json`` (arrays and the
photo are read by name afterwards), so a step that adds an array must also list it under ``"arrays"``.

History:
- schema 0: the draft of this format before latent edits were part of the document: ``project.json`` of
  schema 1 without the ``"edits"`` key (and so without edit vectors). No released program wrote it; it is
  defined so the upgrade chain runs a real step in the tests, and it reads as "a project with no edits".
- schema 1: the first released layout (see ``core.sessions.store``).
- schema 2: adds ``"tuning"``, the generator's weight delta from a "pivotal" inversion: null, or its base model
  id, info and parameter names, with one ``tune_<i>`` array per name. A schema-1 project has no tuning (null).
- schema 3: adds ``"alignment"``, the face alignment the model was given instead of the crop box: null, or
  ``Alignment.to_dict()`` (2×3 photo → model matrix, resolution, face index, fitted points). A schema-2 project
  used the manual crop (null).
- schema 4: adds ``"fills"``, the inpainting fills stacked over the result (``core.sessions.fill_layers``), with
  ``fill_image_<i>`` and ``fill_mask_<i>`` arrays. A schema-3 project has none (an inpainting result it holds
  stays the adopted result with its ``fill_mask``).
- schema 5: adds ``"composite"``, how results enter the photo ("detail": their change is added and the photo keeps
  its detail; "replace": the model's square is pasted), and the optional ``reference`` array (the model's image
  of the photo as it is, when that is not the adopted image, e.g. a restoration's square as degraded). Schema-4
  projects were made when results were pasted: they become "replace", so they reopen looking as they were saved.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from core.errors import InvalidInputError

CURRENT_SCHEMA = 5


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 had no latent edits: a project without edits has an empty list."""
    data.setdefault("edits", [])
    return data


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 had no pivotal tuning: the project uses the original model."""
    data.setdefault("tuning", None)
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 had no face alignment: the model was given the manual crop."""
    data.setdefault("alignment", None)
    return data


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 had no stacked fills."""
    data.setdefault("fills", [])
    return data


def _v4_to_v5(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 4 pasted results over the photo: keep that look."""
    data.setdefault("composite", "replace")
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2, 2: _v2_to_v3,
                                                                     3: _v3_to_v4, 4: _v4_to_v5}


def schema_version(data: dict[str, Any]) -> int:
    """The ``schema_version`` of a parsed ``project.json``, refused when missing or not a whole number ≥ 0."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InvalidInputError(
            f"The project's schema version {version!r} is not valid; the file is damaged or not a project."
        )
    return version


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """``project.json`` of any supported schema → the current schema (a new dict; ``data`` is not modified).

    A schema newer than this program's is refused (fields it does not know could silently be lost on saving).
    """
    version = schema_version(data)
    if version > CURRENT_SCHEMA:
        raise InvalidInputError(
            f"This project was made by a newer Landscape Studio (project schema {version}; this version reads up "
            f"to {CURRENT_SCHEMA}); update Landscape Studio to open it."
        )
    data = copy.deepcopy(data)
    while version < CURRENT_SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:  # a gap in the chain is a programming error, but say it plainly
            raise InvalidInputError(f"Projects of schema {version} cannot be upgraded by this Landscape Studio.")
        data = step(data)
        version += 1
        data["schema_version"] = version
    return data
