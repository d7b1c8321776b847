"""Which generator the document uses: load a user's model file (or the default back) on the engine thread,
and describe the current one for the info dialog, the status bar and the Space selector.

Loading replaces the model only when it succeeded: a file that fails to load becomes a message and the old model
stays. Hashing a large checkpoint and counting its parameters also happen on the engine thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.directions.controller import user_library_dir
from app.document.controller import DocumentController
from app.engine import JobRequest
from core.device import pick_device
from core.directions.recipes import seed_library
from core.errors import CoreError, ModelLoadError
from core.generators import Generator, load_generator, registry
from core.generators.ffhq_install import FFHQ_MODEL
from core.generators.stylegan2_checkpoints import file_digest
from core.jobs import call_as_job

log = logging.getLogger(__name__)
MODEL_SUFFIXES = (".pt", ".pth", ".pkl", ".safetensors")
MODEL_FILTER = "Generator models (*.pt *.pth *.pkl *.safetensors);;All files (*)"
DEFAULT = "default"


@dataclass(frozen=True)
class ModelInfo:
    """What a user may want to know about the loaded generator (JSON-ready values)."""

    name: str  # the model's own name (a file's stem)
    architecture: str  # "DCGAN", "StyleGAN2"
    resolution: int  # output side in pixels
    spaces: dict[str, tuple[int, ...]]  # latent space → per-sample shape, in the model's order
    default_space: str  # the space inversion optimises unless told otherwise
    parameters: int  # trainable weights of the network
    path: str  # the file it was read from
    sha256: str  # of that file: tells two same-named checkpoints apart
    model_id: str  # name@hash, stored with every result
    device: str  # where it runs
    builtin: bool = False  # the embedded default model (not a user's file)
    details: dict[str, Any] = field(default_factory=dict)  # architecture settings and the file's provenance
    coarse_image: bool = False  # the model offers a cheaper coarse image for a descent's first steps


@dataclass(frozen=True)
class LoadedModel:
    """A finished load: the generator for ``device_key`` and its description."""

    source: str  # what load_generator was given ("default" or a path)
    device_key: str
    generator: Generator
    info: ModelInfo


def is_model_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MODEL_SUFFIXES


def model_path(source: str | Path) -> Path:
    """The file behind ``source``: a built-in model's bundled file, else the path itself."""
    return registry.model_file(DEFAULT if str(source) in ("", DEFAULT) else source)


def library_key(source: str, G: Generator) -> str:
    """The folder name of the model's user files (directions): "default" for the embedded model, else its id
    (name@hash), so two checkpoints that share a file name never share a library, and a moved file keeps its."""
    if source == DEFAULT:
        return DEFAULT
    return re.sub(r"[^\w.@-]", "_", G.model_id)


def describe(G: Generator, source: str | Path) -> ModelInfo:
    """Build the description (engine thread: it hashes the file, which may be hundreds of megabytes)."""
    path = model_path(source)
    details: dict[str, Any] = {}
    config = getattr(G, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        details["config"] = config.to_dict()
    info = getattr(G, "info", None)  # what a checkpoint recorded about itself, on models that keep it
    if info:
        details["source"] = dict(info)
    return ModelInfo(
        name=G.name, architecture=type(G).__name__.removesuffix("Generator"), resolution=G.resolution,
        spaces={name: tuple(space.shape) for name, space in G.latent_spaces.items()}, default_space=G.default_space,
        parameters=sum(p.numel() for p in G.net.parameters()), path=str(path.resolve()) if path.exists() else str(path),
        sha256=file_digest(path) if path.is_file() else "", model_id=G.model_id, device=str(G.device),
        builtin=str(source) in ("", DEFAULT), details=details, coarse_image=G.has_coarse_image)


class ModelController(QObject):
    model_loaded = Signal(object)  # ModelInfo of the model now in use
    load_failed = Signal(str)  # why a model could not be loaded (the old one stays)
    info_described = Signal(object)  # ModelInfo of the current model, once known
    noise_changed = Signal(str)  # the noise mode now in use ("const", "random", "none")

    def __init__(self, doc: DocumentController) -> None:
        super().__init__(doc)
        self.doc = doc
        self.info: ModelInfo | None = None  # the current model's description (None until first described)
        self._describing = False
        doc.register_job("load-model", self._loaded, self._failed)
        doc.register_job("describe-model", self._described, self._describe_failed, quiet=True)
        doc.register_job("model-noise", lambda mode: self.noise_changed.emit(mode))
        doc.engine_idle.connect(self._describe_when_idle)

    def load(self, source: str | Path) -> bool:
        """Load ``source`` (a model file, or "default") on the engine thread; it replaces the model on success."""
        source = DEFAULT if str(source) in ("", DEFAULT) else str(Path(source).expanduser())
        current = self.info.name if self.info else self.doc.model_name
        label = {DEFAULT: "the default model", FFHQ_MODEL: "the FFHQ model"}.get(source, Path(source).name)

        def job() -> LoadedModel:
            key = str(pick_device("auto"))
            try:
                G = load_generator(source, key)
            except CoreError as exc:
                raise ModelLoadError(f"Could not load {label}: {exc}\n\nThe current model ({current}) stays "
                                     "in use.") from exc
            except Exception as exc:  # a foreign file can trip any reader: it is still the file's fault, say so
                log.warning("loading %s failed", source, exc_info=True)
                raise ModelLoadError(f"Could not load {label}: it is not a model file this version can read "
                                     f"({type(exc).__name__}: {exc}).\n\nThe current model ({current}) stays "
                                     "in use.") from exc
            seed_library(G, user_library_dir(library_key(source, G)))  # named directions from the model's recipes
            G.prepare()  # one-off work (FFHQ's coarse image layer) now rather than inside the first inversion
            return LoadedModel(source, key, G, describe(G, source))

        self.doc.status_changed.emit(f"Loading {label}…")
        return self.doc.submit(JobRequest("load-model", lambda: call_as_job(job)))

    def set_noise(self, mode: str) -> bool:
        """The per-pixel noise of every copy of the model (StyleGAN2): "const" (the stored buffers, the default:
        renders repeat exactly), "random" (fresh each render) or "none"; set on the engine thread."""
        def job() -> str:
            copies = self.doc.loaded_generators()
            for G in copies:
                if hasattr(G, "noise_mode"):
                    G.noise_mode = mode
            return mode

        return self.doc.submit(JobRequest("model-noise", lambda: call_as_job(job)))

    def describe_current(self) -> None:
        """Emit ``info_described`` for the current model now, or as soon as the engine has described it."""
        if self.info is not None:
            self.info_described.emit(self.info)
        else:
            self._describe_when_idle()

    def _describe_when_idle(self) -> None:
        if self.info is not None or self._describing or self.doc.engine.busy:
            return
        source = self.doc.model_name

        def job() -> ModelInfo:
            return describe(self.doc.model("auto"), source)

        self._describing = self.doc.submit(JobRequest("describe-model", lambda: call_as_job(job)), quiet=True)

    def _described(self, info: ModelInfo) -> None:
        self._describing = False
        if self.info is None:
            self.info = info
            self.info_described.emit(info)

    def _describe_failed(self, _message: str) -> None:
        self._describing = False

    def _loaded(self, loaded: LoadedModel) -> None:
        self.doc.switch_model(loaded.source, loaded.device_key, loaded.generator,
                              library_key(loaded.source, loaded.generator))
        self.info = loaded.info
        self.model_loaded.emit(loaded.info)
        self.info_described.emit(loaded.info)

    def _failed(self, message: str) -> None:
        self.load_failed.emit(message)
