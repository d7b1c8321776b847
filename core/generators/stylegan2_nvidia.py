"""Load NVIDIA stylegan2-ada-pytorch network pickles (``.pkl``) into our :class:`StyleGAN2Net`.

The pickle is read as data by :mod:`.safe_pickle` (nothing in it runs); this module turns NVIDIA's
``training/networks.py`` ``Generator`` state dict into rosinality's names. What had to match (read from NVIDIA's
``networks.py``, ``conv2d_resample.py``, ``upfirdn2d.py`` and ``bias_act.py``):

- every ``FullyConnectedLayer`` stores its weight unscaled and applies weight × lr_multiplier/√in, bias ×
  lr_multiplier at run time, as our ``EqualLinear`` does: mapping ``fc{i}`` → ``style.{i+1}`` (lr from
  ``mapping_kwargs.lr_multiplier``, default 0.01; lrelu × √2), ``affine`` → ``conv.modulation`` unchanged.
- synthesis weights [out, in, k, k] → [1, out, in, k, k]. NVIDIA modulates and demodulates the raw weight (no
  1/√(in·k²)); we scale first, which demodulation cancels except inside its 1e-8 epsilon (float32 noise).
- ``conv0`` (up = 2, ``flip_weight=False``): conv2d_resample runs the per-sample weight, in/out transposed and
  *not* flipped, through a stride-2 transposed conv with no padding, then the [1,3,3,1] filter × 4 with padding
  (1, 1) — exactly rosinality's up-sampling conv, so the weights copy as they are (no flip; TensorFlow-era
  converters flip, PyTorch pickles must not). The test checks it against the other ordering (FIR up first, then a
  true convolution).
- to-RGB: styles × 1/√in, no demodulation (= our 1×1 scale); bias [3] → [1, 3, 1, 1]. The skip is
  ``upsample2d`` with the same filter: zero insertion, padding (2, 1), gain 4 (= our ``Upsample``).
- noise: ``noise_const`` [r, r] × ``noise_strength`` added after the conv, before bias + lrelu × √2 →
  ``noises.noise_i`` [1, 1, r, r] and ``noise.weight`` [1]; layers without noise get strength 0.
- ws: block b{res} reads ws[k : k + num_conv + num_torgb] and advances by num_conv, i.e. conv1 of 4 px ws[0],
  its to-RGB ws[1], and each level's convs/to-RGB ws[i], ws[i+1], ws[i+2] — rosinality's order.
- ``mapping.w_avg`` → the truncation centre (``w_avg + ψ (w − w_avg)``, NVIDIA's ``lerp``).
- ``conv_clamp``: bias_act clamps after the activation gain (styled convs) and after the bias (to-RGB); kept.
- ``num_fp16_res`` only chooses fp16 for the top blocks on NVIDIA's GPUs (with a max-norm pre-scaling that
  demodulation undoes); we compute in float32 throughout, i.e. NVIDIA's ``force_fp32=True`` output.

Refused with a message: conditional models (c_dim > 0), 'orig'/'resnet' architectures, other filters, kernel
sizes or activations, z_dim ≠ w_dim, non-RGB output, StyleGAN3 pickles, and missing, misshapen or unused tensors.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from core.errors import InvalidInputError, ModelLoadError
from core.generators.checked_build import build_checked, check_weights
from core.generators.safe_pickle import load_nvidia_pickle
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator, StyleGAN2Net
from core.generators.stylegan2_checkpoints import file_digest
from core.generators.stylegan2_layers import BLUR_KERNEL, make_kernel

log = logging.getLogger(__name__)

FORMAT = "nvidia-stylegan2-ada-pkl"
_TOP_LEVEL = {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "synthesis_kwargs",
              "epochs"}  # Generator's own kwargs; the rest are synthesis kwargs (stylegan3's networks_stylegan2)
_KNOWN_SYNTHESIS = {"channel_base", "channel_max", "num_fp16_res", "conv_clamp", "fp16_channels_last", "channels_last",
             "fused_modconv_default", "architecture", "resample_filter", "kernel_size", "activation", "use_noise"}
_MAPPING_KNOWN = {"num_layers", "lr_multiplier", "activation", "layer_features", "embed_features", "w_avg_beta",
                  "num_ws", "z_dim", "c_dim", "w_dim"}


def load_nvidia_stylegan2(path: str | Path, device: torch.device | str = "cpu") -> StyleGAN2Generator:
    """An NVIDIA stylegan2-ada-pytorch ``.pkl`` (``G_ema``, else ``G``) → a ready generator."""
    path = Path(path)
    data = load_nvidia_pickle(path)
    config = nvidia_config(data["init_kwargs"], data["state_dict"], path.name)
    state, w_avg = convert_state_dict(data["state_dict"], config, path.name)
    check_weights(state, path.name)
    net = build_checked(lambda: StyleGAN2Net(config), {k: v.shape for k, v in state.items()}, path.name, "StyleGAN2")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0] if first else type(exc).__name__
        raise ModelLoadError(f"'{path.name}' does not match the StyleGAN2 layout its settings describe "
                             f"({detail[:200]}).") from exc
    net.to(device)
    digest, name = file_digest(path), path.stem
    info = {"format": FORMAT, "file_sha256": digest, "source_sha256": data["source_sha256"],
            "network": data["network"], "class_name": data["class_name"]}
    return StyleGAN2Generator(net, name=name, model_id=f"{name}@{digest[:16]}", w_avg=w_avg, info=info)


# ------------------------------------------------------------------------------------------- configuration


def nvidia_config(kwargs: dict[str, Any], state: dict[str, torch.Tensor], label: str) -> StyleGAN2Config:
    """Our config from the Generator's stored init kwargs; refuses what our network cannot compute."""
    _check_family(state, label)
    mapping = dict(kwargs.get("mapping_kwargs") or {})
    synthesis = _synthesis_kwargs(kwargs)
    try:
        z_dim, w_dim, c_dim = int(kwargs["z_dim"]), int(kwargs["w_dim"]), int(kwargs.get("c_dim") or 0)
        resolution, channels = int(kwargs["img_resolution"]), int(kwargs.get("img_channels", 3))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"'{label}' does not say its generator's sizes ({exc}); it is not a "
                             "stylegan2-ada-pytorch network pickle.") from exc
    if c_dim > 0:
        raise ModelLoadError(f"'{label}' is a conditional generator (c_dim = {c_dim}: it needs a class label). "
                             "Landscape Studio inverts unconditional models only.")
    if z_dim != w_dim:
        raise ModelLoadError(f"'{label}' has z_dim {z_dim} ≠ w_dim {w_dim}, which this version cannot load.")
    if channels != 3:
        raise ModelLoadError(f"'{label}' makes {channels}-channel images; only RGB generators can be loaded.")
    _check_options(mapping, synthesis, w_dim, label)
    clamp = synthesis.get("conv_clamp")
    try:
        config = StyleGAN2Config(
            resolution=resolution, style_dim=w_dim, n_mlp=int(mapping.get("num_layers", 8)),
            channel_max=int(synthesis.get("channel_max", 512)), lr_mlp=float(mapping.get("lr_multiplier", 0.01)),
            channel_base=int(synthesis.get("channel_base", 32768)),
            conv_clamp=None if clamp is None else float(clamp))
        config.validate()
    except (InvalidInputError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"'{label}' has settings this StyleGAN2 cannot build: {exc}") from exc
    return config


