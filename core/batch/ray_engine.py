"""Running a recipe on a Ray cluster (``batch --engine ray``; the optional ``ray`` package, extra ``[scale]``).

One actor per worker slot (a CPU slot, or a GPU or a share of one) holds a warm model; photos are its tasks, one
at a time, so a slow photo never holds up a queue behind it. A photo's bytes travel to the worker and its files
travel back: the driver alone writes the folder (files first, then the manifest row), exactly as the local engine
does, so the folder is consistent and resumable whatever happens to the workers.

When a worker dies (killed, out of memory, its machine gone), Ray restarts the actor elsewhere and the driver
sends the photo it held again, up to ``max_retries`` times; a photo that kills every worker it meets is then a
failed row, not an endless loop. Stopping lets the photos under way finish and be written, and sends no more.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core import __version__
from core.allocator import keep_freed_memory
from core.batch.inputs import BatchPhoto
from core.batch.photo import PhotoOutcome, WarmModel, process_photo
from core.batch.plan import BatchPlan, BatchReport, plan_batch
from core.batch.recipe import Recipe
from core.device import pick_device
from core.errors import CoreError, InvalidInputError

log = logging.getLogger(__name__)
INSTALL_HINT = "pip install 'landscape-studio[scale]'"


class PhotoWorker:
    """The actor's body: the recipe's model, loaded once in the worker process."""

    def __init__(self, recipe: dict[str, Any], device: str, threads: int) -> None:
        torch.set_num_threads(max(1, threads))
        keep_freed_memory()  # as the editor and the command line do: a worker process is a fresh interpreter
        self.model = WarmModel.load(Recipe.from_dict(recipe), pick_device(device))

    def ready(self) -> tuple[str, str]:
        """What the driver checks before sending photos: this worker's version and model."""
        return __version__, self.model.G.model_id

    def process(self, photo: BatchPhoto, name: str, data: bytes) -> PhotoOutcome:
        return process_photo(self.model, photo, name, data=data)


@dataclass(frozen=True)
class RaySettings:
    address: str | None = None  # None: start Ray on this machine; "auto" or HOST:PORT: join that cluster
    workers: int | None = None  # None: as many as the cluster's CPUs (or GPUs) allow
    cpus_per_worker: int = 1
    gpus_per_worker: float = 0.0
    max_retries: int = 2  # times a photo is sent again after its worker died


def import_ray() -> Any:
    # Ray's distributed tqdm otherwise replaces builtins.print in this process for good, the first time a worker
    # logs a progress line; our progress is the driver's own.
    os.environ.setdefault("RAY_TQDM_PATCH_PRINT", "0")
    try:
        import ray
    except ImportError as exc:
        raise InvalidInputError(f"The Ray engine needs the optional 'ray' package: {INSTALL_HINT}.") from exc
    return ray


def run_batch_ray(entries: list[str], recipe: Recipe, out: Path, *, settings: RaySettings = RaySettings(),
                  device: str = "auto", overwrite: bool = False, stop: Callable[[], bool] = lambda: False,
                  on_row: Callable[[dict[str, Any], int, int], None] = lambda _row, _i, _n: None) -> BatchReport:
    """The batch on Ray (see the module doc); uses the Ray session already started in this process, if any."""
    ray = import_ray()
    plan = plan_batch(entries, recipe, out, overwrite=overwrite)
    if plan.to_do:
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        actors: list[Any] = []
        try:
            actors = start_workers(ray, recipe, settings, device, len(plan.to_do))
            _Dispatch(ray, plan, actors, settings.max_retries, stop, on_row).run()
        finally:
            for actor in actors:
                ray.kill(actor)
            if started_here:
                ray.shutdown()
    plan.folder.write_summary()
    return plan.report


def worker_count(resources: dict[str, float], settings: RaySettings) -> int:
    """How many actors the cluster holds at once: ``settings.workers``, else its GPUs (or CPUs) per worker."""
    if settings.workers is not None:
        if settings.workers < 1:
            raise InvalidInputError(f"--workers must be at least 1 (got {settings.workers}).")
        return settings.workers
    if settings.gpus_per_worker > 0:
        count = math.floor(resources.get("GPU", 0) / settings.gpus_per_worker)
        if count < 1:
            raise InvalidInputError("The Ray cluster has no GPU for --gpus-per-worker; start its nodes with GPUs, "
                                    "or leave --gpus-per-worker at 0.")
        return count
    return max(1, math.floor(resources.get("CPU", 1) / max(1, settings.cpus_per_worker)))


