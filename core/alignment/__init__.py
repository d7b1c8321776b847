"""Face alignment to the loaded model's own framing, and back.

``find_faces`` (MediaPipe BlazeFace + Face Mesh, offline) → ``framing_for(G)`` (where the model puts its faces) →
``align_faces`` (a similarity per face, photo → model pixels) → ``warp_to_model`` / ``unwarp_and_paste``.
"""

from core.alignment.align import Alignment, align_faces, align_transform, pick, unwarp_and_paste, warp_to_model
from core.alignment.faces import Face, find_faces
from core.alignment.framing import Framing, framing_for, known_framing, measure_framing

__all__ = ["Alignment", "Face", "Framing", "align_faces", "align_transform", "find_faces", "framing_for",
           "known_framing", "measure_framing", "pick", "unwarp_and_paste", "warp_to_model"]
