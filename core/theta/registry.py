"""Which θ serves a model: a folder the user names, or the one shipped for the model in ``resources/landscape/``.

A θ serves only the generator it was trained for (its metadata names the model id), and only once it passed the
validation gate (``"ready": true``); otherwise callers fall back to the direct method and say why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import ModelLoadError
from core.generators import Generator
from core.resources import resources_dir, trained_dir
from core.theta.mapping import LandscapeMapping, load_mapping


def shipped_mapping_dir(G: Generator) -> Path:
    return resources_dir() / "landscape" / G.name


def mapping_dir(G: Generator, folder: str | Path | None = None) -> Path:
    """Where ``G``'s θ is looked for: ``folder``, else the shipped θ, else one trained here (the user's data)."""
    return _lookup(G.name, G.base_model_id, folder)


def _lookup(name: str, model_id: str, folder: str | Path | None) -> Path:
    where = Path(folder) if folder else resources_dir() / "landscape" / name
    if not folder and not (where / "theta.json").is_file():
        where = trained_dir(model_id, "landscape")
    return where


def learning_note(folder: Path) -> str:
    """What training added to the θ in ``folder``, from its gate's paired comparison against the same θ untrained
    (one line for the method's help), and which parts of the descent it learned; "" when the θ has no such
    measurement (or no readable metadata)."""
    try:
        meta = json.loads((Path(folder) / "theta.json").read_text(encoding="utf-8"))
        gate, mapping = meta.get("gate", {}), meta.get("mapping", {})
        added = _gains_text(gate["learned_gain"])
        learned = [what for key, what in LEARNED_PARTS if mapping.get(key) is True]
        guess = gate.get("encoder_start_gain")
        guessed = f" Its starts lean towards the encoder's guess of the photo: {_gains_text(guess)} over random " \
            "starts." if guess else ""
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    verdict = "beyond noise" if gate.get("learned") is True else "within noise: its recipe does the work"
    which = f" It learned {', '.join(learned)}." if learned else ""
    return f"Training added {added} over the same θ untrained ({verdict}).{which}{guessed}"


def _gains_text(by_budget: dict[str, dict[str, Any]]) -> str:
    """"+1.17 ± 0.07 dB at 10 steps, …" from a gate's paired differences per budget."""
    return ", ".join(f"{float(d['mean']):+.2f} ± {float(d['se']):.2f} dB at {int(b)} steps"
                     for b, d in by_budget.items())


# parts of θ's descent a config can have learned, as the method's help names them
LEARNED_PARTS = (("schedule", "each step's size and momentum"), ("adaptive", "to adapt them to each face"),
                 ("steer", "to bend each step"), ("learned_start", "where descents start"))


def ready_mapping_dir(name: str, model_id: str, folder: str | Path | None = None) -> Path | None:
    """The folder of the θ :func:`find_mapping` would serve the model ``name`` (id ``model_id``), judged from its
    metadata alone — cheap, and without the model loaded, for a dialog — or None when no ready θ is there."""
    where = _lookup(name, model_id, folder)
    try:
        meta = json.loads((where / "theta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ready = isinstance(meta, dict) and meta.get("ready") is True and meta.get("generator_id") == model_id
    return where if ready else None


def find_mapping(G: Generator, folder: str | Path | None = None) -> tuple[LandscapeMapping, dict[str, Any]]:
    """The ready θ for ``G`` (from ``folder``, else the shipped one, else one trained here into the user's data
    folder) on G's device, or :class:`ModelLoadError`."""
    where = mapping_dir(G, folder)
    if not (where / "theta.json").is_file():
        raise ModelLoadError(f"No landscape mapping θ for {G.name} at '{where}' (train one: train-landscape).")
    theta, meta = load_mapping(where)
    if meta.get("generator_id") != G.base_model_id:
        raise ModelLoadError(f"The θ at '{where}' was trained for {meta.get('generator_id')}, not {G.model_id}.")
    if meta.get("ready") is not True:  # only a real true: "no" or 1 are damage, not a passed gate
        gate = meta.get("gate")
        reason = gate.get("reason") if isinstance(gate, dict) else None
        reason = reason if isinstance(reason, str) else "it has not passed the validation gate"
        raise ModelLoadError(f"The θ at '{where}' is not ready: {reason[:300]}")
    return theta.to(G.device).requires_grad_(False), meta
