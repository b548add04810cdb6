"""Face detection shared by the face tools (smart-crop, passport-photo, content-aware-resize, blur-faces...).

    from app.engine.media import faces
    found = faces.detect_faces(rgb)          # rgb: H x W x 3 uint8 numpy array
    for f in found: f.x, f.y, f.w, f.h, f.score, f.eyes, f.landmarks

YuNet (opencv_zoo, a download of the face-detection bundle) is used when installed, otherwise OpenCV's
Haar cascade for frontal faces, which ships with opencv-python-headless. Both need the face-detection
bundle's packages; `detect_faces` raises FeatureNotInstalled (-> 501) when they or the cascade are
missing. `detector_name()` tells which detector the next call will use (tools put it in their answer).

numpy and cv2 are imported inside the functions: the server imports tool modules to build its catalog
and must not load them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from app.engine.ai import bundles

BUNDLE = "face-detection"
HAAR_FACE = "haar-frontalface"
HAAR_EYE = "haar-eye"
YUNET = "yunet"

# Detection runs on a copy whose long side is at most this (faces below ~20 px at that scale are lost).
DETECT_MAX_SIDE = 1280

Point = tuple[float, float]


@dataclass
class Face:
    """A face box in the input image's pixels; score 0..1 (higher = surer)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    eyes: list[Point] = field(default_factory=list)  # centres, left-to-right in the image; [] if not found
    landmarks: dict[str, Point] = field(default_factory=dict)  # YuNet: eyes, nose, mouth corners

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def box(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) rounded to whole pixels."""
        return round(self.x), round(self.y), round(self.w), round(self.h)

    def to_json(self) -> dict[str, Any]:
        left, top, width, height = self.box()
        out: dict[str, Any] = {"x": left, "y": top, "width": width, "height": height, "score": round(self.score, 3)}
        if self.eyes:
            out["eyes"] = [{"x": round(ex, 1), "y": round(ey, 1)} for ex, ey in self.eyes]
        if self.landmarks:
            out["landmarks"] = {k: {"x": round(px, 1), "y": round(py, 1)} for k, (px, py) in self.landmarks.items()}
        return out


def detector_name() -> str:
    """ "yunet" when YuNet is installed, else "haar" (raises FeatureNotInstalled if neither can run)."""
    if bundles.model_present(YUNET):
        return "yunet"
    bundles.model_path(HAAR_FACE, BUNDLE)
    return "haar"


def available() -> bool:
    """Whether detect_faces can run here (the bundle's packages and at least the cascade are present)."""
    return bundles.model_present(YUNET) or bundles.model_present(HAAR_FACE)


def detect_faces(rgb: Any, sensitivity: float = 0.5, *, eyes: bool = True) -> list[Face]:
    """Faces in an RGB (or grey, or RGBA) uint8 image, largest first.

    sensitivity 0..1: higher finds more faces (and more false ones). eyes=True also looks for the two
    eye centres of each Haar face (YuNet always gives them). Raises FeatureNotInstalled (-> 501) when
    the face-detection bundle's packages are missing."""
    bundles.check_feature(BUNDLE)
    import numpy as np

    image = np.asarray(rgb)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    sensitivity = min(1.0, max(0.0, float(sensitivity)))
    height, width = image.shape[:2]
    if min(height, width) < 8:
        return []
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    small = image
    if scale < 1.0:
        import cv2

        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    found = _yunet(small, sensitivity) if bundles.model_present(YUNET) else _haar(small, sensitivity, eyes)
    if scale < 1.0:
        found = [_rescale(f, 1 / scale) for f in found]
    found.sort(key=lambda f: f.w * f.h, reverse=True)
    return found


def _rescale(face: Face, k: float) -> Face:
    return Face(
        face.x * k,
        face.y * k,
        face.w * k,
        face.h * k,
        face.score,
        [(x * k, y * k) for x, y in face.eyes],
        {name: (x * k, y * k) for name, (x, y) in face.landmarks.items()},
    )


_lock = threading.Lock()
_cascades: dict[str, Any] = {}


def _cascade(model_id: str) -> Any:
    import cv2

    path = str(bundles.model_path(model_id, BUNDLE))
    with _lock:
        found = _cascades.get(path)
        if found is None:
            found = cv2.CascadeClassifier(path)
            if found.empty():
                raise RuntimeError(f"OpenCV could not load the cascade {path}")
            _cascades[path] = found
        return found


def _haar(rgb: Any, sensitivity: float, want_eyes: bool) -> list[Face]:
    import cv2

    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    height, width = grey.shape
    # sensitivity 0 -> 9 neighbours (strict), 1 -> 2 (finds faint, turned or small faces)
    neighbours = max(2, round(9 - 7 * sensitivity))
    smallest = max(20, round(min(height, width) * (0.08 - 0.05 * sensitivity)))
    boxes, counts = _cascade(HAAR_FACE).detectMultiScale2(
        grey, scaleFactor=1.1, minNeighbors=neighbours, minSize=(smallest, smallest)
    )
    faces = []
    for (x, y, w, h), n in zip(boxes, counts, strict=False):
        score = float(n) / (float(n) + 4.0)  # more overlapping hits = surer; 0.5 at 4 neighbours
        face = Face(float(x), float(y), float(w), float(h), score)
        if want_eyes:
            face.eyes = _haar_eyes(grey, face)
        faces.append(face)
    return _suppress(faces)


def _haar_eyes(grey: Any, face: Face) -> list[Point]:
    """The two eye centres in the upper half of a face box, or [] when the eye cascade finds no pair."""
    x, y, w, h = (round(v) for v in (face.x, face.y, face.w, face.h))
    top = grey[y : y + h // 2 + h // 10, x : x + w]
    if top.size == 0:
        return []
    side = max(8, w // 8)
    found = _cascade(HAAR_EYE).detectMultiScale(top, scaleFactor=1.1, minNeighbors=4, minSize=(side, side))
    if len(found) < 2:
        return []
    centres = sorted(((ex + ew / 2, ey + eh / 2, ew * eh) for ex, ey, ew, eh in found), key=lambda c: -c[2])
    left, right = sorted(centres[:2], key=lambda c: c[0])
    if right[0] - left[0] < w * 0.2:  # two hits on one eye
        return []
    return [(x + left[0], y + left[1]), (x + right[0], y + right[1])]


def _suppress(faces: list[Face], overlap: float = 0.3) -> list[Face]:
    """Drops boxes mostly inside a bigger, surer one (the cascade reports nested hits)."""
    faces = sorted(faces, key=lambda f: (f.score, f.w * f.h), reverse=True)
    kept: list[Face] = []
    for f in faces:
        if all(_iou(f, k) < overlap and not _inside(f, k) for k in kept):
            kept.append(f)
    return kept


def _iou(a: Face, b: Face) -> float:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def _inside(a: Face, b: Face) -> bool:
    return a.x >= b.x and a.y >= b.y and a.x + a.w <= b.x + b.w and a.y + a.h <= b.y + b.h


_yunets: dict[str, Any] = {}


def _yunet(rgb: Any, sensitivity: float) -> list[Face]:
    import cv2

    path = str(bundles.model_path(YUNET, BUNDLE))
    height, width = rgb.shape[:2]
    threshold = 0.9 - 0.5 * sensitivity  # 0.9 strict .. 0.4 permissive
    with _lock:
        detector = _yunets.get(path)
        if detector is None:
            detector = cv2.FaceDetectorYN.create(path, "", (width, height), threshold, 0.3, 5000)
            _yunets[path] = detector
        detector.setInputSize((width, height))
        detector.setScoreThreshold(threshold)
        _, rows = detector.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    faces = []
    for row in rows if rows is not None else []:
        x, y, w, h = (float(v) for v in row[:4])
        pts = [(float(row[4 + 2 * i]), float(row[5 + 2 * i])) for i in range(5)]
        names = ("rightEye", "leftEye", "nose", "mouthRight", "mouthLeft")  # the subject's right/left
        landmarks = dict(zip(names, pts, strict=True))
        eyes = sorted(pts[:2], key=lambda p: p[0])
        faces.append(Face(max(0.0, x), max(0.0, y), w, h, float(row[14]), eyes, landmarks))
    return faces
