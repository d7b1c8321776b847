"""Benchmarks (not tests): ``python -m bench NAME`` writes JSON figures into ``bench/results/NAME.json``.

    python -m bench inversion [--faces 32] [--budgets 1,2,5,...] [--out FILE]
    python -m bench landscape [--faces 64] [--theta DIR] [--out FILE]
    python -m bench inpainting [--faces 16] [--priors 0,0.001,0.003,0.01,0.03,0.1] [--repeats 5] [--out FILE]
    python -m bench slice [--repeats 3] [--device cpu] [--out FILE]
    python -m bench methods [--faces 16] [--configs direct,hybrid,...] [--budgets STEPS] [--tune-steps N]
    python -m bench quality [--faces 12] [--configs direct,pivotal,...] [--variants pixel,alex,...] [--samples-only]
                             [--photos-only] [--no-edits]
    python -m bench stylegan2 [--resolutions 64,256,1024] [--repeats 5] [--device cpu] [--tiny]
    python -m bench ffhq [--repeats 5] [--device cpu]
    python -m bench likeness [--configs dcgan:default,ffhq:direct-40,...] [--samples-only]
    python -m bench alignment [--repeats 5] [--model default]
    python -m bench batch [--device cpu] [--repeats 3]
    python -m bench animation [--seconds 10] [--repeats 3] [--model default]
    python -m bench attributes [--faces 1000] [--model default] [--recipes [--configs glasses,...]]
    python -m bench drag [--faces 8] [--steps 120] --model ffhq
    python -m bench gui [--steps 200] [--starts 1] [--repeats 3]
    python -m bench sliders [--steps 200] [--moves 600] [--rate 60] [--direction smile]

Each NAME is a module of this package with a ``bench_NAME(args)`` function returning the report; its doc says
what it measures. ``gui`` and ``sliders`` run the real main window (offscreen unless a display is set).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

BENCHMARKS = ("inversion", "landscape", "inpainting", "slice", "methods", "quality", "stylegan2", "ffhq", "likeness",
              "alignment", "batch", "gui", "sliders", "animation", "attributes", "drag")
GUI = ("gui", "sliders")
DEFAULT_REPEATS = {"gui": 3, "sliders": 3, "batch": 3, "animation": 3}  # the others: 5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--faces", type=int,
                        help="held-out generated faces (inversion: 32, landscape: 64, inpainting: 16); attributes: "
                             "labelled samples (1000)")
    parser.add_argument("--budgets", help="step budgets, comma-separated (default: the benchmark's own)")
    parser.add_argument("--configs", default="", help="subset of settings to run, comma-separated")
    parser.add_argument("--repeats", type=int, help="timing repeats (the median is reported; gui: runs; default 5, "
                                                    "gui and sliders 3)")
    parser.add_argument("--theta", help="θ folder for the landscape benchmark (default: the shipped θ)")
    parser.add_argument("--priors", help="inpainting: latent prior weights to compare, comma-separated")
    parser.add_argument("--tune-steps", type=int, help="methods: pivotal tuning steps (default: the method's)")
    parser.add_argument("--samples-only", action="store_true",
                        help="quality: only the bundled photos, not the extra public-domain portraits (no download)")
    parser.add_argument("--photos-only", action="store_true",
                        help="quality: the photos only (methods and edits; no generated faces)")
    parser.add_argument("--variants", default="",
                        help="quality: loss variants, comma-separated (default pixel,lpips,lpips+identity; also "
                             "identity, alex, alex+identity)")
    parser.add_argument("--no-edits", action="store_true", help="quality: skip the edits section")
    parser.add_argument("--resolutions", help="stylegan2: output sizes, comma-separated (default 64,256,1024)")
    parser.add_argument("--tiny", action="store_true", help="stylegan2: 32-channel smoke-test nets (no real figures)")
    parser.add_argument("--steps", type=int, help="gui, sliders: steps of the run in the window (default 200); drag: "
                                                  "the most steps of each drag (default: the product's)")
    parser.add_argument("--starts", type=int, default=1, help="gui: starts of the run in the window")
    parser.add_argument("--moves", type=int, default=600, help="sliders: moves in the scripted drag")
    parser.add_argument("--rate", type=float, default=60.0, help="sliders: moves per second")
    parser.add_argument("--direction", default="smile", help="sliders: the direction dragged")
    parser.add_argument("--recipes", action="store_true",
                        help="attributes: measure the model's recipe directions (--configs: which) instead of fitting")
    parser.add_argument("--seconds", type=float, help="animation: length of each clip (default 10)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/NAME.json)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = DEFAULT_REPEATS.get(args.name, 5)
    if args.steps is None and args.name != "drag":
        args.steps = 200
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.name in GUI:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bench.common import write_report
    from core.allocator import keep_freed_memory

    keep_freed_memory()  # as the app and the command line do

    module = importlib.import_module(f"bench.{args.name}")  # only the chosen benchmark's imports (Qt: GUI only)
    report = getattr(module, f"bench_{args.name}")(args)
    write_report(report, args.name, args.out)
    if args.name in GUI:
        print(json.dumps({k: v for k, v in report.items() if k not in ("runs", "machine")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
