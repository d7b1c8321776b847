"""The 1024-px FFHQ MobileStyleGAN (Belousov 2021, arXiv 2104.04767) of ``random-face``, run in PyTorch.

The network is read from the user's install (:mod:`.ffhq_install`) by the IR interpreter (:mod:`.openvino_ir`);
what this module adds is the StyleGAN vocabulary on top of the two graphs:

- **w+**: the synthesis graph reads its one ``style`` input in 23 style affines (MatMul); feeding each its own
  row gives one w per modulated layer, in the order the exporter numbered them (``Gemm_<n>``: coarse to fine).
- **Working resolution**: the last block ends in 12 wavelet bands at 512 px ([N, 12, 512, 512]) that an inverse
  Haar transform turns into the 1024 image. The low-pass band is the 1024 image area-averaged to 512 px, × 2
  (checked to 2e-7), so the 512-px image costs nothing beyond the network; inversion and previews use it
  area-averaged to 256 px, and :meth:`render` runs the final transform for paste-back and export. Every earlier
  block's own to-image layer was dropped when the model was exported, so no cheaper exact image exists.
- Its output is RGB (``random_face`` flips it to BGR only for OpenCV), in [-1, 1]; noise is baked in.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ModelLoadError
from core.generators.coarse_head import apply_head, fit_head, load_head, save_head
from core.generators.ffhq_install import (
    DATA_FILES,
    FFHQ_MODEL,
    PACKAGE,
    PIP_COMMAND,
    VERSION,
    WHEEL_NAME,
    check_data,
    find_data,
)
from core.generators.openvino_ir import IRNetwork
from core.generators.style_based import StyleBasedGenerator, check_layer_range

WORKING_RESOLUTION = 256
RENDER_RESOLUTION = 1024
FEATURE_LAYER = "LeakyRelu_542"  # the activations [N, 256, 128, 128] drag editing follows (0.07 s on 2 cores)
FEATURE_CHANNELS = 256
BAND_LAYER = "Add_754"  # the last to-image output: the wavelet bands [N, 12, 512, 512] of the pinned graph
W_DIM = 512
log = logging.getLogger(__name__)
CPU_FACES_PER_PASS = 1  # a CPU runs a batch face by face: as fast per face as whole batches, at ~⅔ of the peak


class MobileStyleGANNet(nn.Module):
    """Mapping + synthesis graphs and ``w_avg`` (a buffer, so it travels with ``.to`` and deep copies)."""

    w_avg: torch.Tensor  # [w_dim]
    coarse_head: torch.Tensor  # [C + 1, 12], or empty until fitted

    def __init__(self, data: Path) -> None:
        super().__init__()
        self.mapping_net = IRNetwork(data / "MappingNetwork.xml", data / "MappingNetwork.bin").eval()
        self.synthesis_net = IRNetwork(data / "SynthesisNetwork.xml", data / "SynthesisNetwork.bin").eval()
        graph = self.synthesis_net
        self.style_inputs = sorted(graph.consumers(graph.input_id, "MatMul"), key=lambda edge: _gemm_number(
            graph.layer(edge[0]).name))  # [(layer, port)] of the style affines, coarse → fine
        bands = [layer.id for layer in graph.layers if layer.name == BAND_LAYER]
        features = [layer.id for layer in graph.layers if layer.name == FEATURE_LAYER]
        if not self.style_inputs or len(bands) != 1 or len(features) != 1:
            raise ModelLoadError("SynthesisNetwork.xml is not the MobileStyleGAN graph this version reads "
                                 "(its style inputs or its last wavelet layer are missing).")
        self.band_id, self.feature_id = bands[0], features[0]
        self.register_buffer("w_avg", torch.zeros(W_DIM))
        # the fitted to-image layer of the 128-px block (:mod:`.coarse_head`); empty until first needed
        self.register_buffer("coarse_head", torch.zeros(0), persistent=False)

    @property
    def num_ws(self) -> int:
        return len(self.style_inputs)

    def _feeds(self, ws: torch.Tensor) -> dict[tuple[str, str], torch.Tensor]:
        return {edge: ws[:, row] for row, edge in enumerate(self.style_inputs)}

    def render(self, ws: torch.Tensor) -> torch.Tensor:
        """ws [N, num_ws, w_dim] → the full images [N, 3, 1024, 1024]."""
        return self.synthesis_net(ws[:, 0], feeds=self._feeds(ws))

    def features(self, ws: torch.Tensor) -> torch.Tensor:
        """ws → the 128-px activations [N, 256, 128, 128] (only the graph up to them runs)."""
        return self.synthesis_net(ws[:, 0], feeds=self._feeds(ws), until=self.feature_id)

    def working(self, ws: torch.Tensor) -> torch.Tensor:
        """ws → images [N, 3, 256, 256]: the low-pass wavelet band (the 512-px image × 2), area-averaged."""
        bands = self.synthesis_net(ws[:, 0], feeds=self._feeds(ws), until=self.band_id)  # [N, 12, 512, 512]
        return F.avg_pool2d(bands[:, :3] * 0.5, 512 // WORKING_RESOLUTION)

    def coarse(self, ws: torch.Tensor) -> torch.Tensor:
        """ws → the coarse images [N, 3, 256, 256]: the 128-px features through the fitted head."""
        return apply_head(self.features(ws), self.coarse_head)

    def features_and_working(self, ws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both, for fitting the head: two passes (the features' blocks run twice), a one-off cost of ≈ 3 s."""
        return self.features(ws), self.working(ws)


