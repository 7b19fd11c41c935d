"""Find the person a sentence describes in a group photo, and report their attributes.

``find_person(image, "the elderly woman in the red top")`` detects every face, fills its
attributes, and then asks a backend which person is meant:

* ``local`` (default, offline): :func:`~facescan.target.parse.parse_description` turns the
  sentence into constraints and :mod:`~facescan.target.score` scores every person with the
  attribute probabilities and colours measured around each face;
* a VLM (set-of-marks, :mod:`~facescan.target.marks`): numbered boxes are drawn on the image
  and the model answers which number fits, under a JSON schema. ``gpt-4o`` and
  ``openai:MODEL`` use the ``openai`` package, ``gemini[:MODEL]`` ``google-genai`` (both:
  ``pip install 'facescan[api]'``); any other
  model can be plugged in as ``ask=callable(image_rgb, prompt, json_schema) -> dict``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..io import ImageInput, load_image
from .parse import Constraint, Query, parse_description
from .result import STATUSES, Candidate, TargetResult

if TYPE_CHECKING:
    from ..pipeline import Analyzer

__all__ = ["STATUSES", "Candidate", "Constraint", "Query", "TargetResult", "find_person",
           "parse_description"]

Ask = Callable[[Any, str, dict], "dict | str"]


def find_person(image: ImageInput, description: str, backend: str = "local",
                analyzer: Analyzer | None = None, ask: Ask | None = None,
                api_base: str | None = None) -> TargetResult:
    """The person in ``image`` that ``description`` means, with their attributes.

    ``analyzer`` (an :class:`~facescan.Analyzer`, made with every attribute if omitted)
    detects the faces and fills race, gender, age, emotion and appearance. ``backend`` is
    ``"local"`` or a VLM (``"gpt-4o"``, ``"openai:MODEL"``, ``"gemini[:MODEL]"``); ``ask``
    overrides how the VLM is called (and then ``backend`` is only the name recorded in the result). The result's ``status`` says whether
    it is a clear match, ambiguous, no match, or why no answer could be given.
    """
    from ..pipeline import ALL_ATTRIBUTES, Analyzer
    from .marks import target_vlm
    from .score import target_local

    if not isinstance(description, str):
        raise ConfigError(f"description must be a string, got {type(description).__name__}")
    if backend != "local" and ask is None:
        from ..vlm import VLMOptions
        from .api_ask import api_ask
        from .marks import PROMPT_VERSION

        ask = api_ask(backend, VLMOptions(api_base=api_base), PROMPT_VERSION)
    rgb = load_image(image)
    analyzer = analyzer if analyzer is not None else Analyzer(ALL_ATTRIBUTES)
    faces = analyzer.analyze(rgb)
    if backend == "local" and ask is None:
        return target_local(rgb, faces, parse_description(description))
    assert ask is not None
    return target_vlm(rgb, faces, description, ask, backend)
