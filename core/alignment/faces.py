"""Find faces and their 468 Face Mesh landmarks in a photo, offline, with MediaPipe's own TFLite models.

The models ship in ``resources/face/`` (Apache-2.0; see ``packaging/fetch_face_models.py``) and run through
``ai-edge-litert``; the graph around them is ours, following MediaPipe's published calculator options:

* BlazeFace short range (``face_detection_short_range.pbtxt``): the photo letterboxed to 128×128 in [-1, 1];
  896 SSD anchors of fixed size 1 (strides 8, 16, 16, 16: a 16×16 grid with 2 anchors per cell, then an 8×8 grid
  with 6); regressors [x, y, w, h, 6 × (x, y)] in input pixels relative to the anchor centre; sigmoid scores
  (logits clipped to ±100) above 0.5; weighted non-maximum suppression at IoU 0.3.
* Face Mesh (``face_landmark_cpu.pbtxt``, ``face_detection_front_detection_to_roi.pbtxt``): a square crop 1.5×
  the detection's longer side, rotated so the detector's eye keypoints are level, at 192×192 in [0, 1]; 468
  (x, y, z) landmarks in crop pixels and a face-presence logit. We run it twice — the second crop is framed from
  the first pass's landmarks, as MediaPipe's tracking does — which steadies the eyes on tilted faces.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.alignment import geometry
from core.errors import InvalidInputError, ModelLoadError, NoFaceFoundError
from core.resources import resources_dir

log = logging.getLogger(__name__)

DETECTOR_SIZE = 128
MESH_SIZE = 192
STRIDES = (8, 16, 16, 16)
MIN_SCORE = 0.5  # detector threshold (MediaPipe's min_score_thresh)
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold
MIN_PRESENCE = 0.5  # Face Mesh face-presence probability below which a detection is dropped
ROI_SCALE = 1.5  # the mesh crop's side over the face box's longer side
# Face Mesh topology: contour landmarks of the eye on the image's left (the person's right eye), the other eye,
# and the lips (outer and inner). Means of these give stable eye and mouth centres.
EYE_LEFT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_RIGHT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415)


@dataclass(frozen=True, eq=False)  # eq=False: ndarray fields
class Face:
    """One face in a photo; every coordinate is in the photo's own continuous pixels (x right, y down)."""

    box: tuple[float, float, float, float]  # x, y, width, height of the detector's box
    score: float  # detector confidence in [0, 1]
    presence: float  # Face Mesh's face-presence probability in [0, 1]
    landmarks: np.ndarray  # float32 [468, 3]: x, y in photo pixels, z (depth) in the same units

    @property
    def eye_left(self) -> np.ndarray:
        """Centre of the eye on the image's left (the person's right eye), float64 [2]."""
        return self.landmarks[list(EYE_LEFT), :2].mean(0).astype(np.float64)

    @property
    def eye_right(self) -> np.ndarray:
        return self.landmarks[list(EYE_RIGHT), :2].mean(0).astype(np.float64)

    @property
    def mouth(self) -> np.ndarray:
        return self.landmarks[list(LIPS), :2].mean(0).astype(np.float64)

    def key_points(self) -> np.ndarray:
        """float64 [3, 2]: image-left eye, image-right eye, mouth — the points alignment fits."""
        return np.stack([self.eye_left, self.eye_right, self.mouth])

    def summary(self) -> dict[str, object]:
        r = lambda p: [round(float(v), 2) for v in p]  # noqa: E731
        return {"box": r(self.box), "score": round(self.score, 4), "presence": round(self.presence, 4),
                "eye_left": r(self.eye_left), "eye_right": r(self.eye_right), "mouth": r(self.mouth)}


class _Model:
    """A TFLite model with one input; ``run`` is serialised (an interpreter is not thread-safe)."""

    def __init__(self, name: str) -> None:
        path = resources_dir() / "face" / name
        if not path.is_file():
            raise ModelLoadError(f"The face model '{path}' is missing; reinstall, or run "
                                 "'python packaging/fetch_face_models.py' in a source checkout.")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise ModelLoadError("Face alignment needs the 'ai-edge-litert' package; run 'make venv' "
                                 "(or pip install ai-edge-litert).") from exc
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interpreter.set_tensor(self._input, x[None].astype(np.float32))
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(i)[0].copy() for i in self._outputs]


@functools.cache
def _detector() -> _Model:
    return _Model("face_detection_short_range.tflite")


@functools.cache
def _mesh() -> _Model:
    return _Model("face_landmark.tflite")


@functools.cache
def anchors() -> np.ndarray:
    """BlazeFace's 896 anchor centres, float32 [896, 2], as fractions of the 128-pixel input."""
    out = []
    i = 0
    while i < len(STRIDES):
        stride, per_cell = STRIDES[i], 0
        while i < len(STRIDES) and STRIDES[i] == stride:  # layers sharing a stride share one grid
            per_cell += 2  # aspect ratio 1 plus the interpolated scale
            i += 1
        cells = -(-DETECTOR_SIZE // stride)
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        out.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], 1), per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def find_faces(pixels: np.ndarray) -> list[Face]:
    """Every face in uint8 [H, W, 3] ``pixels``, largest first; raises ``NoFaceFoundError`` when there is none.

    The short-range detector sees the whole photo at 128×128, so it finds faces that fill a fair part of the
    frame (portraits, selfies), not small faces in a crowd.
    """
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidInputError(f"Face detection needs uint8 RGB pixels [H, W, 3], got "
                                f"{getattr(pixels, 'dtype', type(pixels).__name__)} {getattr(pixels, 'shape', '')}.")
    faces = []
    for box, score, keypoints in detect(pixels):
        face = _landmarks(pixels, box, score, keypoints)
        if face is not None:
            faces.append(face)
    if not faces:
        raise NoFaceFoundError("No face was found in the photo; use a photo where a face fills a good part of the "
                               "frame, upright and in focus, or set the crop by hand.")
    return sorted(faces, key=lambda f: -f.box[2] * f.box[3])


