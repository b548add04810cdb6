"""The hot-path table of issue 19 in one command: Lutra through its API against the bare engine.

Run by hand (never in CI; it takes the machine's CPU for a few minutes):

    .venv/bin/python bench/run_all.py                  # default sizes
    .venv/bin/python bench/run_all.py --quick          # small counts, for a first look

Every comparison runs as interleaved repeats (engine, API, engine, API, ...) against one real
`lutra serve` (fresh DATA_DIR, SQLite, embedded workers), so a busy neighbour slows both sides alike;
each row gives min and median of both and the ratio of the medians. Rows:

  * resize 2.7 MP -> 512 px (POST + GET of the result) vs a bare pyvips thumbnail loop, concurrency 2 / 4;
  * the API server process's CPU per fast resize request (its own CPU time, workers excluded);
  * GET /api/auth/session with an API key vs GET /api/v1/health, requests/s at concurrency 4;
  * merge two 10-page PDFs: the API's time over a bare pikepdf merge (the fixed cost of a small job);
  * memory of server + workers (RSS sum and PSS sum): 2 s and 25 s after some jobs (the spare workers
    have retired by then), and the peak under the resize load;
  * `lutra serve` start to healthy (an existing data folder, so no first-run migration);
  * a resumable upload end to end (create, parts in order, complete), MB/s.

The table is printed and written, with the raw samples, to bench/results/run_all-<time>.json (ignored
by git).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.resize_bench import (
    QUALITY,
    ROOT,
    TARGET,
    MemorySampler,
    api_key,
    bench_endpoint,
    bench_engine,
    free_port,
    make_image,
    start_server,
    tree_pss,
    tree_rss,
)

RESULTS = ROOT / "bench" / "results"
# The spare workers a burst started retire after SPARE_WORKER_IDLE_S (20 s): idle memory is read again then.
SPARE_WAIT_S = 23.0


def summary(samples: list[float]) -> dict[str, float]:
    return {"min": min(samples), "median": statistics.median(samples), "n": len(samples)}


def interleave(repeats: int, sides: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Runs each side once per round, in turn, `repeats` rounds: both see the same machine state."""
    out: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            out[name].append(run())
    return out


# -- resize + server CPU ----------------------------------------------------------------------------


def resize_rows(
    server: psutil.Process, port: int, key: str, image: Path, requests: int, repeats: int
) -> tuple[list[dict[str, Any]], list[float]]:
    rows = []
    cpu_per_request: list[float] = []
    for level in (2, 4):

        def engine(level: int = level) -> float:
            return bench_engine(image, level, requests)["throughput"]

        def api(level: int = level) -> float:
            before = server.cpu_times()
            result = bench_endpoint(port, key, image, level, requests)
            after = server.cpu_times()
            served = requests + 2 * level  # bench_endpoint's warm-up requests count too
            spent = (after.user - before.user) + (after.system - before.system)
            cpu_per_request.append(spent / served * 1000)
            return result["throughput"]

        samples = interleave(repeats, {"engine": engine, "api": api})
        rows.append(
            {"measure": f"resize 2.7 MP -> {TARGET} px, POST + GET, concurrency {level}", "unit": "req/s"}
            | {
                "bare": summary(samples["engine"]),
                "lutra": summary(samples["api"]),
                "ratio": statistics.median(samples["api"]) / statistics.median(samples["engine"]),
            }
        )
    return rows, cpu_per_request


# -- auth session vs health ------------------------------------------------------------------------------


def request_rate(port: int, path: str, headers: dict[str, str], clients: int, count: int) -> float:
    local = threading.local()

    def one(_: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.conn.request("GET", path, headers=headers)
        answer = local.conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"GET {path} answered {answer.status}")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(clients * 5)))
        start = time.perf_counter()
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - start)


