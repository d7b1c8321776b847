"""PyInstaller runtime hook: on CPU-only torch, ``import torchvision`` registers fake kernels for
``torchvision::nms`` and ``torchvision::qnms`` before its compiled ops are loaded in the frozen layout, and fails when
the op schemas do not exist yet. Defining the two schemas first (as the compiled library would) lets it import.
Runs before the app. Only for Linux's CPU torch wheel: where torchvision's compiled ops do load (PyPI's Windows and
macOS builds), defining the schemas first makes their registration fail, so those specs leave this hook out."""

try:
    import torch

    _lib = torch.library.Library("torchvision", "DEF")
    _lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
except Exception:  # already defined (or torch missing): torchvision's own import reports any real problem
    pass
