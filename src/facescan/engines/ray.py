"""The Ray Data engine (``--engine ray``): the same analysis in a pool of actors, each holding
one loaded Analyzer, on a local Ray cluster or an existing one.

Inputs are read as binary files (``ray.data.read_binary_files``: local paths, or URLs that
pyarrow's filesystems read, such as ``s3://`` and ``gs://``), analysed in batches by
:class:`facescan.batch.BatchAnalyzer` (the local pipeline's code) and streamed back to this
process, which writes them: Parquet part files (:mod:`facescan.parts`, resumable), the face
store (SQLite: this process is its one writer; PostgreSQL: the actors write in parallel through
:class:`facescan.batch.StoreIndexer`), or evaluation records.

Needs ``pip install 'facescan[ray]'``; nothing else in facescan imports this module. A local
cluster listens on 127.0.0.1 only (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, set for the Ray
processes this module starts). Each actor gets a fraction of a CPU by default (the cluster's
CPUs, less one for reading, over the actors): on a 2-core machine whole-CPU actors would leave
no CPU for the read tasks and the job would wait forever.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..batch import SHA_COLUMN, BatchAnalyzer, StoreIndexer, digest_set, expand_urls, split_readable
from ..errors import ConfigError, EngineError, FacescanError, require
from ..types import ImageResult

log = logging.getLogger(__name__)
PARTS_PER_ACTOR = 4  # blocks per actor at least, so every actor gets work
IMAGES_PER_BLOCK = 128  # at most (a block is one Parquet part and one store write)


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: $RAY_ADDRESS, else a new local cluster
    actors: int | None = None  # None: one per CPU of the cluster, less one
    actor_cpus: float | None = None  # None: (cluster CPUs - 1) / actors, at most 1
    actor_gpus: float = 0.0
    batch_size: int = 16


def _ray() -> Any:
    return require("ray", "ray")


def connect(address: str | None = None) -> bool:
    """Join the cluster at ``address`` (or ``$RAY_ADDRESS``), or start a local one on 127.0.0.1.
    True if this call started Ray (the caller shuts it down with :func:`disconnect`)."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    local = not address or address == "local"
    if local and "ray" not in sys.modules:  # Ray reads it once, when imported: every port on 127.0.0.1
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    elif local and os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") != "0":
        log.warning("ray was imported before facescan started its local cluster: it listens on every "
                    "interface (set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before importing ray to keep it on 127.0.0.1)")
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False, "configure_logging": False}
    try:
        if local:
            ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "locally" if local else f"at {address}"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EngineError(f"cannot start or join a Ray cluster {where}: {first}. For a cluster started with "
                          "`ray start`, set RAY_AUTH_MODE=token (its token is in ~/.ray/auth_token)") from None
    return True


def disconnect(started: bool) -> None:
    if started:
        _ray().shutdown()


def _pool(opts: RayOptions, n: int) -> dict[str, Any]:
    """map_batches arguments for ``n`` inputs: the actor pool, each actor's share of the cluster,
    and the images per call (one part file / one store transaction each)."""
    ray = _ray()
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    actors = _actors(opts)
    if opts.actor_gpus and not ray.cluster_resources().get("GPU"):
        raise EngineError(f"--actor-gpus {opts.actor_gpus:g}: the Ray cluster has no GPU (its actors would wait "
                          "for one forever); leave --actor-gpus out, or join a cluster with GPU nodes")
    share = opts.actor_cpus if opts.actor_cpus is not None else min(1.0, max(0.1, (cpus - 1) / actors))
    args: dict[str, Any] = {"compute": ray.data.ActorPoolStrategy(size=actors), "num_cpus": share,
                            "batch_size": _block_size(n, actors, opts.batch_size)}
    if opts.actor_gpus:
        args["num_gpus"] = opts.actor_gpus
    log.info("ray: %d actors, %.2f CPU and %g GPU each, on %g CPUs", actors, share, opts.actor_gpus, cpus)
    return args


