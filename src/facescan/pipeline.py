"""The Analyzer: load models once, then detect -> crop -> attributes for many images."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from . import registry
from .align import crop_face
from .attributes import AttributeBackend, OnnxAttributeModel
from .detect import Detection, Detector, make_detector
from .errors import ConfigError, FacescanError
from .io import DEFAULT_MAX_PIXELS, ImageInput, load_image
from .labels import ALL_ATTRIBUTES, ATTRIBUTES, OPTIONAL_ATTRIBUTES  # noqa: F401 (re-exported)
from .models import get_spec
from .types import Face, ImageResult, Prediction

if TYPE_CHECKING:
    from .identity.verify import Verification

log = logging.getLogger(__name__)

UNCERTAIN = "uncertain"

DEFAULT_BACKEND = "facescan"
# what an image where the detector finds no face gives: nothing, or the whole image as one face
IF_NO_FACE = ("skip", "whole")
# ``found_by`` of that whole-image face
WHOLE_IMAGE = "whole-image"


def parse_attributes(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ATTRIBUTES
    names = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    bad = [n for n in names if n not in ALL_ATTRIBUTES]
    if bad or not names:
        raise ConfigError(f"unknown attribute(s) {bad or value!r}; choose from {', '.join(ALL_ATTRIBUTES)}")
    return tuple(dict.fromkeys(names))


def check_if_no_face(value: str) -> None:
    """Raise ConfigError unless ``value`` is one of :data:`IF_NO_FACE`."""
    if value not in IF_NO_FACE:
        raise ConfigError(f"if_no_face must be one of {', '.join(IF_NO_FACE)} (what an image where no face "
                          f"is found gives: nothing, or the whole image as one face), got {value!r}")


def check_backend(name: str) -> None:
    """Raise ConfigError unless ``name`` is an attribute backend or a vision-language backend
    (``NAME[:ARG]``) of :mod:`facescan.registry`."""
    from .vlm import is_vlm_backend

    if name not in registry.names("backend") and not is_vlm_backend(name):
        offered = [*registry.names("backend"), *(f"{v}[:ARG]" for v in registry.names("vlm"))]
        raise registry.unknown("backend", name, offered)


class Analyzer:
    """Finds every face in an image and fills the requested attributes.

    Models are loaded once in the constructor; :meth:`analyze_many` batches the faces of
    several images into one inference call per model (videos:
    :func:`facescan.video.analyze_video`). With ``if_no_face="whole"`` (default
    ``"skip"``: no face), an image where the detector finds nothing is analysed as one face
    covering the whole image, with score 0 and ``found_by="whole-image"`` (for inputs that are
    already face crops: a data set chip, a passport photo); :meth:`analyze`,
    :meth:`analyze_many` and :meth:`analyze_batch` take it per call too (None: the
    constructor's), so one Analyzer serves both. With
    ``abstain_below=p``, a prediction whose top probability is under ``p`` gets the label
    ``"uncertain"`` (its score and distribution are kept).

    ``backend`` is an attribute backend of :mod:`facescan.registry` (kind ``"backend"``) or a
    vision-language backend name such as
    ``"paligemma:PATH"`` or ``"gpt-4o"`` (see :mod:`facescan.vlm`), configured by
    ``backend_options`` (the fields of :class:`facescan.vlm.VLMOptions`). ``detect_scales``
    (``"auto"``/None, or multiples of the base scale such as ``"1,2"`` for faces under ~24
    pixels) tunes the YuNet detector (:class:`facescan.detect.YuNet`), ``max_faces`` (0: all)
    YuNet and MTCNN (``detector="mtcnn"``, :class:`facescan.detect.MTCNN`).
    ``embed`` fills each face's identity embedding: True with the default embedder, a string
    with that embedder (see :mod:`facescan.identity`); with ``embed`` set, ``attributes=()``
    computes embeddings alone. ``threads``: ONNX Runtime threads of each attribute model (0:
    one per core; a scale-out engine running several Analyzers on one machine sets it). ``gpu``:
    the attribute models run on CUDA (needs onnxruntime-gpu; detection and embeddings stay on the CPU).
    """

    def __init__(self, attributes: str | Sequence[str] | None = None, backend: str = DEFAULT_BACKEND,
                 detector: str | Detector = "yunet", min_score: float = 0.0,
                 max_pixels: int = DEFAULT_MAX_PIXELS, if_no_face: str = "skip",
                 abstain_below: float = 0.0, backend_options: Mapping[str, Any] | None = None,
                 detect_scales: str | None = None, max_faces: int = 0, embed: bool | str = False,
                 threads: int = 0, gpu: bool = False) -> None:
        from .identity import check_embedder, get_embedder
        from .vlm import is_vlm_backend, make_backend

        embed_name = None if embed is False else check_embedder(None if embed is True else embed)
        if not 0.0 <= abstain_below <= 1.0:
            raise ConfigError(f"abstain_below must be a probability in [0, 1], got {abstain_below}")
        check_if_no_face(if_no_face)
        embed_only = embed_name is not None and attributes is not None and len(attributes) == 0
        self.attributes = () if embed_only else parse_attributes(attributes)
        check_backend(backend)
        self.backend = backend
        vlm = make_backend(backend, self.attributes, backend_options) \
            if is_vlm_backend(backend) and not embed_only else None
        self._vlm = vlm
        provided: Mapping[str, str] = ({} if embed_only else registry.load("backend", backend)) if vlm is None \
            else {a: backend for a in vlm.provides}
        missing = [a for a in self.attributes if a not in provided]
        if missing:
            log.warning("backend %r does not provide %s: left out", backend, ", ".join(missing))
            self.attributes = tuple(a for a in self.attributes if a in provided)
        if not self.attributes and not embed_only:
            raise ConfigError(f"backend {backend!r} provides none of the requested attributes "
                              f"(it provides {', '.join(provided)})")
        self.detector = make_detector(detector, detect_scales, max_faces) if isinstance(detector, str) else detector
        self.min_score, self.max_pixels = min_score, max_pixels
        self.if_no_face = if_no_face
        self.abstain_below = abstain_below
        names = dict.fromkeys(provided[a] for a in self.attributes)
        # each model and the attributes it fills
        self.models: list[AttributeBackend] = [vlm] if vlm is not None else \
            [OnnxAttributeModel(get_spec(n), threads, gpu) for n in names]
        self._wanted = [tuple(a for a in self.attributes if provided[a] == n) for n in names]
        self.embedder = None if embed_name is None else get_embedder(embed_name)
        # the images of a batch are searched for faces in parallel where the detector allows it
        # (YuNet: +6-12% faces/s on 200 px chips with 2 cores, BENCHMARKS.md)
        self._detect_workers = min(threads or os.cpu_count() or 1, 8) \
            if getattr(self.detector, "thread_safe", False) else 1
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid that made it, pool)

    def usage(self) -> dict[str, Any]:
        """Requests, tokens and cost of API backends so far (empty for local models)."""
        return self._vlm.usage() if self._vlm is not None else {}

    def analyze(self, image: ImageInput, if_no_face: str | None = None) -> list[Face]:
        """Faces of one image (path, bytes, PIL image or RGB array), left to right."""
        return self._analyze_loaded([load_image(image, self.max_pixels)], self._no_face(if_no_face))[0]

    def analyze_many(self, sources: Iterable[ImageInput], batch_size: int = 16,
                     if_no_face: str | None = None) -> Iterator[ImageResult]:
        """One :class:`ImageResult` per source, in order; a bad source gives a result with
        ``error`` set and the rest go on."""
        if_no_face = self._no_face(if_no_face)
        batch: list[tuple[str, np.ndarray | None, str | None]] = []
        for source in sources:
            name = str(source) if not isinstance(source, (bytes, np.ndarray)) else f"<{type(source).__name__}>"
            try:
                batch.append((name, load_image(source, self.max_pixels), None))
            except FacescanError as exc:
                batch.append((name, None, str(exc)))
            if len(batch) >= batch_size:
                yield from self._run_batch(batch, if_no_face)
                batch = []
        if batch:
            yield from self._run_batch(batch, if_no_face)

    def _no_face(self, if_no_face: str | None) -> str:
        if if_no_face is None:
            return self.if_no_face
        check_if_no_face(if_no_face)
        return if_no_face

    def _run_batch(self, batch: list[tuple[str, np.ndarray | None, str | None]],
                   if_no_face: str) -> Iterator[ImageResult]:
        found, error = self.analyze_batch([img for _, img, _ in batch if img is not None], if_no_face)
        faces = iter(found)
        for name, img, err in batch:
            if img is None:
                log.warning("%s", err)
                yield ImageResult(name, [], err)
            else:
                h, w = img.shape[:2]
                yield ImageResult(name, next(faces), error, width=w, height=h)

    def analyze_batch(self, images: Sequence[np.ndarray],
                      if_no_face: str | None = None) -> tuple[list[list[Face]], str | None]:
        """The faces of each decoded RGB image (one batch: one inference call per model) and
        None; or, when a model fails, no faces for any image and the error that each records
        (what :func:`facescan.video.analyze_video` does with each batch of frames)."""
        if_no_face = self._no_face(if_no_face)
        try:
            return self._analyze_loaded(images, if_no_face), None
        except FacescanError as exc:
            return [[] for _ in images], f"analysis failed: {exc}"

    def _detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        def one(img: np.ndarray) -> list[Detection]:
            return [d for d in self.detector.detect(img) if d.score >= self.min_score]

        if len(images) < 2 or self._detect_workers < 2:
            return [one(img) for img in images]
        if self._pool is None or self._pool[0] != os.getpid():  # a forked worker makes its own
            self._pool = (os.getpid(), ThreadPoolExecutor(self._detect_workers, "facescan-detect"))
        return list(self._pool[1].map(one, images))

    def _analyze_loaded(self, images: Sequence[np.ndarray], if_no_face: str) -> list[list[Face]]:
        detections = self._detect(images)
        if if_no_face == "whole":
            for img, dets in zip(images, detections):
                if not dets:
                    dets.append(Detection((0.0, 0.0, float(img.shape[1]), float(img.shape[0])), 0.0, None, WHOLE_IMAGE))
        flat = [(i, d) for i, dets in enumerate(detections) for d in dets]
        attrs: list[dict[str, Prediction]] = [{} for _ in flat]
        for model, wanted in zip(self.models, self._wanted):
            crops = np.stack([crop_face(images[i], d.bbox, d.landmarks, model.crop, model.input_size)
                              for i, d in flat]) if flat else np.zeros((0, 1, 1, 3), np.uint8)
            for target, preds in zip(attrs, model.predict(crops, wanted)):
                target.update(preds)
        out: list[list[Face]] = [[] for _ in images]
        for (i, d), a in zip(flat, attrs):
            ordered = {k: self._maybe_abstain(a[k]) for k in self.attributes if k in a}
            out[i].append(Face(d.bbox, d.score, d.landmarks, ordered, found_by=d.source or None))
        for faces in out:  # reading order: left to right
            faces.sort(key=lambda f: (f.bbox[0], f.bbox[1]))
        if self.embedder is not None:
            name = self.embedder.name
            out = [[dataclasses.replace(f, embedding=e, embedding_model=name)
                    for f, e in zip(faces, self.embedder.embed(img, faces))] if faces else faces
                   for img, faces in zip(images, out)]
        return out

    def _maybe_abstain(self, pred: Prediction) -> Prediction:
        """Unparsed answers stay as they are: they are no low-confidence label."""
        if pred.unparsed or pred.score >= self.abstain_below:
            return pred
        return dataclasses.replace(pred, label=UNCERTAIN)


def analyze(image: ImageInput, attributes: str | Sequence[str] | None = None,
            backend: str = DEFAULT_BACKEND, detector: str = "yunet") -> list[Face]:
    """One-shot convenience: build an :class:`Analyzer` and analyse one image.

    Loading models takes a moment: for many images, make one Analyzer and reuse it.
    """
    return Analyzer(attributes, backend, detector).analyze(image)


def embed(image: ImageInput, model: str | None = None, detector: str = "yunet") -> list[Face]:
    """One-shot: the faces of one image with their identity embeddings (``model``: an embedder
    of :mod:`facescan.registry`, kind ``"embedder"``; None for the default); attributes are not computed.

    For many images, make one ``Analyzer(attributes=(), embed=model or True)`` and reuse it.
    """
    return Analyzer((), detector=detector, embed=model or True).analyze(image)


def verify(a: ImageInput, b: ImageInput, model: str | None = None, face_a: int | None = None,
           face_b: int | None = None, detector: str = "yunet") -> Verification:
    """Are the faces of images ``a`` and ``b`` the same person? A
    :class:`facescan.Verification`: cosine distance, same/different at the model's threshold,
    a calibrated probability, and which faces were compared (the largest of each image unless
    ``face_a``/``face_b``, 0-based left to right, say otherwise). An image without a face (or
    without face number N) raises ImageError."""
    from .identity.verify import verify_faces

    analyzer = Analyzer((), detector=detector, embed=model or True)
    def name(x: ImageInput, letter: str) -> str:
        return str(x) if isinstance(x, (str, os.PathLike)) else f"image {letter}"

    return verify_faces(analyzer.analyze(a), analyzer.analyze(b), face_a, face_b, (name(a, "A"), name(b, "B")))
