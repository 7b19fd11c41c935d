"""Model facts as data: one :class:`ModelSpec` per weight file, checked by sha256 at load.

Weights are read from installed packages only (ours or a pinned registry package): facescan
never downloads anything.
"""

from __future__ import annotations

from ..errors import ConfigError
from .spec import Head, ModelSpec

__all__ = ["Head", "ModelSpec", "all_specs", "get_spec"]


def get_spec(name: str) -> ModelSpec:
    """The catalog's spec of model ``name``; ConfigError (naming the nearest) if there is none."""
    from .catalog import MODELS

    try:
        return MODELS[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(name, MODELS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConfigError(f"unknown model {name!r}{hint} (see `facescan models`)") from None


def all_specs() -> list[ModelSpec]:
    """Every model of the catalog, in its order."""
    from .catalog import MODELS

    return list(MODELS.values())
