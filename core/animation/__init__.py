"""Animations: an edit swept from a to b, a walk through latents or an inversion's progress, as MP4 or GIF."""

from core.animation.clip_writer import CLIP_FORMATS, GIF_MAX_SIDE, ClipWriter, check_max_side, clip_format, frame_size
from core.animation.clips import (
    AnimationProgress,
    AnimationResult,
    Backdrop,
    Sweep,
    backdrop_for,
    progress_latents,
    sweep_latents,
    walk_latents,
    write_animation,
)
from core.animation.timing import EASINGS, ClipTiming, ease, interpolate

__all__ = [
    "CLIP_FORMATS",
    "EASINGS",
    "GIF_MAX_SIDE",
    "AnimationProgress",
    "AnimationResult",
    "Backdrop",
    "ClipTiming",
    "ClipWriter",
    "Sweep",
    "backdrop_for",
    "check_max_side",
    "clip_format",
    "ease",
    "frame_size",
    "interpolate",
    "progress_latents",
    "sweep_latents",
    "walk_latents",
    "write_animation",
]
