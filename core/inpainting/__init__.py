"""Inpainting: masked inversion × K starts, ranked by fit, with a diversity figure (the photo job composites)."""

from core.inpainting.diverse import (
    DEFAULT_PRIOR,
    MAX_CPU_CANDIDATES,
    InpaintConfig,
    InpaintResult,
    blur_fill,
    inpaint,
    more_different,
    starts_like,
)

__all__ = ["DEFAULT_PRIOR", "MAX_CPU_CANDIDATES", "InpaintConfig", "InpaintResult", "blur_fill", "inpaint",
           "more_different", "starts_like"]