def _check_family(state: dict[str, torch.Tensor], label: str) -> None:
    if any(k.startswith(("synthesis.input.", "synthesis.L0_")) for k in state):
        raise ModelLoadError(f"'{label}' is a StyleGAN3 generator; only StyleGAN2 (stylegan2-ada-pytorch) pickles "
                             "can be loaded.")
    if "synthesis.b4.const" not in state or "mapping.fc0.weight" not in state:
        raise ModelLoadError(f"'{label}' holds a network that is not a StyleGAN2 generator (no 4×4 constant or "
                             "mapping layers).")


def _synthesis_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """synthesis_kwargs, plus the top-level ones stylegan3's ``networks_stylegan2.Generator`` passes through."""
    synthesis = dict(kwargs.get("synthesis_kwargs") or {})
    for key, value in kwargs.items():
        if key not in _TOP_LEVEL:
            synthesis.setdefault(key, value)
    return synthesis


def _check_options(mapping: dict[str, Any], synthesis: dict[str, Any], w_dim: int, label: str) -> None:
    """Options that change the maths without changing any tensor; the tensors themselves are checked later."""
    refusals = {
        "architecture": (synthesis.get("architecture", "skip"), "skip"),
        "activation": (synthesis.get("activation", "lrelu"), "lrelu"),
        "mapping activation": (mapping.get("activation", "lrelu"), "lrelu"),
        "kernel_size": (synthesis.get("kernel_size", 3), 3),
        "resample_filter": (list(synthesis.get("resample_filter", BLUR_KERNEL)), list(BLUR_KERNEL)),
        "mapping layer_features": (mapping.get("layer_features") or w_dim, w_dim),
    }
    for what, (value, expected) in refusals.items():
        if value != expected:
            raise ModelLoadError(f"'{label}' uses {what} {value!r}; only StyleGAN2's {expected!r} (config F, "
                                 "as in NVIDIA's paper configs) can be loaded.")
    unknown = sorted(set(synthesis) - _KNOWN_SYNTHESIS) + sorted(f"mapping.{k}" for k in set(mapping) - _MAPPING_KNOWN)
    if unknown:
        log.warning("%s: ignoring generator options this loader does not know: %s", label, ", ".join(unknown))


# ------------------------------------------------------------------------------------------- tensors


