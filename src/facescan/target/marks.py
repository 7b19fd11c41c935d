"""VLM backend by set-of-marks prompting: numbered boxes on the image, a JSON-schema answer.

The pieces are pure functions: :func:`draw_marks` (the image the model sees),
:func:`build_prompt` and :func:`answer_schema` (what it is asked, versioned by
``PROMPT_VERSION``) and :func:`validate_answer` (what it said, checked against the boxes).
:func:`target_vlm` runs them with any ``ask(image_rgb, prompt, json_schema) -> dict | str``.
An answer that is not JSON, misses fields, names a box that does not exist or a label outside
the label sets becomes status ``invalid_answer`` with the reason and the raw answer kept:
never a guess.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..labels import AGE9, EMOTION8, FAIRFACE7_TO_UTK5, GENDER, RACE_FAIRFACE7
from ..types import Face
from .result import Candidate, TargetResult, attributes_of

log = logging.getLogger(__name__)

PROMPT_VERSION = "target-marks-v1"
LABEL_FIELDS: dict[str, tuple[str, ...]] = {"gender": GENDER, "age_group": AGE9,
                                            "race": RACE_FAIRFACE7, "emotion": EMOTION8}
TEXT_FIELDS = ("clothing_color", "hair_color", "reason")


def draw_marks(image: np.ndarray, boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """A copy of ``image`` with box i drawn and labelled ``i + 1`` (white on a coloured tag)."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(2, round(max(h, w) / 400))
    scale = max(0.6, max(h, w) / 900)
    for i, box in enumerate(boxes):
        x1, y1, x2, y2 = (round(v) for v in box)
        colour = ((230, 40, 40), (40, 90, 230), (30, 160, 60), (200, 40, 200))[i % 4]
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        text = str(i + 1)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        ty = y1 - 4 if y1 - th - base - 4 > 0 else min(h - 1, y2 + th + 4)
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw + 6, ty + base // 2), colour, -1)
        cv2.putText(out, text, (x1 + 3, ty - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thick, cv2.LINE_AA)
    return out


def build_prompt(description: str, n: int) -> str:
    return (
        f"The image shows {n} people, each face inside a box numbered 1 to {n}.\n"
        f"Which number is the person described as: \"{description.strip()}\"?\n"
        "Answer with JSON only, following the schema: `person` is the box number (0 if nobody "
        "fits); `ambiguous` is true if another box fits the description as well; then that "
        "person's apparent gender, age group, race and emotion, chosen from the schema's labels "
        "(null if nobody fits), the main colour of their upper clothing and of their hair in one "
        "or two plain words, and a one-sentence `reason`.")


def answer_schema(n: int) -> dict[str, Any]:
    """JSON schema of the answer for ``n`` boxes (strict: every field required, no others)."""
    props: dict[str, Any] = {
        "person": {"type": "integer", "enum": list(range(n + 1)),
                   "description": f"box number 1-{n}, or 0 if nobody fits"},
        "ambiguous": {"type": "boolean"},
    }
    for name, labels in LABEL_FIELDS.items():
        props[name] = {"type": ["string", "null"], "enum": [*labels, None]}
    for name in TEXT_FIELDS:
        props[name] = {"type": "string"}
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def validate_answer(answer: Any, n: int) -> tuple[dict[str, Any] | None, str | None]:
    """(the answer as a dict, None) when it is valid for ``n`` boxes, else (None, reason)."""
    if isinstance(answer, (str, bytes)):
        try:
            answer = json.loads(answer)
        except ValueError as exc:
            return None, f"answer is not JSON ({exc})"
    if not isinstance(answer, dict):
        return None, f"answer is a JSON {type(answer).__name__}, not an object"
    missing = [k for k in answer_schema(n)["required"] if k not in answer]
    if missing:
        return None, f"answer lacks field(s) {', '.join(missing)}"
    person = answer["person"]
    if isinstance(person, bool) or not isinstance(person, int):
        return None, f"person must be a box number, got {person!r}"
    if not 0 <= person <= n:
        return None, f"person {person} is not one of the boxes 1-{n} (or 0 for nobody)"
    if not isinstance(answer["ambiguous"], bool):
        return None, f"ambiguous must be true or false, got {answer['ambiguous']!r}"
    for name, labels in LABEL_FIELDS.items():
        value = answer[name]
        if value is None and person == 0:
            continue
        if value not in labels:
            return None, f"{name} {value!r} is not one of {', '.join(labels)}"
    for name in TEXT_FIELDS:
        if not isinstance(answer[name], str):
            return None, f"{name} must be a string, got {answer[name]!r}"
    return answer, None


def target_vlm(image: np.ndarray, faces: list[Face], description: str,
               ask: Callable[[np.ndarray, str, dict], Any], backend: str) -> TargetResult:
    """Ask a VLM which of the detected ``faces`` the description means."""
    extra = {"prompt_version": PROMPT_VERSION}
    if not faces:
        return TargetResult(description, backend, "no_faces", "no face was found in the image",
                            extra=extra)
    n = len(faces)
    raw = ask(draw_marks(image, [f.bbox for f in faces]), build_prompt(description, n), answer_schema(n))
    answer, error = validate_answer(raw, n)
    if answer is None:
        log.warning("%s: invalid answer: %s", backend, error)
        return TargetResult(description, backend, "invalid_answer", f"the model's answer was invalid: {error}",
                            error=error, raw=raw, extra=extra)
    extra["reason"] = answer["reason"]
    if answer["person"] == 0:
        return TargetResult(description, backend, "no_match", "the model says nobody fits the description",
                            raw=answer, extra=extra)
    from .score import measure_people

    index = answer["person"] - 1
    chosen = Candidate(index, faces[index].bbox, 1.0)
    attributes = {k: answer[k] for k in LABEL_FIELDS} | {
        "race_utk5": FAIRFACE7_TO_UTK5[answer["race"]],
        "clothing_color": answer["clothing_color"], "hair_color": answer["hair_color"]}
    person = {"attributes": attributes, "local_attributes": attributes_of(faces[index]),
              "physical": measure_people(image, faces)[index].to_dict()}
    status = "ambiguous" if answer["ambiguous"] else "match"
    message = f"person #{index + 1}" + (" (the model says others fit as well)" if answer["ambiguous"] else "")
    return TargetResult(description, backend, status, message, chosen, (chosen,), person=person,
                        raw=answer, extra=extra)
