"""Measure the default model's framing (mean eye and mouth positions on its own samples) into resources/framing.

    .venv/bin/python packaging/make_framing.py [--n 256] [--seed 0]

The shipped file is what this writes; other models are measured on first use and cached per user.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="model samples to measure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from core.alignment.framing import measure_framing, save_framing, shipped_framing_dir
    from core.generators import load_generator

    framing = measure_framing(load_generator("default"), args.n, seed=args.seed)
    path = save_framing(framing, shipped_framing_dir())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
