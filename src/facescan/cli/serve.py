"""facescan serve: the HTTP service and web page (needs facescan[serve])."""

from __future__ import annotations

import argparse
import os
import socket
import sys

from .common import EXIT_OK, EXIT_USAGE


def settings_from_args(args: argparse.Namespace):  # -> facescan.serve.Settings
    from ..serve.settings import API_KEYS_ENV, Settings, read_key_file

    keys = read_key_file(args.api_key_file) if args.api_key_file else ()
    keys += tuple(k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip())
    return Settings(db=args.db, api_keys=tuple(dict.fromkeys(keys)), cors=tuple(args.cors or ()),
                    max_upload_mb=args.max_upload_mb, max_pixels=args.max_pixels, max_images=args.max_images,
                    timeout=args.timeout, max_concurrency=args.max_concurrency)


def _tcp_socket(host: str, port: int) -> socket.socket:
    """The listening socket shared by the workers. uvicorn's own (for --workers > 1) is made
    without IPPROTO_TCP, so asyncio never sets TCP_NODELAY on its connections and every
    keep-alive response waits ~40 ms for a delayed ACK; this one is a TCP socket."""
    from ..errors import ConfigError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def _few_malloc_arenas() -> None:
    """Two glibc malloc arenas per server process instead of one per thread (8 x cores): with
    the thread pool's threads each allocating images, the many arenas fragment and RSS crept up
    (+16 MB over 12,000 requests, still rising); with two it stayed flat and ~30 MB lower
    (benchmarks/serve_bench.py saturation). Workers read the variable at start; this process
    (one worker) is set through mallopt. Not glibc: nothing happens."""
    import ctypes
    import ctypes.util

    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, int(os.environ["MALLOC_ARENA_MAX"]))  # M_ARENA_MAX
    except (OSError, AttributeError, ValueError):
        pass


def run(args: argparse.Namespace) -> int:
    from ..errors import require

    require("fastapi", "serve")
    uvicorn = require("uvicorn", "serve")
    require("multipart", "serve")
    require("prometheus_client", "serve")
    settings = settings_from_args(args)
    if args.workers < 1:
        print("facescan: --workers must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    if args.host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
        print(f"facescan: warning: listening on {args.host} without API keys: anyone who can reach "
              "this port can use the service (give --api-key-file)", file=sys.stderr)
    # every worker builds its app from these variables (uvicorn imports the factory by name)
    from ..serve.settings import ENV_PREFIX

    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update(settings.to_env())
    _few_malloc_arenas()
    print(f"facescan: serving on http://{args.host}:{args.port}/ with {args.workers} worker(s); "
          f"API keys {'required' if settings.api_keys else 'off'}; CORS "
          f"{', '.join(settings.cors) if settings.cors else 'off'}", file=sys.stderr)
    config = uvicorn.Config("facescan.serve.app:app_from_env", factory=True, host=args.host,  # type: ignore[attr-defined]
                            port=args.port, workers=args.workers, log_level=args.log_level,
                            access_log=args.access_log, timeout_graceful_shutdown=10)
    if args.workers == 1:
        server = uvicorn.Server(config)  # type: ignore[attr-defined]
        server.run()
        return EXIT_OK if server.started else EXIT_USAGE
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[_tcp_socket(args.host, args.port)]).run()
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service and web page (needs facescan[serve])",
                       description="An HTTP API (/v1/analyze, /v1/target, /v1/verify, /v1/search, /v1/index) "
                       "and a web page at /. Uploads are processed in memory and never written or logged.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="processes, each with its own models (default 1: "
                   "one already uses every core through onnxruntime; on 2 cores a second added no speed)")
    p.add_argument("--db", metavar="DB", help="a face store for /v1/index and /v1/search: a SQLite file or "
                   "postgresql://...")
    p.add_argument("--api-key-file", metavar="FILE", help="bearer tokens, one per line, required on /v1/ "
                   "(also: $FACESCAN_API_KEYS, comma-separated); default: no key needed")
    p.add_argument("--cors", action="append", metavar="ORIGIN", help="allow browser pages from ORIGIN "
                   "(e.g. https://app.example.com; repeatable); default: CORS off")
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="request body limit (default 20 MB)")
    p.add_argument("--max-pixels", type=int, default=25_000_000, help="per image, from its header (default 25 MP)")
    p.add_argument("--max-images", type=int, default=16, help="images per request (default 16)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request before a 504 (default 60)")
    p.add_argument("--max-concurrency", type=int, default=8, help="requests in progress per worker; more get "
                   "503 with Retry-After (default 8)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", dest="access_log", action="store_false",
                   help="do not log one line per request (method, path, status; never bodies or headers)")
    p.set_defaults(func=run)
