"""`clipaware serve` under load: many clients mixing text search, similar, check and thumbnails.

Starts its own server (a real ``clipaware serve`` process) over an index of ``--n`` images made with a
B/32-sized random twin (``clipaware.testing`` ``random_twin``: the real architecture and preprocessing,
random weights, so timings transfer and the vectors mean nothing) on the ONNX engine — or, with
``--url URL``, loads a server that is already running, whatever its index. Then ``--clients`` concurrent
clients send requests for ``--seconds``: 40 % text search (each text unique, so the server's text cache
never answers), 30 % check (as the page does while a user types), 15 % similar, 15 % thumbnails (of
random images: most are made, not cached). Prints requests/s, p50/p99 per kind, errors, 5xx, and the
server's RSS at start and end, with the load average; ``--json`` for programs.

How the index is built: the files are real JPEGs on disk (thumbnails decode them), but their vectors
are random unit vectors written through the index's own ``upsert`` instead of being embedded, because
embedding 10,000 images with a B/32 twin takes most of an hour on two shared cores and measures
``clipaware index``, not the service. Search, similar and thumbnails then do exactly what they do on a
real library of that size. For comparison the script also times one text search through the CLI (a
process start plus a model load).

    python benchmarks/serve_load.py --clients 50 --seconds 60 --json
    python benchmarks/serve_load.py --url http://127.0.0.1:8765/ --token T --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WEIGHTS = {"search": 0.40, "check": 0.30, "similar": 0.15, "thumbnail": 0.15}
WORDS = ("red green blue small large old new dog cat car tree house beach street boat bird flower city "
         "mountain river snow sunset night people child table chair window road field").split()  # fmt: skip
TWIN = "openai/clip-vit-base-patch32"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"unknown CPU ({os.cpu_count()} cores)"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------------------- the library
def build_library(folder: Path, n: int, seed: int = 0) -> Path:
    """``n`` JPEGs under ``folder/photos`` and an index of them (random vectors, the twin's name and size).

    A folder that already holds such a library of ``n`` images (``--folder`` kept from an earlier run) is
    reused as it is.
    """
    db = folder / "photos" / ".clipaware.db"
    if db.is_file() and (folder / "b32-twin").is_dir():
        from clipaware.index.sqlite import ImageIndex

        with ImageIndex.open(db) as index:
            if len(index) == n:
                return db
    from PIL import Image

    from clipaware.index.sqlite import ImageIndex, NewEmbedding
    from clipaware.models.hub import canonical_model_name
    from clipaware.testing import random_twin

    model = random_twin(TWIN, folder / "b32-twin", seed=seed)
    photos = folder / "photos"
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
    rows = []
    for number in range(n):
        sub = photos / f"{number // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"img-{number:05d}.jpg"
        tint = rng.integers(0, 255, 3, dtype=np.uint8)
        pixels = np.clip(base.astype(int) // 2 + tint // 2, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).resize((480, 360), Image.BILINEAR).save(path, quality=85)
        data = path.read_bytes()
        st = path.stat()
        vector = rng.standard_normal(512).astype(np.float32)
        rows.append(
            NewEmbedding(
                str(path), st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest(), 480, 360,
                vector / np.linalg.norm(vector),
            )
        )  # fmt: skip
    with ImageIndex.create_or_open(db, canonical_model_name(str(model)), 512) as index:
        for start in range(0, len(rows), 1000):
            index.upsert(rows[start : start + 1000])
        if len(index) >= 10_000:
            index.ann()  # what `clipaware index` does at this size, so no request pays for it
    return db


def start_server(db: Path, runtime: str, precision: str | None) -> tuple[subprocess.Popen, str]:
    import urllib.request

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(db.parent.parent / "serve.log", "w")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(
        [sys.executable, "-m", "clipaware.cli", "serve", "--db", str(db), "--port", str(port), "--runtime", runtime]
        + (["--precision", precision] if precision else []),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {(db.parent.parent / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(url + "api/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start within 10 minutes")


def cli_search_seconds(db: Path, runtime: str, precision: str | None) -> float:
    """One text search through the CLI: process start, imports, model load, search."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "clipaware.cli", "search", "a red car", "--db", str(db), "--runtime", runtime, "--json"]
        + (["--precision", precision] if precision else []),
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- the load
async def load(url: str, token: str | None, clients: int, seconds: float, seed: int = 0) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        warm = await client.post("/api/search", json={"text": "a photo", "k": 200})
        warm.raise_for_status()
        ids = [hit["id"] for hit in warm.json()]
        if not ids:
            raise SystemExit("the served index is empty: nothing to load-test")
        results: dict[str, list[float]] = {kind: [] for kind in WEIGHTS}
        failures: dict[str, int] = {kind: 0 for kind in WEIGHTS}
        status_5xx = 0
        counter = 0
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        stop_at = time.perf_counter() + seconds

        async def one_client(number: int) -> None:
            nonlocal counter, status_5xx
            rng = random.Random(seed * 1000 + number)
            while time.perf_counter() < stop_at:
                kind = rng.choices(kinds, weights)[0]
                counter += 1
                text = f"a {rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)} {counter}"
                started = time.perf_counter()
                try:
                    if kind == "search":
                        response = await client.post("/api/search", json={"text": text, "k": 24})
                    elif kind == "check":
                        response = await client.get("/api/check", params={"q": text})
                    elif kind == "similar":
                        response = await client.post("/api/similar", json={"id": rng.choice(ids), "k": 24})
                    else:
                        response = await client.get(f"/api/images/{rng.choice(ids)}/thumbnail")
                    ok = response.status_code == 200
                    status_5xx += response.status_code >= 500
                except httpx.HTTPError:
                    ok = False
                if ok:
                    results[kind].append(time.perf_counter() - started)
                else:
                    failures[kind] += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        elapsed = time.perf_counter() - began
    per_kind = {}
    for kind, times in results.items():
        ms = np.asarray(times) * 1000 if times else np.asarray([np.nan])
        per_kind[kind] = {
            "requests": len(times),
            "errors": failures[kind],
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
        }
    total = sum(len(t) for t in results.values())
    return {
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "errors": sum(failures.values()),
        "status_5xx": status_5xx,
        "kinds": per_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--n", type=int, default=10_000, help="images in the index this script builds")
    parser.add_argument("--runtime", default="onnx", help="engine of the server this script starts")
    parser.add_argument("--precision", help="its precision (default: the best for this CPU)")
    parser.add_argument("--url", help="load a server that is already running instead of starting one")
    parser.add_argument("--token", default=os.environ.get("CLIPAWARE_TOKEN"), help="that server's token")
    parser.add_argument("--pid", type=int, help="that server's process id (for its RSS)")
    parser.add_argument("--folder", type=Path, help="build (or reuse) the library here instead of a temporary folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    report: dict = {"cpu": cpu_name(), "clients": args.clients, "load_average_before": load_average()}
    process = None
    with tempfile.TemporaryDirectory(prefix="clipaware-serve-load-") as tmp:
        if args.url:
            url, pid = args.url, args.pid
        else:
            built = time.perf_counter()
            db = build_library(args.folder or Path(tmp), args.n)
            report.update(n=args.n, model=f"{TWIN} random twin", runtime=args.runtime, precision=args.precision,
                          build_s=round(time.perf_counter() - built, 1))  # fmt: skip
            process, url = start_server(db, args.runtime, args.precision)
            pid = process.pid
        try:
            report["rss_start_mb"] = round(rss_mb(pid), 1) if pid else None
            report.update(asyncio.run(load(url, args.token, args.clients, args.seconds)))
            report["rss_end_mb"] = round(rss_mb(pid), 1) if pid else None
            if pid:
                report["rss_growth_pct"] = round(100 * (report["rss_end_mb"] / report["rss_start_mb"] - 1), 1)
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                report["server_exit_code"] = process.wait(60)
        if not args.url:
            report["cli_search_s"] = round(cli_search_seconds(db, args.runtime, args.precision), 2)
    report["load_average_after"] = load_average()

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['cpu']}; load average before {report['load_average_before']}, after {report['load_average_after']}")
    if "n" in report:
        print(f"index: {report['n']} images, {report['model']} on {report['runtime']} (built in {report['build_s']} s)")
    print(f"{report['clients']} clients, {report['seconds']} s: {report['requests']} requests, "
          f"{report['requests_per_s']} req/s, {report['errors']} errors, {report['status_5xx']} 5xx")  # fmt: skip
    for kind, row in report["kinds"].items():
        print(f"  {kind:<10} n={row['requests']:<6} p50 {row['p50_ms']:>8.2f} ms  p99 {row['p99_ms']:>8.2f} ms  "
              f"errors {row['errors']}")  # fmt: skip
    if report.get("rss_start_mb"):
        print(f"server RSS {report['rss_start_mb']} MB -> {report['rss_end_mb']} MB ({report['rss_growth_pct']:+} %)")
    if "cli_search_s" in report:
        print(f"the same search through the CLI: {report['cli_search_s']} s (process start + model load)")


if __name__ == "__main__":
    main()