def _gemm_number(name: str) -> int:
    match = re.match(r"Gemm_(\d+)", name)
    if match is None:
        raise ModelLoadError(f"SynthesisNetwork.xml has a style layer '{name}' this version cannot place.")
    return int(match.group(1))


class MobileStyleGANGenerator(StyleBasedGenerator):
    """The FFHQ model behind the :class:`Generator` interface: ``synthesize`` at 256 px, ``render`` at 1024."""

    net: MobileStyleGANNet

    def __init__(self, net: MobileStyleGANNet, name: str, model_id: str, info: dict[str, Any] | None = None,
                 w_avg: torch.Tensor | None = None) -> None:
        self.net = net.eval().requires_grad_(False)
        self.name = name
        self.model_id = model_id
        self.info = dict(info or {})
        self.resolution = WORKING_RESOLUTION
        self.device = net.w_avg.device
        self._init_spaces(W_DIM, net.num_ws, w_avg)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.mapping_net(z)

    def synthesize_ws(self, ws: torch.Tensor) -> torch.Tensor:
        """On a CPU a batch runs :data:`CPU_FACES_PER_PASS` faces a pass (``bench ffhq``: a step of 4 faces at
        once peaked 7.8 GB, face by face 5.1 GB, in the same ≈ 0.5 s a face; without the heap settings of
        :mod:`core.allocator`, whole batches were 1.45 s a face and face by face 0.5). Each pass is its own graph,
        so gradients are unchanged."""
        if ws.device.type != "cpu" or len(ws) <= CPU_FACES_PER_PASS:
            return self.net.working(ws)
        return torch.cat([self.net.working(part) for part in ws.split(CPU_FACES_PER_PASS)])

    has_coarse_image = True

    def synthesize_coarse_ws(self, ws: torch.Tensor) -> torch.Tensor:
        """The coarse working image (:mod:`.coarse_head`): ≈ 0.13 s a step here instead of ≈ 0.47."""
        self._ensure_coarse_head()
        if ws.device.type != "cpu" or len(ws) <= CPU_FACES_PER_PASS:
            return self.net.coarse(ws)
        return torch.cat([self.net.coarse(part) for part in ws.split(CPU_FACES_PER_PASS)])

    def prepare(self) -> None:
        self._ensure_coarse_head()

    def _ensure_coarse_head(self) -> None:
        if self.net.coarse_head.numel():
            return
        head = load_head(self.base_model_id, FEATURE_CHANNELS)
        if head is None:
            log.info("fitting FFHQ's coarse image layer (once; kept in the user data folder)")
            fidelity = self.fit_coarse_head()
            save_head(self.base_model_id, self.net.coarse_head, fidelity)
        else:
            self.net.coarse_head = head.to(self.device)

    def fit_coarse_head(self) -> float:
        """Fit the coarse image layer now and use it; returns its PSNR (dB) against the exact image."""
        head, fidelity = fit_head(self.net.features_and_working, self.w_avg, self.mapping, self.num_ws)
        self.net.coarse_head = head.to(self.device)
        return fidelity

    def drag_features(self, ws: torch.Tensor) -> torch.Tensor:
        return self.net.features(ws)

    @property
    def render_resolution(self) -> int:
        return RENDER_RESOLUTION

    def render(self, latent: torch.Tensor, space: str | None = None) -> torch.Tensor:
        """The full-resolution images [N, 3, 1024, 1024] of ``space`` codes (paste-back and export)."""
        return self.net.render(self.ws(latent, space))

    def style_weights(self, layers: tuple[int, int] | None = None) -> list[torch.Tensor]:
        """The style affines A [channels, w_dim] of the w+ rows in ``layers`` (half-open, default all), which SeFa
        factorises: the MatMul constants that read each row (stored transposed, as the exporter wrote them)."""
        start, stop = check_layer_range(self, layers)
        graph = self.net.synthesis_net
        weights = []
        for layer_id, port in self.net.style_inputs[start:stop]:
            layer = graph.layer(layer_id)
            other = next(p for p in layer.inputs if p != port)
            matrix = getattr(graph, f"const_{graph.edges[(layer_id, other)][0]}").detach()
            weights.append(matrix if layer.data.get("transpose_b") == "true" else matrix.T)
        return weights


def load_ffhq(device: torch.device | str = "cpu") -> MobileStyleGANGenerator:
    """The FFHQ model from the user's install, checked file by file first (:func:`ffhq_install.check_data`)."""
    folder = find_data()
    if folder is None:
        raise ModelLoadError(f"The FFHQ model is not installed. Install it with `{PIP_COMMAND}` in Landscape "
                             f"Studio's environment (make run does), or give the downloaded {WHEEL_NAME} to File → "
                             "Choose Model… → Install FFHQ from Wheel… (or `landscape-studio models install WHEEL`).")
    check_data(folder)
    net = MobileStyleGANNet(folder)
    info = {"format": "openvino-ir-v10", "package": f"{PACKAGE}=={VERSION}", "folder": str(folder),
            "licence": "non-commercial (NVIDIA Source Code License-NC, distilled FFHQ StyleGAN2)"}
    model_id = f"{FFHQ_MODEL}@{DATA_FILES['SynthesisNetwork.bin'][:16]}"
    G = MobileStyleGANGenerator(net, name="FFHQ MobileStyleGAN", model_id=model_id, info=info)
    G.to(device)
    return G
