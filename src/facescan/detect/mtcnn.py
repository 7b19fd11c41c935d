"""MTCNN (Zhang et al. 2016), run by onnxruntime: a cascade of three small networks.

P-Net slides over an image pyramid (every scale that brings a face of ``min_face`` pixels or
more down to its 12-pixel window), R-Net re-scores each candidate box at 24x24 and O-Net at
48x48, where it also places the 5 landmarks. Boxes are refined by each stage's regression and
thinned by non-maximum suppression after each. The three ONNX files are built by
``facescan train mtcnn`` from the weights inside the pinned ``facenet-pytorch==2.6.0`` wheel.

Its boxes follow nearly the convention of YuNet's, on which the attribute models were trained
(on 199 UTKFace training faces: median IoU 0.89 between the two, centres 1-2% of the box size
apart, same width and height within 1%), so they are used as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, ModelError
from ..models import get_spec
from .base import Detection, merge

# P-Net's window and stride on its input
CELL, STRIDE = 12, 2


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, by_min: bool = False) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (overlap: IoU, or over the smaller box's
    area with ``by_min``), best score first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        h = np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        inter = np.maximum(w, 0) * np.maximum(h, 0)
        base = np.minimum(areas[i], areas[rest]) if by_min else areas[i] + areas[rest] - inter
        order = rest[inter <= threshold * np.maximum(base, 1e-9)]
    return np.array(keep, dtype=np.int64)


def square(boxes: np.ndarray) -> np.ndarray:
    """Each box grown to a square of its longer side about its centre."""
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def refine(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Apply a stage's box regression (offsets of each edge as fractions of the box side)."""
    size = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]] * 2, axis=1)
    return boxes + reg * size


