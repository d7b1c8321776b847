"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, with an honest offline story.

``lpips`` ships its small linear heads, but its ImageNet backbone comes from torchvision's download cache.
Landscape Studio never downloads at run time: when the backbone file is not in the cache we raise
:class:`PerceptualUnavailableError` naming the file and the folder to put it in, and callers fall back to
pixel loss and say so.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from core.errors import PerceptualUnavailableError
from core.objectives.pixel import weighted_mean

log = logging.getLogger(__name__)

NETS = ("vgg", "alex")
BACKBONE_FILES = {"vgg": "vgg16-397923af.pth", "alex": "alexnet-owt-7be5be79.pth"}
BACKBONE_URL = "https://download.pytorch.org/models/"
_cache: dict[tuple[str, str], PerceptualLoss] = {}


def backbone_path(net: str = "vgg") -> Path:
    """Where torchvision looks for the backbone: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / BACKBONE_FILES[net]


def unavailable_reason(net: str = "vgg") -> str | None:
    """None when LPIPS with ``net`` can run offline here, else a plain-language reason with the fix."""
    if net not in NETS:
        return f"Unknown LPIPS network '{net}'; choose one of: {', '.join(NETS)}."
    path = backbone_path(net)
    if path.is_file():
        return None
    return (
        f"LPIPS ({net}) needs its ImageNet backbone file '{path.name}', which is not on this machine. "
        f"Download {BACKBONE_URL}{path.name} on a connected machine and place it in '{path.parent}' "
        "(or set TORCH_HOME to a folder whose hub/checkpoints holds it)."
    )


class PerceptualLoss(nn.Module):
    """LPIPS distance per image, [N], with a spatial map so per-pixel mask weights apply."""

    def __init__(self, net: str = "vgg") -> None:
        super().__init__()
        reason = unavailable_reason(net)
        if reason:
            raise PerceptualUnavailableError(reason)
        import lpips  # deferred: importing it is slow and only needed here

        try:  # lpips prints a banner and torchvision warns about the old `pretrained` flag: keep both quiet
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.model = lpips.LPIPS(net=net, spatial=True, verbose=False)
        except Exception as exc:  # a foreign file can fail in many ways (unpickling, shapes, I/O): report them all
            raise PerceptualUnavailableError(
                f"The LPIPS backbone file '{backbone_path(net)}' could not be loaded ({exc}); "
                f"replace it with a fresh copy of {BACKBONE_URL}{BACKBONE_FILES[net]}."
            ) from exc
        self.net = net
        self.model.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """``images``, ``target`` [N|1, 3, H, W] in [-1, 1]; ``weights`` [N|1, 1, H, W]; returns [N]."""
        images, target = torch.broadcast_tensors(images, target)
        distance = self.model(images, target)  # [N, 1, H, W]
        return weighted_mean(distance, weights)


def perceptual_loss(net: str = "vgg", device: torch.device | str = "cpu") -> PerceptualLoss:
    """A shared, loaded LPIPS module for ``net`` on ``device`` (loading VGG costs seconds, so it is cached)."""
    key = (net, str(device))
    if key not in _cache:
        _cache[key] = PerceptualLoss(net).to(device)
        log.info("LPIPS (%s) loaded on %s", net, device)
    return _cache[key]
