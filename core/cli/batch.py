"""``landscape-studio batch INPUT… --recipe R.json --out DIR``: a recipe over files, folders and globs.

Per photo: the composited export, its latent and a row in ``manifest.jsonl``; ``summary.csv`` at the end. A re-run
skips what is done and redoes the rest; a bad photo is reported and the rest go on. The first Ctrl-C finishes the
photo under way and stops with a consistent folder; a second one aborts at once (that photo is redone next time).
With ``--engine ray`` the photos go to one warm model per Ray worker (see :mod:`core.batch.ray_engine`).
Exit code 0 when every photo is done, 1 when some failed, 130 when stopped.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.batch.local import GROUP, run_batch
from core.batch.ray_engine import RaySettings, run_batch_ray
from core.batch.recipe import Recipe, load_recipe
from core.cli.exit_codes import EXIT_INTERRUPTED
from core.device import pick_device
from core.errors import InvalidInputError


def add_batch_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="run a recipe over many photos (files, folders, globs); resumable")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="photos, folders of photos, or globs ('*.jpg')")
    p.add_argument("--recipe", type=Path, help="the recipe JSON (File → Save Recipe… writes one); default: the "
                                               "editor's default inversion, aligned, no edits, PNG")
    p.add_argument("--out", type=Path, required=True, help="output folder (new, empty, or this recipe's batch)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of another recipe's batch in --out")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--group", type=int, default=GROUP,
                   help=f"photos inverted together when the recipe's method allows it (the direct method; "
                        f"default {GROUP}, 1: one at a time)")
    scale = p.add_argument_group("scale out with Ray (needs the [scale] extra)")
    scale.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="local: one model on this machine (default); ray: one warm model per Ray worker")
    scale.add_argument("--address", help="the Ray cluster to join: auto (the one `ray start --head` made here) "
                                         "or HOST:PORT; default: start Ray on this machine")
    scale.add_argument("--workers", type=int, help="actors to start (default: the cluster's CPUs, or GPUs)")
    scale.add_argument("--cpus-per-worker", type=int, default=1, help="CPU threads per actor (default 1)")
    scale.add_argument("--gpus-per-worker", type=float, default=0.0,
                       help="GPUs per actor: 1 for one each, 0.5 for two on a GPU (default 0: CPU only)")


def cmd_batch(args: argparse.Namespace) -> int:
    if not 1 <= args.group <= 64:
        raise InvalidInputError(f"--group must be between 1 and 64 (got {args.group}).")
    recipe = load_recipe(args.recipe) if args.recipe is not None else Recipe()
    stop = {"asked": False}

    def on_sigint(signum: int, frame: object) -> None:
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True
        tqdm.write("Stopping after the photos under way (Ctrl-C again to abort it)…", file=sys.stderr)

    bar = tqdm(desc="batch", unit="photo", file=sys.stderr, disable=args.quiet)

    def on_row(row: dict[str, Any], finished: int, total: int) -> None:
        bar.total = total
        if row["status"] != "done":
            tqdm.write(f"failed: {row['photo']}: {row.get('error')}", file=sys.stderr)
        for warning in row.get("warnings") or []:
            tqdm.write(f"warning: {Path(row['photo']).name}: {warning}", file=sys.stderr)
        bar.update(finished - bar.n)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        if args.engine == "ray":
            settings = RaySettings(address=args.address, workers=args.workers,
                                   cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker)
            report = run_batch_ray(args.inputs, recipe, args.out, settings=settings, device=args.device,
                                   overwrite=args.overwrite, stop=lambda: stop["asked"], on_row=on_row)
        else:
            report = run_batch(args.inputs, recipe, args.out, device=pick_device(args.device),
                               overwrite=args.overwrite, stop=lambda: stop["asked"], on_row=on_row,
                               group=args.group)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    assert report.inputs is not None
    for duplicate, same in report.inputs.duplicates:
        print(f"skipped: {duplicate} has the same bytes as {same}", file=sys.stderr)
    done = sum(r["status"] == "done" for r in report.rows)
    failed = len(report.rows) - done
    print(f"{done} done, {report.skipped} already done, {failed} failed"
          + (f", {report.retried} sent again after their worker died" if report.retried else "")
          + (", stopped early" if report.stopped else "") + f". Results in {args.out.resolve()} "
          "(manifest.jsonl, summary.csv)")
    if report.stopped:
        return EXIT_INTERRUPTED
    return 1 if failed else 0