def crops(rgb: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """The boxes cut out of ``rgb`` (black outside it), resized to ``size`` square: NCHW float32."""
    import cv2

    h, w = rgb.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.uint8)
    for k, (x1, y1, x2, y2) in enumerate(np.round(boxes).astype(np.int64)):
        if x2 <= x1 or y2 <= y1:
            continue
        patch = np.zeros((y2 - y1, x2 - x1, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
        if sx2 > sx1 and sy2 > sy1:
            patch[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = rgb[sy1:sy2, sx1:sx2]
        shrink = x2 - x1 > size
        out[k] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return out.transpose(0, 3, 1, 2).astype(np.float32)


class MTCNN:
    """MTCNN with 5 landmarks (in facescan's order).

    ``min_face``: the smallest face height searched for, in pixels of the photo as analysed
    (photos with a longer side over ``max_side`` are first shrunk to it). ``thresholds``: the
    P-, R- and O-Net scores a candidate needs to pass each stage; the O-Net score is the face's
    score. ``factor``: the step between pyramid scales. ``model_dir``: load the three ONNX files
    from this folder instead of the shipped, sha256-checked ones (for rebuilding them).
    """

    name = "mtcnn"

    def __init__(self, min_face: int = 16, thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
                 factor: float = 0.709, max_side: int = 1280, max_faces: int = 0, threads: int = 0,
                 model_dir: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # idle worker threads sleep instead of spinning: they left the other threads (OpenCV, Python,
        # a server's requests) less CPU; +8% faces/s for analyze on 2 cores (benchmarks/serve_bench.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._nets = {}
        for kind in ("pnet", "rnet", "onet"):
            name = f"mtcnn-{kind}"
            path = model_dir / f"{name}.onnx" if model_dir else get_spec(name).verified_path()
            try:
                self._nets[kind] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ModelError(f"model {name!r} failed to load from {path}: {exc}") from exc
        self.min_face, self.thresholds, self.factor = min_face, thresholds, factor
        self.max_side, self.max_faces = max_side, max_faces

    def _run(self, kind: str, batch: np.ndarray) -> list[np.ndarray]:
        return self._nets[kind].run(None, {"rgb": batch})

    def _candidates(self, rgb: np.ndarray, skip_below: float = 0.0) -> np.ndarray:
        """P-Net over the pyramid, without its scales for faces under ``skip_below`` pixels (the
        others as in the full search): rows (x1, y1, x2, y2, score), regressed, squared."""
        import cv2

        h, w = rgb.shape[:2]
        scale = CELL / self.min_face
        while CELL / scale < skip_below:
            scale *= self.factor
        found = []
        while min(h, w) * scale >= CELL:
            sw, sh = max(CELL, round(w * scale)), max(CELL, round(h * scale))
            small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            prob, reg = self._run("pnet", small.transpose(2, 0, 1)[None].astype(np.float32))
            ys, xs = np.nonzero(prob[0, 0] >= self.thresholds[0])
            if len(ys):
                fx, fy = sw / w, sh / h
                boxes = np.stack([STRIDE * xs / fx, STRIDE * ys / fy, (STRIDE * xs + CELL) / fx,
                                  (STRIDE * ys + CELL) / fy], axis=1)
                score = prob[0, 0, ys, xs]
                keep = nms(boxes, score, 0.5)
                found.append(np.concatenate([boxes[keep], score[keep, None], reg[0][:, ys[keep], xs[keep]].T], 1))
            scale *= self.factor
        if not found:
            return np.zeros((0, 5), np.float32)
        rows = np.concatenate(found)
        rows = rows[nms(rows[:, :4], rows[:, 4], 0.7)]
        return np.concatenate([square(refine(rows[:, :4], rows[:, 5:9])), rows[:, 4:5]], 1)

    def _stages(self, rgb: np.ndarray, skip_below: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(boxes with scores, landmarks (n, 5, 2)) in ``rgb``'s pixels."""
        rows = self._candidates(rgb, skip_below)
        if len(rows):
            prob, reg = self._run("rnet", crops(rgb, rows[:, :4], 24))
            ok = prob[:, 0] >= self.thresholds[1]
            rows = np.concatenate([rows[ok, :4], prob[ok]], 1)
            keep = nms(rows[:, :4], rows[:, 4], 0.7)
            rows = np.concatenate([square(refine(rows[keep, :4], reg[ok][keep])), rows[keep, 4:5]], 1)
        if not len(rows):
            return np.zeros((0, 5)), np.zeros((0, 5, 2))
        prob, reg, marks = self._run("onet", crops(rgb, rows[:, :4], 48))
        ok = prob[:, 0] >= self.thresholds[2]
        boxes, marks = rows[ok, :4], marks[ok]
        size = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], 1)
        points = boxes[:, None, :2] + np.stack([marks[:, :5], marks[:, 5:]], 2) * size[:, None, :]
        rows = np.concatenate([refine(boxes, reg[ok]), prob[ok]], 1)
        keep = nms(rows[:, :4], rows[:, 4], 0.7, by_min=True)
        return rows[keep], points[keep]

    def face_scores(self, rgb: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
        """O-Net's face probability for each box (made square, as MTCNN's own candidates) of an
        RGB image: a check of another detector's doubtful boxes."""
        if not boxes:
            return np.zeros(0, np.float32)
        squares = square(np.asarray(boxes, np.float64))
        return self._run("onet", crops(np.ascontiguousarray(rgb[:, :, :3]), squares, 48))[0][:, 0]

    def detect(self, image: np.ndarray, min_face: float | None = None) -> list[Detection]:
        """The faces in an RGB image; with ``min_face`` (pixels of ``image``), the pyramid's
        scales for smaller faces are skipped: a cheaper search for big faces."""
        import cv2

        h, w = image.shape[:2]
        f = min(1.0, self.max_side / max(h, w))
        rgb = np.ascontiguousarray(image[:, :, :3])
        if f < 1.0:
            rgb = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        rows, points = self._stages(rgb, (min_face or 0.0) * f)
        out = []
        for (x1, y1, x2, y2, score), marks in zip(rows, points):
            box = (max(0.0, x1 / f), max(0.0, y1 / f), min(float(w), x2 / f), min(float(h), y2 / f))
            if box[2] > box[0] and box[3] > box[1]:
                out.append(Detection(box, float(score), tuple((float(x / f), float(y / f)) for x, y in marks),
                                     self.name))
        return merge(out, self.max_faces)


def mtcnn_detector(scales: str | None = None, max_faces: int = 0) -> MTCNN:
    """``--detector mtcnn``: its image pyramid covers every scale, so ``scales`` must be automatic."""
    if scales not in (None, "auto"):
        raise ConfigError(f"--detect-scales {scales!r} applies to yunet only: mtcnn searches "
                          "every scale of its image pyramid")
    return MTCNN(max_faces=max_faces)