def _block_size(n: int, actors: int, batch_size: int) -> int:
    """Images per block: enough blocks that every actor gets work, none over IMAGES_PER_BLOCK."""
    return max(batch_size, min(IMAGES_PER_BLOCK, math.ceil(n / (actors * PARTS_PER_ACTOR))))


def _dataset(paths: Sequence[str], udf: Any, kwargs: Mapping[str, Any], opts: RayOptions) -> Any:
    """The binary files at ``paths`` through ``udf`` (an actor class built with ``kwargs``)."""
    ray = _ray()
    ray.data.DataContext.get_current().enable_progress_bars = False  # facescan shows its own
    if not log.isEnabledFor(logging.INFO):  # Ray Data's INFO lines only with facescan -v
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"
    actors = _actors(opts)
    blocks = math.ceil(len(paths) / _block_size(len(paths), actors, opts.batch_size))
    ds = ray.data.read_binary_files(list(paths), include_paths=True, override_num_blocks=max(1, blocks))
    pool = _pool(opts, len(paths))
    kwargs = {**kwargs, "threads": max(1, int(pool["num_cpus"])), "gpu": bool(opts.actor_gpus)}
    return ds.map_batches(udf, fn_constructor_kwargs=kwargs, batch_format="numpy", **pool)


def _stream(ds: Any, batch_format: str) -> Iterator[Any]:
    try:
        yield from ds.iter_batches(batch_size=None, batch_format=batch_format)
    except FacescanError:
        raise
    except Exception as exc:  # noqa: BLE001  (Ray wraps a worker's exception in its own types)
        raise EngineError(f"the Ray job failed: {_cause(exc)}") from None


