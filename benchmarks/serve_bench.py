"""facescan serve under load, on 127.0.0.1: requests/s, faces/s and latency percentiles at a
fixed number of concurrent clients, with 1 and 2 uvicorn workers; faces/s through HTTP as a
share of the CLI's batch figure on the same images; and a saturation run (errors, RSS).

    python benchmarks/serve_bench.py throughput             # ~3.5 min
    python benchmarks/serve_bench.py saturation --seconds 300
    python benchmarks/serve_bench.py publish --write BENCHMARKS.md

Each part saves its numbers in benchmarks/results/serve.json (the other part's kept); ``publish
--write BENCHMARKS.md`` (or ``python benchmarks/report.py``) regenerates BENCHMARKS.md from
benchmarks/results/ (the tables are result_tables.serve).

The client is our own: asyncio + httpx, C tasks each sending one multipart POST /v1/analyze
(one photo) after another for a fixed time (wrk cannot build multipart uploads from a list of
files, and no oha binary is installed here). It runs on the same 2 cores as the server, and its
own CPU time is reported. Photos: the first 96 LFW-a images (250x250, one face each mostly).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import report  # benchmarks/ is on sys.path when run as a script
import result_tables

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
N_IMAGES = 96


def photos() -> list[tuple[str, bytes]]:
    paths = sorted((DATA / "lfw").glob("*/*.jpg"))[:N_IMAGES]
    if len(paths) < N_IMAGES:
        sys.exit(f"need {N_IMAGES} LFW-a photos under {DATA / 'lfw'}")
    return [(p.name, p.read_bytes()) for p in paths]


def cli_batch(images: list[tuple[str, bytes]], rounds: int = 3) -> dict:
    """faces/s of what ``facescan analyze -o out.jsonl`` does (``Analyzer.analyze_many`` in batches
    of 16, each record written as JSONL) over the same photos, read from memory as the service."""
    import io

    from facescan import Analyzer
    from facescan.output import JsonlWriter

    analyzer = Analyzer()
    list(analyzer.analyze_many([d for _, d in images[:16]], batch_size=16))  # warm up
    writer = JsonlWriter(io.StringIO())
    start, faces = time.perf_counter(), 0
    for _ in range(rounds):
        for result in analyzer.analyze_many([d for _, d in images], batch_size=16):
            writer.write(result)
            faces += len(result.faces)
    seconds = time.perf_counter() - start
    return {"images_per_s": rounds * len(images) / seconds, "faces_per_s": faces / seconds}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, max_concurrency: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "facescan.cli", "serve", "--port", str(port), "--workers",
                             str(workers), "--max-concurrency", str(max_concurrency), "--no-access-log",
                             "--log-level", "warning"], env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 120
    ready = 0
    while ready < workers * 3:  # every worker must have answered (they load models at start)
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        try:
            ready += httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            time.sleep(0.2)
    return proc, url


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group (start_new_session)
    proc.wait(60)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (uvicorn's workers), MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


async def load(url: str, images: list[tuple[str, bytes]], clients: int, seconds: float,
               honour_retry_after: bool = False, on_tick=None) -> dict:
    """``clients`` tasks POST one photo each after another for ``seconds``; latencies of 200s."""
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    faces = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def worker(k: int) -> None:
            nonlocal faces
            i = k
            while time.monotonic() < stop:
                name, data = images[i % len(images)]
                i += clients
                t = time.perf_counter()
                try:
                    r = await client.post("/v1/analyze", files=[("images", (name, data, "image/jpeg"))])
                except httpx.HTTPError:
                    statuses[-1] = statuses.get(-1, 0) + 1
                    continue
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    latencies.append(time.perf_counter() - t)
                    faces += len(r.json()["results"][0]["faces"])
                elif r.status_code == 503 and honour_retry_after:
                    await asyncio.sleep(min(2.0, float(r.headers.get("retry-after", 1))))

        async def ticker() -> None:
            while on_tick is not None and time.monotonic() < stop:
                on_tick()
                await asyncio.sleep(10)

        start = time.perf_counter()
        await asyncio.gather(ticker(), *(worker(k) for k in range(clients)))
        took = time.perf_counter() - start
    lat = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {"clients": clients, "seconds": took, "ok": len(latencies), "statuses": statuses,
            "requests_per_s": len(latencies) / took, "faces_per_s": faces / took,
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "p99_ms": float(np.percentile(lat, 99))}


def throughput(args: argparse.Namespace) -> None:
    images = photos()
    t0 = time.perf_counter()
    out = {"cli": cli_batch(images), "runs": [], "photos": N_IMAGES}
    print(f"CLI batch: {out['cli']['faces_per_s']:.1f} faces/s", flush=True)
    for workers in (1, 2):
        proc, url = start_server(workers, max_concurrency=64)
        try:
            asyncio.run(load(url, images, 4, 5))  # warm up every worker
            for clients in (1, 4, 16, 32):
                cpu = resource.getrusage(resource.RUSAGE_SELF)
                run = asyncio.run(load(url, images, clients, args.seconds))
                after = resource.getrusage(resource.RUSAGE_SELF)
                run["client_cpu_share"] = (after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime) / run["seconds"]
                run["workers"] = workers
                out["runs"].append(run)
                print(json.dumps(run), flush=True)
        finally:
            stop_server(proc)
    out["command"] = f"python benchmarks/serve_bench.py throughput --seconds {args.seconds:g}"
    out["took_s"] = time.perf_counter() - t0
    save("throughput", out)


def saturation(args: argparse.Namespace) -> None:
    images = photos()
    proc, url = start_server(2, max_concurrency=8)  # the default limit: 16 slots for 32 clients
    rss: list[tuple[float, float]] = []
    t0 = time.monotonic()
    try:
        asyncio.run(load(url, images, 4, 5))
        run = asyncio.run(load(url, images, args.clients, args.seconds, honour_retry_after=True,
                               on_tick=lambda: rss.append((time.monotonic() - t0, tree_rss_mb(proc.pid)))))
        rss.append((time.monotonic() - t0, tree_rss_mb(proc.pid)))
    finally:
        stop_server(proc)
    run.update(workers=2, max_concurrency=8, rss_mb=rss,
               command=f"python benchmarks/serve_bench.py saturation --seconds {args.seconds:g} --clients {args.clients}")
    print(json.dumps(run), flush=True)
    save("saturation", run)


def save(key: str, value: dict) -> None:
    value["meta"] = report.measured(value.get("command", ""), value.get("took_s", value.get("seconds")))
    try:
        results = report.load("serve")
    except FileNotFoundError:
        results = {"kind": "serve"}
    results[key] = value
    report.save("serve", results)


def table(args: argparse.Namespace) -> None:
    print(result_tables.serve(report.load("serve"), report.provenance))
    if args.write:
        report.write_report(Path(args.write))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=["throughput", "saturation", "publish"])
    p.add_argument("--seconds", type=float, default=20.0, help="per load run (saturation: its length)")
    p.add_argument("--clients", type=int, default=32, help="saturation: concurrent clients")
    p.add_argument("--write", help="publish: regenerate this file (BENCHMARKS.md) from benchmarks/results/")
    args = p.parse_args()
    {"throughput": throughput, "saturation": saturation, "publish": table}[args.part](args)


if __name__ == "__main__":
    main()
