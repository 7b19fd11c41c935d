"""The FastAPI application: ``create_app(settings)``. Endpoints under ``/v1/`` run the same
pipeline and give the same JSON records as the CLI (``analyze -o``, ``target -o``,
``verify --json``, ``search --json``). CPU-bound endpoints are plain ``def``: FastAPI runs them
in its threadpool, so the event loop keeps answering health checks and refusing excess load.
They return their JSON as it is (no response model: FastAPI's re-validation of each record's
nested probabilities cost more than the HTTP layer itself).

(No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations, some
of which name objects local to :func:`create_app`.)"""

import dataclasses
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.middleware import Middleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from .. import __version__, registry
from ..errors import ConfigError, DependencyError, FacescanError, ImageError, ModelError, StoreError
from ..identity import DEFAULT_EMBEDDER
from ..pipeline import ALL_ATTRIBUTES, ATTRIBUTES, DEFAULT_BACKEND, IF_NO_FACE, parse_attributes
from .limits import Gate, LimitsMiddleware, check_key, decode_uploads, route_class
from .metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from .settings import Settings
from .state import ServerState

STATIC = Path(__file__).parent / "static"
STATUS = {ConfigError: 422, ImageError: 422, StoreError: 409, DependencyError: 501, ModelError: 500}

IfNoFace = Annotated[Literal[IF_NO_FACE], Form(  # type: ignore[valid-type]
    description="an image where no face is found: 'skip' (no face) or 'whole' (the whole image as one face, "
    "score 0, found_by 'whole-image'; for inputs that are already face crops: a data set chip, a passport photo)")]
Images = Annotated[list[UploadFile], File(description="one or more images (JPEG, PNG, WebP, ...)")]
Image = Annotated[UploadFile, File(description="an image")]
Probability = Annotated[float, Form(ge=0.0, le=1.0)]


def app_from_env() -> FastAPI:
    """The app with :meth:`Settings.from_env` (uvicorn's factory for ``--workers N``)."""
    return create_app(Settings.from_env())