def start_workers(ray: Any, recipe: Recipe, settings: RaySettings, device: str, photos: int) -> list[Any]:
    count = min(worker_count(ray.cluster_resources(), settings), photos)
    remote = ray.remote(PhotoWorker).options(num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker,
                                             max_restarts=-1, max_task_retries=0)
    actors = [remote.remote(recipe.to_dict(), device, settings.cpus_per_worker) for _ in range(count)]
    try:
        answers = ray.get([actor.ready.remote() for actor in actors])
    except ray.exceptions.RayError as exc:
        raise CoreError(f"The Ray workers could not load the recipe's model ({_cause(exc)}). Every node needs "
                        f"landscape-studio {__version__} with {INSTALL_HINT} and the model installed.") from exc
    versions = {version for version, _model in answers}
    models = {model for _version, model in answers}
    if versions != {__version__}:
        raise CoreError(f"The Ray workers run landscape-studio {', '.join(sorted(versions))}, this machine "
                        f"{__version__}: install the same version on every node.")
    if len(models) > 1:
        raise CoreError(f"The Ray workers loaded different models ({', '.join(sorted(models))}) for "
                        f"'{recipe.model}': install the same model on every node.")
    log.info("%d Ray workers ready (model %s)", count, models.pop())
    return actors


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


class _Dispatch:
    """Keeps every actor busy with one photo, writes each outcome once, and resends a dead worker's photo.

    A dead actor is asked ``ready()`` until Ray has restarted it (calls sent while it restarts fail at once), and
    only then given its next photo; one that stays away for ``REVIVAL_S`` is given up, its photos go to the rest.
    """

    REVIVAL_S = 120.0

    def __init__(self, ray: Any, plan: BatchPlan, actors: list[Any], max_retries: int,
                 stop: Callable[[], bool], on_row: Callable[[dict[str, Any], int, int], None]) -> None:
        self.ray, self.plan, self.max_retries, self.stop, self.on_row = ray, plan, max_retries, stop, on_row
        self.pending: deque[tuple[BatchPhoto, int]] = deque((photo, 0) for photo in plan.to_do)
        self.inflight: dict[Any, tuple[Any, BatchPhoto | None, int]] = {}  # photo None: a ready() probe
        self.lost_since: dict[int, float] = {}  # id(actor) → when it died
        self.finished = 0
        for actor in actors:
            self._send(actor)

    def _stopped(self) -> bool:
        if not self.plan.report.stopped and self.stop():
            self.plan.report.stopped = True  # the photos under way finish and are written; no more are sent
        return self.plan.report.stopped

    def _send(self, actor: Any) -> None:
        if not self.pending or self._stopped():
            return
        photo, attempt = self.pending.popleft()
        ref = actor.process.remote(photo, self.plan.names[photo.sha256], photo.path.read_bytes())
        self.inflight[ref] = (actor, photo, attempt)

    def _probe(self, actor: Any) -> None:
        if time.monotonic() - self.lost_since.setdefault(id(actor), time.monotonic()) > self.REVIVAL_S:
            log.warning("a Ray worker did not come back in %.0f s; going on without it", self.REVIVAL_S)
            if not self.inflight and self.pending and not self._stopped():
                raise CoreError("Every Ray worker is gone; the photos not done yet are redone by a re-run.")
            return
        self.inflight[actor.ready.remote()] = (actor, None, 0)

    def run(self) -> None:
        while self.inflight:
            ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=0.5)
            self._stopped()
            if ready:
                self._receive(ready[0])

    def _receive(self, ref: Any) -> None:
        actor, photo, attempt = self.inflight.pop(ref)
        if photo is None:
            self._revived(ref, actor)
            return
        outcome = self._outcome(ref, photo, attempt)
        if outcome is None:  # its worker died: the photo is pending again, the actor is being restarted
            self._probe(actor)
            return
        self.plan.commit(outcome)
        self.finished += 1
        self._send(actor)
        self.on_row(outcome.row, self.finished, len(self.plan.to_do))

    def _revived(self, ref: Any, actor: Any) -> None:
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayError:
            time.sleep(0.25)  # still restarting (reloading its model): ask again shortly
            self._probe(actor)
            return
        self.lost_since.pop(id(actor), None)
        self._send(actor)

    def _outcome(self, ref: Any, photo: BatchPhoto, attempt: int) -> PhotoOutcome | None:
        exceptions = self.ray.exceptions
        try:
            outcome: PhotoOutcome = self.ray.get(ref)
        except (exceptions.RayActorError, exceptions.ActorUnavailableError, exceptions.WorkerCrashedError) as exc:
            if attempt < self.max_retries:
                log.warning("the worker holding %s died (%s); sending it again", photo.path, _cause(exc))
                self.pending.appendleft((photo, attempt + 1))
                self.plan.report.retried += 1
                return None
            failed = _failed(photo, f"its worker died {attempt + 1} times while processing it ({_cause(exc)})",
                             attempt)
            self.plan.commit(failed)
            self.finished += 1
            self.on_row(failed.row, self.finished, len(self.plan.to_do))
            return None
        except exceptions.RayTaskError as exc:
            return _failed(photo, f"the worker failed: {_cause(exc)}", attempt)
        outcome.row["retries"] = attempt
        return outcome


def _failed(photo: BatchPhoto, error: str, attempt: int) -> PhotoOutcome:
    row = {"index": photo.index, "photo": str(photo.path), "sha256": photo.sha256, "status": "failed",
           "error": error, "retries": attempt}
    return PhotoOutcome(row, {})