def detect(pixels: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """BlazeFace detections as (box [x, y, w, h], score, keypoints [6, 2]) in photo pixels, after NMS."""
    height, width = pixels.shape[:2]
    scale = DETECTOR_SIZE / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(np.ascontiguousarray(pixels)).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    canvas = np.zeros((DETECTOR_SIZE, DETECTOR_SIZE, 3), dtype=np.float32)
    ox, oy = (DETECTOR_SIZE - size[0]) // 2, (DETECTOR_SIZE - size[1]) // 2
    canvas[oy:oy + size[1], ox:ox + size[0]] = np.asarray(small, dtype=np.float32)
    regressors, logits = _detector().run(canvas / 127.5 - 1.0)  # [896, 16], [896, 1]
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0].astype(np.float64), -100.0, 100.0)))
    keep = scores >= MIN_SCORE
    raw, scores, centres = regressors[keep], scores[keep], anchors()[keep]
    boxes = np.empty((len(raw), 4), dtype=np.float64)  # normalised centre x, y, w, h
    boxes[:, :2] = raw[:, :2] / DETECTOR_SIZE + centres
    boxes[:, 2:] = raw[:, 2:4] / DETECTOR_SIZE
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) / DETECTOR_SIZE + centres[:, None, :]
    out = []
    for box, score, points in _weighted_nms(boxes, scores, keypoints):
        to_photo = lambda p: (p * DETECTOR_SIZE - [ox, oy]) / scale  # noqa: E731
        corner = to_photo(box[:2] - box[2:] / 2)
        out.append((np.array([*corner, *(box[2:] * DETECTOR_SIZE / scale)]), score, to_photo(points)))
    return out


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray) -> list[tuple]:
    """MediaPipe's WEIGHTED suppression: each cluster (IoU > 0.3 with its best) becomes its score-weighted mean."""
    order = list(np.argsort(-scores))
    out = []
    while order:
        best = order[0]
        overlaps = [i for i in order if _iou(boxes[best], boxes[i]) > NMS_IOU]
        w = scores[overlaps][:, None]
        box = (boxes[overlaps] * w).sum(0) / w.sum()
        points = (keypoints[overlaps] * w[:, :, None]).sum(0) / w.sum()
        out.append((box, float(scores[best]), points))
        order = [i for i in order if i not in overlaps]
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two centre-size boxes."""
    lo = np.maximum(a[:2] - a[2:] / 2, b[:2] - b[2:] / 2)
    hi = np.minimum(a[:2] + a[2:] / 2, b[:2] + b[2:] / 2)
    inter = float(np.prod(np.clip(hi - lo, 0.0, None)))
    union = float(a[2] * a[3] + b[2] * b[3]) - inter
    return inter / union if union > 0 else 0.0


def _landmarks(pixels: np.ndarray, box: np.ndarray, score: float, keypoints: np.ndarray) -> Face | None:
    """Face Mesh on a levelled crop around one detection, then once more on the crop its landmarks frame."""
    centre = box[:2] + box[2:] / 2
    side = ROI_SCALE * float(max(box[2], box[3]))
    points, presence = _mesh_pass(pixels, centre, side, keypoints[1] - keypoints[0])
    if presence < MIN_PRESENCE:
        log.info("dropped a detection (score %.2f): Face Mesh presence %.3f", score, presence)
        return None
    x, y, w, h = (float(v) for v in box)
    face = Face((x, y, w, h), score, presence, points)
    eyes = face.eye_right - face.eye_left
    ex = eyes / max(float(np.linalg.norm(eyes)), 1e-9)
    frame = np.stack([ex, [-ex[1], ex[0]]])  # rows: the levelled x and y axes
    along = points[:, :2].astype(np.float64) @ frame.T  # landmarks in the eye-levelled frame
    lo, hi = along.min(0), along.max(0)
    centre2 = ((lo + hi) / 2) @ frame
    side2 = ROI_SCALE * float((hi - lo).max())
    points2, presence2 = _mesh_pass(pixels, centre2, side2, eyes)
    if presence2 < MIN_PRESENCE:
        return face
    return Face(face.box, score, presence2, points2)


def _mesh_pass(pixels: np.ndarray, centre: np.ndarray, side: float, eye_line: np.ndarray) -> tuple[np.ndarray, float]:
    """Landmarks float32 [468, 3] in photo pixels and the presence probability, for one square crop whose x axis
    follows ``eye_line`` (image-left eye → image-right eye)."""
    norm = float(np.linalg.norm(eye_line))
    ex = eye_line / norm if norm > 0 else np.array([1.0, 0.0])
    ey = np.array([-ex[1], ex[0]])
    step = side / MESH_SIZE
    crop_to_photo = np.column_stack([ex * step, ey * step, centre - side / 2 * (ex + ey)])
    crop = geometry.render(pixels, crop_to_photo, MESH_SIZE)
    raw, flag = _mesh().run(crop.astype(np.float32) / 255.0)
    points = raw.reshape(468, 3).astype(np.float64)
    out = np.empty((468, 3), dtype=np.float32)
    out[:, :2] = geometry.apply(crop_to_photo, points[:, :2])
    out[:, 2] = points[:, 2] * step
    return out, float(1.0 / (1.0 + np.exp(-float(np.ravel(flag)[0]))))