def _cause(exc: BaseException) -> str:
    """The worker's own exception line (``SomeError: message``) out of Ray's wrappers and tracebacks."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = getattr(exc, "cause", None) or exc.__cause__  # RayTaskError.cause: the user's exception
    lines = [line.strip() for e in seen for line in str(e).splitlines()]
    own = [line for line in lines if re.match(r"[\w.]+(Error|Exception): ", line)
           and not re.match(r"(ray\.[\w.]+|\w*RayTaskError\w*|UserCodeException)", line)]
    if own:
        return own[-1]
    return f"{type(seen[-1]).__name__}: {(lines or [''])[0]}"


def _actors(opts: RayOptions) -> int:
    if opts.actors is not None and opts.actors < 1:
        raise ConfigError(f"--actors must be at least 1, got {opts.actors}")
    return opts.actors or max(1, int(_ray().cluster_resources().get("CPU", 1.0)) - 1)


def _worker_options(options: Mapping[str, Any], threads: int, gpu: bool) -> dict[str, Any]:
    """In an actor's own process: OpenCV (the detector) and ONNX Runtime (the attribute models)
    use the actor's share of CPUs, not one thread per core each (which would oversubscribe a
    machine running several actors); with a GPU share, the attribute models run on CUDA."""
    import cv2

    cv2.setNumThreads(threads)
    return {"threads": threads, "gpu": gpu, **dict(options)}


class _Rows:
    """Actor: flat rows (+ sha256) as an Arrow table of the Parquet schema."""

    def __init__(self, options: Mapping[str, Any], batch_size: int, threads: int, gpu: bool) -> None:
        from ..output import flat_schema

        pa = require("pyarrow", "parquet")
        self.analyzer = BatchAnalyzer(_worker_options(options, threads, gpu), batch_size)
        self.schema = flat_schema().append(pa.field(SHA_COLUMN, pa.string()))
        self.pa = pa

    def __call__(self, batch: Mapping[str, Any]) -> Any:
        return self.pa.Table.from_pydict(self.analyzer(batch), self.schema)


class _Results:
    """Actor: one row per input with its pickled ImageResult (None where skipped)."""

    def __init__(self, options: Mapping[str, Any], batch_size: int, threads: int, gpu: bool,
                 skip: Any = None) -> None:
        self.analyzer = BatchAnalyzer(_worker_options(options, threads, gpu), batch_size, skip)

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        items = self.analyzer.items(batch)
        return {"path": [i.path for i in items], "sha256": [i.sha256 for i in items],
                "size": [i.size for i in items], "latency_ms": [i.latency_ms for i in items],
                "result": [pickle.dumps(i.result) for i in items]}


class _Indexer(StoreIndexer):
    """Actor: writes its batches into the PostgreSQL store itself."""

    def __init__(self, address: str, model: str, analyzer_options: Mapping[str, Any], batch_size: int,
                 threads: int, gpu: bool, prefix: str) -> None:
        super().__init__(address, model, _worker_options(analyzer_options, threads, gpu), batch_size, prefix=prefix)


def analyze_to_parquet(paths: Sequence[str], folder: str, options: Mapping[str, Any], opts: RayOptions,
                       progress: Callable[[int, int, int], None] | None = None) -> dict[str, int]:
    """Analyse ``paths`` into the Parquet part folder ``folder`` (see :mod:`facescan.parts`);
    inputs already there with the same bytes are skipped. ``progress(images, faces, errors)``
    after each part. Returns counts: images, skipped, faces, errors."""
    from ..output import flat_rows, flat_schema
    from ..parts import PartsFolder

    pa = require("pyarrow", "parquet")
    _check(options)
    out = PartsFolder(folder)
    todo, skipped = out.pending(expand_urls(paths))
    counts = {"images": 0, "skipped": skipped, "faces": 0, "errors": 0}
    readable, missing = split_readable(todo)
    if missing:  # the local pipeline's message for each, as an error row
        rows = [r for res in missing for r in flat_rows(res)]
        out.write(pa.Table.from_pylist(rows, flat_schema()), {res.path: None for res in missing})
        _count(counts, [res.path for res in missing], len(missing), [0] * len(missing), progress)
    if not readable:
        return counts
    started = connect(opts.address)
    try:
        given = _given(readable)
        ds = _dataset(_absolute(readable), _Rows, {"options": dict(options), "batch_size": opts.batch_size}, opts)
        for table in _stream(ds, "pyarrow"):
            table = table.set_column(0, "path", pa.array([given.get(p, p) for p in table.column("path").to_pylist()],
                                                         pa.string()))
            shas = dict(zip(table.column("path").to_pylist(), table.column(SHA_COLUMN).to_pylist()))
            out.write(table.drop_columns([SHA_COLUMN]).cast(flat_schema()), shas)
            faces = [0 if f is None else 1 for f in table.column("face").to_pylist()]
            errors = {p for p, e in zip(table.column("path").to_pylist(), table.column("error").to_pylist()) if e}
            _count(counts, list(shas), len(errors), faces, progress)
    finally:
        disconnect(started)
    return counts


def _count(counts: dict[str, int], inputs: list[str], errors: int, faces: list[int],
           progress: Callable[[int, int, int], None] | None) -> None:
    counts["images"] += len(inputs)
    counts["faces"] += sum(faces)
    counts["errors"] += errors
    if progress is not None:
        progress(len(inputs), sum(faces), errors)


def _check(options: Mapping[str, Any]) -> None:
    """The Analyzer options a user can get wrong, checked here rather than in every actor."""
    from ..pipeline import DEFAULT_BACKEND, check_backend, check_if_no_face, parse_attributes

    parse_attributes(options.get("attributes"))
    check_backend(options.get("backend") or DEFAULT_BACKEND)
    check_if_no_face(options.get("if_no_face", "skip"))


def _given(paths: Sequence[str]) -> dict[str, str]:
    """What Ray's ``path`` column holds -> the name the user gave: absolute local paths, and URLs
    without their scheme (Ray gives ``bucket/key`` for ``s3://bucket/key``)."""
    return {(p.split("://", 1)[1] if "://" in p else os.path.abspath(p)): p for p in paths}


def _renamed(result: ImageResult | None, path: str) -> ImageResult | None:
    return None if result is None else dataclasses.replace(result, path=path)


def _absolute(paths: Sequence[str]) -> list[str]:
    return [p if "://" in p else os.path.abspath(p) for p in paths]


def predict_samples(opts: RayOptions) -> Callable[[Sequence[Any], Mapping[str, Any]], Iterator[list[tuple]]]:
    """For :func:`facescan.eval.runner.predict`: (samples, Analyzer options) -> batches of
    (sample, ImageResult, latency_ms, batch size), in the order they finish."""

    def run(samples: Sequence[Any], options: Mapping[str, Any]) -> Iterator[list[tuple]]:
        if any(s.image is not None or not s.path for s in samples):
            raise ConfigError("--engine ray reads image files: this data set ships its pixels in a table "
                              "(e.g. FER2013's CSV); evaluate it with the local engine")
        by_path = {os.path.abspath(s.path): s for s in samples}
        started = connect(opts.address)
        try:
            ds = _dataset(list(by_path), _Results, {"options": dict(options), "batch_size": opts.batch_size}, opts)
            for batch in _stream(ds, "numpy"):
                n = len(batch["path"])
                yield [(by_path[str(p)], pickle.loads(r), float(ms), n)
                       for p, r, ms in zip(batch["path"], batch["result"], batch["latency_ms"])]
        finally:
            disconnect(started)

    return run


def index_into_store(store: Any, paths: Sequence[str], model: str, options: Mapping[str, Any], opts: RayOptions,
                     address: str, progress: Callable[[Any], None] | None = None) -> Any:
    """Index ``paths`` into ``store`` (opened at ``address``) as :meth:`FaceStore.index` does;
    PostgreSQL: the actors write; SQLite: this process writes what the actors send back."""
    from ..identity import get_embedder
    from ..io import iter_image_paths
    from ..store import IndexSummary, is_postgres

    files = [p if "://" in p else os.path.abspath(p) for p in expand_urls(list(iter_image_paths(paths)))]
    summary, seen = IndexSummary(total=len(files)), set()
    store.prepare_model(model, int(get_embedder(model).dim))  # before parallel writers start
    readable, missing = split_readable(files)
    # nothing to analyse here (``list`` is never called): the unreadable files are recorded
    store.index_found([], model, list, failures=[(r.path, r.error or "") for r in missing], summary=summary,
                      seen=seen)
    if progress is not None:
        progress(summary)
    if not readable:
        return summary
    options = {**dict(options), "embed": model}
    given = _given(readable)
    started = connect(opts.address)
    try:
        if is_postgres(address):
            schemes = {p.split("://", 1)[0] + "://" if "://" in p else "" for p in readable}
            if len(schemes) > 1:
                raise ConfigError("a PostgreSQL store indexed by Ray actors takes local paths or URLs of one "
                                  f"kind per run, not {', '.join(sorted(s or 'local paths' for s in schemes))}")
            kwargs = {"prefix": schemes.pop(), "address": address, "model": model, "analyzer_options": options,
                      "batch_size": opts.batch_size}
            ds = _dataset(readable, _Indexer, kwargs, opts)
            for batch in _stream(ds, "numpy"):
                for key in ("new", "skipped", "moved", "failed", "faces"):
                    setattr(summary, key, getattr(summary, key) + int(sum(batch[key])))
                summary.failures += [tuple(f) for text in batch["failures"] for f in json.loads(text)]
                if progress is not None:
                    progress(summary)
            return summary
        skip = digest_set(store.photo_hashes())
        ds = _dataset(readable, _Results, {"options": options, "batch_size": opts.batch_size, "skip": skip}, opts)
        for batch in _stream(ds, "numpy"):
            names = [given.get(str(p), str(p)) for p in batch["path"]]
            found = [(p, int(n), str(s)) for p, n, s in zip(names, batch["size"], batch["sha256"])]
            results = {p: _renamed(pickle.loads(r), p) for p, r in zip(names, batch["result"])}

            def analyzed(new: list[tuple[str, int, str]], results: dict = results) -> list[ImageResult]:
                return [results[p] or ImageResult(p, [], f"{p}: was in the store when the job started and is "
                                                  "not now; index it again") for p, _, _ in new]

            store.index_found(found, model, analyzed, summary=summary, seen=seen)
            if progress is not None:
                progress(summary)
        return summary
    finally:
        disconnect(started)