def auth_row(port: int, key: str, count: int, repeats: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {key}"}
    samples = interleave(
        repeats,
        {
            "health": lambda: request_rate(port, "/api/v1/health", {}, 4, count),
            "session": lambda: request_rate(port, "/api/auth/session", auth, 4, count),
        },
    )
    return {
        "measure": "GET /api/auth/session (API key) vs GET /api/v1/health, concurrency 4",
        "unit": "req/s",
        "bare": summary(samples["health"]),
        "lutra": summary(samples["session"]),
        "ratio": statistics.median(samples["session"]) / statistics.median(samples["health"]),
    }


# -- merge fixed cost ------------------------------------------------------------------------------------


def ten_page_pdf(seed: int) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for i in range(10):
        pdf.add_blank_page(page_size=(595 + seed, 842 + i))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def bare_merge(first: Path, second: Path, target: Path) -> float:
    import pikepdf

    start = time.perf_counter()
    out = pikepdf.new()
    for path in (first, second):
        with pikepdf.open(path) as src:
            out.pages.extend(src.pages)
    out.save(target)
    return time.perf_counter() - start


def api_merge(port: int, key: str, first: bytes, second: bytes) -> float:
    boundary = "lutra-bench-merge"
    body = b""
    for name, data in (("a.pdf", first), ("b.pdf", second)):
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    conn.request("POST", "/api/v1/tools/pdf/merge-pdf", body=body, headers=headers)
    answer = conn.getresponse()
    payload = answer.read()
    elapsed = time.perf_counter() - start
    conn.close()
    if answer.status != 200:
        raise SystemExit(f"merge answered {answer.status}: {payload[:200]!r}")
    return elapsed


def merge_row(port: int, key: str, tmp: Path, repeats: int) -> dict[str, Any]:
    first, second = ten_page_pdf(0), ten_page_pdf(1)
    a, b = tmp / "a.pdf", tmp / "b.pdf"
    a.write_bytes(first)
    b.write_bytes(second)
    for _ in range(2):  # warm-up: the worker imports pikepdf once
        api_merge(port, key, first, second)
        bare_merge(a, b, tmp / "merged.pdf")
    samples = interleave(
        repeats,
        {
            "bare": lambda: bare_merge(a, b, tmp / "merged.pdf") * 1000,
            "api": lambda: api_merge(port, key, first, second) * 1000,
        },
    )
    return {
        "measure": "merge two 10-page PDFs: API vs bare pikepdf",
        "unit": "ms",
        "bare": summary(samples["bare"]),
        "lutra": summary(samples["api"]),
        "ratio": statistics.median(samples["api"]) / statistics.median(samples["bare"]),
        "fixed_cost_ms": statistics.median(samples["api"]) - statistics.median(samples["bare"]),
    }


# -- resumable upload --------------------------------------------------------------------------------------


def resumable_upload(port: int, key: str, data: bytes) -> float:
    auth = {"Authorization": f"Bearer {key}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(method: str, path: str, body: bytes | None = None, ctype: str = "application/json") -> dict[str, Any]:
        conn.request(method, path, body=body, headers={**auth, "Content-Type": ctype})
        answer = conn.getresponse()
        payload = answer.read()
        if answer.status >= 300:
            raise SystemExit(f"{method} {path} answered {answer.status}: {payload[:200]!r}")
        return json.loads(payload)

    # The client's own SHA-256 of its file is its preparation, like reading the file: not timed.
    declared = {"filename": "big.bin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    start = time.perf_counter()
    session = call("POST", "/api/v1/uploads", json.dumps(declared).encode())
    size = session["partSize"]
    for number, offset in enumerate(range(0, len(data), size), start=1):
        call("PUT", f"/api/v1/uploads/{session['uploadId']}/parts/{number}", data[offset : offset + size], "x/y")
    stored = call("POST", f"/api/v1/uploads/{session['uploadId']}/complete", b"{}")
    elapsed = time.perf_counter() - start
    conn.close()
    if stored["file"]["sha256"] != declared["sha256"]:
        raise SystemExit("the stored upload's checksum differs")
    return len(data) / elapsed / 2**20


# -- start-up ------------------------------------------------------------------------------------------------


def start_to_healthy(data_dir: Path) -> float:
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "warning"}
    env.pop("DATABASE_URL", None)
    start = time.perf_counter()
    server = subprocess.Popen([str(ROOT / ".venv/bin/lutra"), "serve", "--host", "127.0.0.1"], env=env, cwd=ROOT)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                    return time.perf_counter() - start
            except OSError:
                if server.poll() is not None or time.perf_counter() - start > 60:
                    raise SystemExit("server did not start") from None
                time.sleep(0.01)
    finally:
        server.terminate()
        server.wait(timeout=20)


# -- the table ------------------------------------------------------------------------------------------------


def fmt(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\n| measure | unit | Lutra min / median | bare or reference min / median | ratio of medians |")
    print("|---|---|---|---|---|")
    for row in rows:
        lutra, bare = row["lutra"], row.get("bare")
        ours = f"{fmt(lutra['min'])} / {fmt(lutra['median'])}"
        ref = f"{fmt(bare['min'])} / {fmt(bare['median'])}" if bare else "-"
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else "-"
        extra = f" (+{row['fixed_cost_ms']:.1f} ms)" if "fixed_cost_ms" in row else ""
        print(f"| {row['measure']} | {row['unit']} | {ours} | {ref} | {ratio}{extra} |")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per comparison")
    parser.add_argument("--requests", type=int, default=60, help="resize requests per round and concurrency")
    parser.add_argument("--auth-requests", type=int, default=1000, help="GETs per round (session vs health)")
    parser.add_argument("--upload-mb", type=int, default=256, help="size of the resumable upload")
    parser.add_argument("--starts", type=int, default=3, help="server starts timed")
    parser.add_argument("--quick", action="store_true", help="small counts: 3 rounds, 20 resizes, 64 MB")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.requests, args.auth_requests, args.upload_mb, args.starts = 3, 20, 400, 64, 3
    rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {"args": vars(args), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        image = tmp / "photo.jpg"
        make_image(image)
        data_dir = tmp / "data"
        port = free_port()
        server = start_server(data_dir, port)
        proc = psutil.Process(server.pid)
        try:
            key = api_key(f"http://127.0.0.1:{port}")
            sampler = MemorySampler(proc)
            sampler.start()
            resize, cpu = resize_rows(proc, port, key, image, args.requests, args.repeats)
            sampler.running = False
            sampler.join()
            rows += resize
            rows.append({"measure": "server-process CPU per fast resize request", "unit": "ms", "lutra": summary(cpu)})
            rows.append(auth_row(port, key, args.auth_requests, args.repeats))
            rows.append(merge_row(port, key, tmp, args.repeats))
            time.sleep(2.0)
            idle = {"rss": tree_rss(proc) / 2**20, "pss": tree_pss(proc) / 2**20}
            time.sleep(SPARE_WAIT_S)
            settled = {"rss": tree_rss(proc) / 2**20, "pss": tree_pss(proc) / 2**20}
            for kind in ("rss", "pss"):
                name = "RSS sum" if kind == "rss" else "PSS sum (shared pages once)"
                rows.append(
                    {"measure": f"memory, server + workers, 2 s after the jobs above, {name}", "unit": "MB"}
                    | {"lutra": summary([idle[kind]])}
                )
                rows.append(
                    {
                        "measure": f"memory, server + workers, {SPARE_WAIT_S + 2:.0f} s after the jobs, {name}",
                        "unit": "MB",
                    }
                    | {"lutra": summary([settled[kind]])}
                )
            rows.append(
                {"measure": "memory, server + workers, peak under the resize load, RSS sum", "unit": "MB"}
                | {"lutra": summary([sampler.peak / 2**20])}
            )
            rows.append(
                {"measure": "memory, server + workers, peak under the resize load, PSS sum", "unit": "MB"}
                | {"lutra": summary([sampler.peak_pss / 2**20])}
            )
            blob = os.urandom(args.upload_mb * 2**20)
            speeds = [resumable_upload(port, key, blob) for _ in range(args.repeats)]
            rows.append(
                {"measure": f"resumable upload of {args.upload_mb} MB, end to end", "unit": "MB/s"}
                | {"lutra": summary(speeds)}
            )
        finally:
            server.terminate()
            server.wait(timeout=20)
        starts = [start_to_healthy(data_dir) for _ in range(args.starts)]
        rows.append(
            {"measure": "`lutra serve` start to healthy (existing data folder)", "unit": "s"}
            | {"lutra": summary(starts)}
        )
    print(f"{os.cpu_count()} CPU cores; resize target {TARGET} px Q{QUALITY}; {args.repeats} interleaved rounds")
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"run_all-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({**raw, "rows": rows}, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
