"""Photo-level jobs: one per user operation, shared by the CLI, the editor and (next) the batch runner.

Each takes a generator, a photo, its ``Placement`` and keyword-only settings, yields progress records (a job in
the sense of ``core.jobs``) and returns a result that includes the photo with the result composited at full
resolution. Rules that every caller must agree on — which θ a run uses, where a slice is centred, how a result is
pasted back — live here (or in ``core.placement``) once.
"""

from core.photo_jobs.compare import (
    DIFF_MAX,
    CompareStarted,
    CompareStep,
    Comparison,
    MethodDone,
    MethodOutcome,
    compare_methods,
    difference_map,
    score,
    write_export,
)
from core.photo_jobs.edit import PhotoEdit, edit_photo, edited_latent, render_latent
from core.photo_jobs.inpaint import FILL_FEATHER, PhotoInpainting, inpaint_photo
from core.photo_jobs.invert import PhotoInversion, invert_photo, model_inputs, result_reference
from core.photo_jobs.placing import align_face, placement_for
from core.photo_jobs.restore import PhotoRestoration, restore_photo
from core.photo_jobs.slice import SLICE_METHODS, PhotoSlice, slice_inversion_config, slice_photo
from core.photo_jobs.theta_rule import with_session_theta

__all__ = ["DIFF_MAX", "FILL_FEATHER", "SLICE_METHODS", "CompareStarted", "CompareStep", "Comparison",
           "MethodDone", "MethodOutcome", "PhotoEdit", "PhotoInpainting", "PhotoInversion", "PhotoRestoration",
           "PhotoSlice", "align_face", "compare_methods", "difference_map", "edit_photo", "edited_latent",
           "inpaint_photo", "invert_photo", "model_inputs", "placement_for", "render_latent", "restore_photo",
           "result_reference", "score", "slice_inversion_config", "slice_photo", "with_session_theta", "write_export"]
