"""The direction library shipped for the default model: complete, for this model, and rebuilt bit-exactly."""

from __future__ import annotations

import importlib.util

import numpy as np

from core.directions import DirectionLibrary, shipped_library_dir
from core.resources import resources_dir


def _maker():
    path = resources_dir().parent / "packaging" / "make_directions.py"
    spec = importlib.util.spec_from_file_location("make_directions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_library_has_eight_named_directions_for_this_model(G):
    library = DirectionLibrary.load(shipped_library_dir(G.name))
    assert {"smile", "age", "glasses", "mouth open", "hat", "beard", "head turn", "lighting"} <= set(library.names())
    for direction in library:
        assert direction.model_id == G.model_id and direction.space == "z"
        assert abs(float(np.linalg.norm(direction.vector)) - 1) < 1e-5
        if direction.method == "supervised":
            assert direction.provenance["training_accuracy"] == 1.0  # it separates the hand labels


def test_the_packaging_script_rebuilds_the_shipped_vectors(G):
    """To float32 rounding: the PCA direction goes through LAPACK, whose last bits change between numpy releases
    (numpy 2.4.6 moves "lighting" by 1e-8); the supervised and SeFa ones come back bit for bit."""
    shipped = DirectionLibrary.load(shipped_library_dir(G.name))
    rebuilt = _maker().build_library()
    assert rebuilt.names() == shipped.names()
    for name in shipped.names():
        assert np.allclose(rebuilt.get(name).vector, shipped.get(name).vector, rtol=0, atol=1e-6), name
