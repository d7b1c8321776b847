"""Directions made by other tools, and finding a direction by name or file for the command line.

- InterFaceGAN boundaries: ``.npy`` of shape [1, D] or [D] (a unit normal), one direction per file.
- GANSpace components: an ``.npz`` with ``lat_comp`` [K, 1, D] or [K, D], optionally ``lat_stdev`` [K] (the
  std along each component: our ``scale``) and ``var_ratio`` [K]; K directions.

Files are read with ``allow_pickle=False`` and checked against the model's space before use.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.directions.apply import latent_scale
from core.directions.library import Direction, DirectionLibrary, check_direction, load_vector, refusal
from core.directions.style import named_style_edit
from core.errors import InvalidInputError
from core.generators import Generator


def import_interfacegan(path: str | Path, G: Generator, name: str | None = None,
                        space: str | None = None) -> Direction:
    """An InterFaceGAN boundary file as a direction of ``G`` (named after the file unless ``name`` is given)."""
    path = Path(path).expanduser()
    vector = load_vector(path)
    space_name = G.space(space).name
    vector = _fit_space(vector, G, space_name, path.name)
    direction = Direction(name=name or path.stem, vector=vector, space=space_name, model_id=G.model_id,
                          method="imported", scale=latent_scale(G, vector, space_name),
                          provenance={"source": str(path), "format": "interfacegan"})
    check_direction(direction, G)
    return direction


def import_ganspace(path: str | Path, G: Generator, prefix: str | None = None,
                    space: str | None = None) -> list[Direction]:
    """GANSpace components as directions ``{prefix}-00`` … (prefix: the file's name), in the file's order."""
    path = Path(path).expanduser()
    comps, stdev, ratios = _read_ganspace(path)
    space_name = G.space(space).name
    prefix = prefix or path.stem
    directions = []
    for k, comp in enumerate(comps):
        vector = _fit_space(comp, G, space_name, f"{path.name} component {k}")
        unit = vector / np.linalg.norm(vector.astype(np.float64))
        scale = float(stdev[k]) if stdev is not None else latent_scale(G, unit, space_name)
        provenance = {"source": str(path), "format": "ganspace", "component": k}
        if ratios is not None:
            provenance["explained_variance"] = float(ratios[k])
        directions.append(Direction(name=f"{prefix}-{k:02d}", vector=vector, space=space_name,
                                    model_id=G.model_id, method="imported", scale=scale, provenance=provenance))
    return directions


def _read_ganspace(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``lat_comp`` as [K, D] and the optional ``lat_stdev`` [K] and ``var_ratio`` [K], all checked."""
    if not path.is_file():
        raise InvalidInputError(f"The components file '{path}' does not exist; check the name.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key]) for key in ("lat_comp", "lat_stdev", "var_ratio") if key in data}
    except ValueError as exc:
        raise InvalidInputError(f"'{path.name}' was refused: {refusal(exc)}.") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"'{path.name}' is not a readable .npz file ({exc}).") from exc
    if "lat_comp" not in arrays:
        raise InvalidInputError(f"'{path.name}' has no 'lat_comp' array; it is not a GANSpace components file.")
    comps = arrays["lat_comp"]
    if comps.ndim == 3 and comps.shape[1] == 1:
        comps = comps[:, 0]
    if comps.ndim != 2 or len(comps) == 0 or not np.issubdtype(comps.dtype, np.floating):
        raise InvalidInputError(f"'{path.name}': lat_comp must be floats [K, 1, D] or [K, D], got {comps.shape}.")
    extras = []
    for key in ("lat_stdev", "var_ratio"):
        value = arrays.get(key)
        if value is not None:
            value = value.reshape(-1).astype(np.float64)
            if len(value) != len(comps) or not np.isfinite(value).all() or (key == "lat_stdev" and (value <= 0).any()):
                raise InvalidInputError(f"'{path.name}': {key} must hold {len(comps)} finite positive values.")
        extras.append(value)
    if not np.isfinite(comps).all():
        raise InvalidInputError(f"'{path.name}' contains NaN or infinite values; it cannot give directions.")
    return comps.astype(np.float32), extras[0], extras[1]


def _fit_space(vector: np.ndarray, G: Generator, space: str, what: str) -> np.ndarray:
    """``vector`` as the space's per-sample shape, or [w_dim] for a per-layer space; a clear error otherwise."""
    shape = G.space(space).shape
    if vector.shape == shape or (len(shape) == 2 and vector.shape == shape[1:]):
        return vector
    if vector.size == int(np.prod(shape)):
        return vector.reshape(shape)
    want = f"{shape[-1]}" if len(shape) == 1 else f"{shape[-1]} or {int(np.prod(shape))}"
    raise InvalidInputError(
        f"{what} has {vector.size} values, but {G.name}'s space '{space}' needs {want}; it was made for another model.")


def find_direction(name_or_path: str, G: Generator, libraries: Sequence[DirectionLibrary]) -> Direction:
    """A direction by name from the first library that has it, else from an ``.npy`` file path; checked for ``G``.

    An unknown name is an error that lists every known name, so a typo is easy to fix.
    """
    for library in libraries:
        if name_or_path in library:
            direction = library.get(name_or_path)
            check_direction(direction, G)
            return direction
    styled = named_style_edit(name_or_path, G)  # truncation, mix:LAYERS:SOURCE
    if styled is not None:
        return styled
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".npy" or path.is_file():
        return import_interfacegan(path, G)
    known = sorted({name for library in libraries for name in library.names()})
    listing = ", ".join(known) if known else "none (make some with 'directions discover' and pass --library)"
    raise InvalidInputError(f"There is no direction named '{name_or_path}'. Known directions: {listing}; "
                            "or give the path of an .npy direction file, truncation, or mix:LAYERS:seed=N.")