class _Source:
    """NVIDIA tensors handed out by name, as float32, remembering which were used."""

    def __init__(self, state: dict[str, torch.Tensor], label: str) -> None:
        self.state, self.label = state, label
        self.used: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.state

    def take(self, name: str) -> torch.Tensor:
        if name not in self.state:
            raise ModelLoadError(f"'{self.label}' lacks the tensor '{name}' that a StyleGAN2 generator of its "
                                 "settings has; the file is damaged or from another architecture.")
        self.used.add(name)
        tensor = self.state[name]
        return (tensor.float() if tensor.is_floating_point() else tensor).contiguous()

    def check_all_used(self) -> None:
        unused = sorted(set(self.state) - self.used)
        if unused:
            listed = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
            raise ModelLoadError(f"'{self.label}' has tensors a StyleGAN2 'skip' generator does not use ({listed}); "
                                 "it is another architecture or a modified network.")


def convert_state_dict(state: dict[str, torch.Tensor], config: StyleGAN2Config,
                       label: str = "network") -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """NVIDIA names → rosinality names (see the module docstring), and ``mapping.w_avg`` [w_dim] (None if absent)."""
    src = _Source(state, label)
    out: dict[str, torch.Tensor] = {}
    try:
        for i in range(config.n_mlp):
            out[f"style.{i + 1}.weight"] = src.take(f"mapping.fc{i}.weight")
            out[f"style.{i + 1}.bias"] = src.take(f"mapping.fc{i}.bias")
        out["input.input"] = src.take("synthesis.b4.const")[None]  # [1, C, 4, 4]
        _styled_conv(out, src, "conv1", "synthesis.b4.conv1", 0, 4)
        _to_rgb(out, src, "to_rgb1", "synthesis.b4.torgb")
        _check_filter(src, "synthesis.b4.resample_filter")
        for i, level in enumerate(range(3, config.log_size + 1)):
            res, block = 2**level, f"synthesis.b{2**level}"
            _styled_conv(out, src, f"convs.{2 * i}", f"{block}.conv0", 2 * i + 1, res)
            _styled_conv(out, src, f"convs.{2 * i + 1}", f"{block}.conv1", 2 * i + 2, res)
            _to_rgb(out, src, f"to_rgbs.{i}", f"{block}.torgb")
            _check_filter(src, f"{block}.resample_filter")
            out[f"convs.{2 * i}.conv.blur.kernel"] = make_kernel() * 4  # gain up² as NVIDIA's conv2d_resample
            out[f"to_rgbs.{i}.upsample.kernel"] = make_kernel() * 4
        w_avg = src.take("mapping.w_avg").reshape(-1) if "mapping.w_avg" in src else None
    except RuntimeError as exc:  # a reshape of a tensor of the wrong size
        raise ModelLoadError(f"'{label}' has a tensor of the wrong shape for its settings ({exc}).") from exc
    src.check_all_used()
    if w_avg is not None and w_avg.numel() != config.style_dim:
        raise ModelLoadError(f"'{label}': mapping.w_avg has {w_avg.numel()} values, not w_dim = {config.style_dim}.")
    return out, w_avg


def _styled_conv(out: dict[str, torch.Tensor], src: _Source, ours: str, theirs: str, noise_idx: int,
                 res: int) -> None:
    """SynthesisLayer ``theirs`` → StyledConv ``ours`` and its noise buffer ``noises.noise_{noise_idx}``."""
    out[f"{ours}.conv.weight"] = src.take(f"{theirs}.weight")[None]  # [1, out, in, 3, 3]
    out[f"{ours}.conv.modulation.weight"] = src.take(f"{theirs}.affine.weight")
    out[f"{ours}.conv.modulation.bias"] = src.take(f"{theirs}.affine.bias")
    out[f"{ours}.activate.bias"] = src.take(f"{theirs}.bias")
    if f"{theirs}.noise_strength" in src or f"{theirs}.noise_const" in src:
        out[f"{ours}.noise.weight"] = src.take(f"{theirs}.noise_strength").reshape(1)
        out[f"noises.noise_{noise_idx}"] = src.take(f"{theirs}.noise_const")[None, None]  # [1, 1, r, r]
    else:  # use_noise=False: no noise at all, whatever the noise mode
        out[f"{ours}.noise.weight"] = torch.zeros(1)
        out[f"noises.noise_{noise_idx}"] = torch.zeros(1, 1, res, res)
    _check_filter(src, f"{theirs}.resample_filter")


def _to_rgb(out: dict[str, torch.Tensor], src: _Source, ours: str, theirs: str) -> None:
    out[f"{ours}.conv.weight"] = src.take(f"{theirs}.weight")[None]  # [1, 3, in, 1, 1]
    out[f"{ours}.conv.modulation.weight"] = src.take(f"{theirs}.affine.weight")
    out[f"{ours}.conv.modulation.bias"] = src.take(f"{theirs}.affine.bias")
    out[f"{ours}.bias"] = src.take(f"{theirs}.bias").reshape(1, -1, 1, 1)


def _check_filter(src: _Source, name: str) -> None:
    """A stored ``resample_filter`` must be setup_filter([1, 3, 3, 1]), the one our layers hard-wire."""
    if name not in src:
        return
    f = src.take(name)
    if f.shape != (4, 4) or not torch.allclose(f, make_kernel(), atol=1e-6):
        raise ModelLoadError(f"'{src.label}' resamples with a filter other than StyleGAN2's [1, 3, 3, 1] ({name}); "
                             "it cannot be loaded.")