def offered(kind: str) -> Any:
    """The names of ``kind`` in :mod:`facescan.registry` whose extra is installed, as the enum
    of a request field (read when an app is made: names registered before then are offered)."""
    return Literal[registry.installed(kind)]  # type: ignore[valid-type]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    Backend, Detector, Embedder = offered("backend"), offered("detector"), offered("embedder")
    gate = Gate(settings.max_concurrency)
    metrics = Metrics(lambda: gate.in_flight)
    state = ServerState(settings, on_batch=metrics.count_batch)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        state.start()  # models load once per worker, before it accepts a request
        try:
            yield
        finally:
            state.stop()

    bearer = HTTPBearer(auto_error=False, description="an API key, when the server is started with keys")

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        check_key(credentials.credentials if credentials else "", settings.api_keys)

    paths: set[str] = set()  # the app's routes, filled in below (metrics label refused requests by them)
    middleware = [Middleware(CORSMiddleware, allow_origins=list(settings.cors), allow_methods=["GET", "POST"],
                             allow_headers=["Authorization", "Content-Type"])] if settings.cors else []
    middleware += [Middleware(MetricsMiddleware, metrics=metrics, paths=paths),
                   Middleware(LimitsMiddleware, settings=settings, gate=gate)]
    app = FastAPI(title="facescan", version=__version__, lifespan=lifespan, description=__doc__,
                  middleware=middleware)
    api = APIRouter(prefix="/v1", route_class=route_class(settings), dependencies=[Depends(authorised)])

    for error, status in STATUS.items():
        app.add_exception_handler(error, _handler(status))
    app.add_exception_handler(FacescanError, _handler(422))

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # cheap and non-blocking: answered on the event loop, never queued behind the thread pool
    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], responses={503: {"description": "models not loaded yet"}})
    async def readyz() -> JSONResponse:
        return JSONResponse({"ready": state.ready}, status_code=200 if state.ready else 503)

    @app.get("/metrics", tags=["service"], response_class=Response)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @api.get("/models", tags=["models"])
    def models() -> dict[str, Any]:
        return {"version": __version__, "attributes": list(ALL_ATTRIBUTES), "default_attributes": list(ATTRIBUTES),
                "backends": {name: registry.load("backend", name) for name in Backend.__args__},
                "default_backend": DEFAULT_BACKEND, "detectors": list(Detector.__args__),
                "if_no_face": list(IF_NO_FACE),
                "embedders": list(Embedder.__args__), "default_embedder": DEFAULT_EMBEDDER,
                "registry": {kind: [{k: v for k, v in e.to_dict().items() if k != "target"}
                                     for e in registry.entries(kind)] for kind in registry.KINDS},
                "store": settings.db is not None, "loaded": state.loaded(),
                "limits": {"max_upload_mb": settings.max_upload_mb, "max_pixels": settings.max_pixels,
                           "max_images": settings.max_images, "timeout_s": settings.timeout,
                           "max_concurrency": settings.max_concurrency}}

    @api.post("/analyze", tags=["analysis"])
    def analyze(images: Images, attributes: Annotated[str, Form(max_length=200)] = ",".join(ATTRIBUTES),
                backend: Annotated[Backend, Form()] = DEFAULT_BACKEND,
                detector: Annotated[Detector, Form()] = "yunet", min_score: Probability = 0.0,
                detect_scales: Annotated[str, Form(max_length=40)] = "auto",
                max_faces: Annotated[int, Form(ge=0, le=10_000)] = 0, abstain_below: Probability = 0.0,
                embed: Annotated[bool, Form()] = False, if_no_face: IfNoFace = "skip") -> JSONResponse:
        """Faces and their attributes: one record per image, as ``facescan analyze -o``."""
        uploads = decode_uploads(images, settings)
        analyzer = state.analyze_analyzer(
            attributes=parse_attributes(attributes), backend=backend, detector=detector, min_score=min_score,
            detect_scales=detect_scales, max_faces=max_faces, abstain_below=abstain_below, embed=embed)
        results = list(analyzer.analyze_many([img for _, _, img in uploads], batch_size=len(uploads),
                                             if_no_face=if_no_face))
        records = [dataclasses.replace(r, path=name).to_dict() for (name, _, _), r in zip(uploads, results)]
        metrics.count_images("/v1/analyze", len(records), sum(len(r["faces"]) for r in records))
        return JSONResponse({"results": records})

    @api.post("/target", tags=["analysis"])
    def target(image: Image, description: Annotated[str, Form(min_length=1, max_length=500)]) -> JSONResponse:
        """The person a description means (offline, as ``facescan target -o``)."""
        from ..target import find_person

        ((name, _, rgb),) = decode_uploads([image], settings)
        result = find_person(rgb, description, analyzer=state.target_analyzer())
        metrics.count_images("/v1/target", 1, len(result.candidates))
        return JSONResponse({"path": name, **result.to_dict()})

    @api.post("/verify", tags=["identity"])
    def verify(image_a: Image, image_b: Image,
               face_a: Annotated[int | None, Form(ge=0, le=10_000)] = None,
               face_b: Annotated[int | None, Form(ge=0, le=10_000)] = None,
               model: Annotated[Embedder, Form()] = DEFAULT_EMBEDDER) -> JSONResponse:
        """Are the faces of two images the same person? (as ``facescan verify --json``)"""
        from ..identity.verify import verify_faces

        (a, _, rgb_a), (b, _, rgb_b) = decode_uploads([image_a, image_b], settings)
        analyzer = state.embed_analyzer(model)
        faces_a, faces_b = analyzer.analyze(rgb_a), analyzer.analyze(rgb_b)
        metrics.count_images("/v1/verify", 2, len(faces_a) + len(faces_b))
        record = verify_faces(faces_a, faces_b, face_a, face_b, (a, b)).to_dict()
        record["a"]["path"], record["b"]["path"] = a, b
        return JSONResponse(record)

    if settings.db:
        @api.post("/search", tags=["store"])
        def search(image: Image, k: Annotated[int, Form(ge=1, le=1000)] = 10,
                   face: Annotated[int | None, Form(ge=0, le=10_000)] = None) -> JSONResponse:
            """The stored faces nearest to a face of the image (as ``facescan search --json``)."""
            ((name, _, rgb),) = decode_uploads([image], settings)
            with state.store_lock:
                model = state.store.resolve_model(None)
                result = state.store.search(rgb, k=k, face=face, analyzer=state.embed_analyzer(model))
            metrics.count_images("/v1/search", 1, len(result.query_faces))
            return JSONResponse({"query": name, "model": model, **result.to_dict()})

        @api.post("/index", tags=["store"])
        def index(images: Images) -> JSONResponse:
            """Add photos to the store (known ones, same bytes, are skipped). Each is recorded
            under the path ``upload/NAME``."""
            uploads = decode_uploads(images, settings)
            with state.store_lock:
                store = state.store
                model = store.resolve_model(None)
                summary = store.index_images([(f"upload/{Path(n).name}", data, rgb) for n, data, rgb in uploads],
                                             model=model, analyzer=state.embed_analyzer(model, ATTRIBUTES))
                stats = {k: v for k, v in store.stats().items() if k != "store"}
            metrics.count_images("/v1/index", len(uploads), summary.faces)
            return JSONResponse({**dataclasses.asdict(summary), "store": stats})

    app.include_router(api)
    paths.update(getattr(r, "path", "") for r in [*app.routes, *api.routes])
    app.state.facescan = state
    return app


def _handler(status: int):
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


__all__ = ["HTTPException", "app_from_env", "create_app"]
