"""Benchmark: Lutra's resize endpoint against a bare in-process pyvips thumbnail loop.

Run by hand (never in CI):  .venv/bin/python bench/resize_bench.py [--requests 200]

In one run it measures, on the same machine and the same image (a 2.7-megapixel JPEG, fit to 512 px,
quality 80):
  * the bare engine: pyvips.Image.thumbnail + JPEG encode in a loop, with 2 and 4 threads;
  * the endpoint: POST /api/v1/tools/image/resize + GET of the result, with 2 and 4 concurrent
    clients, against a real `lutra serve` started with a fresh DATA_DIR;
and prints throughput, p50/p95 latency, the endpoint/engine ratio, the server's idle memory and its
peak memory (server process plus its worker processes).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pyvips

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 2016, 1344  # 2.71 megapixels
TARGET = 512
QUALITY = 80


def make_image(path: Path) -> None:
    """A photo-like JPEG: smooth gradients plus noise, so the encoder has real work."""
    xyz = pyvips.Image.xyz(WIDTH, HEIGHT)
    x, y = xyz[0], xyz[1]
    r = (x * 255 / WIDTH).cast("uchar")
    g = (y * 255 / HEIGHT).cast("uchar")
    b = ((x + y) * 127 / (WIDTH + HEIGHT)).cast("uchar")
    noise = pyvips.Image.gaussnoise(WIDTH, HEIGHT, sigma=18, mean=0)
    image = r.bandjoin([g, b]).cast("float") + noise
    image.cast("uchar").jpegsave(str(path), Q=90)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_engine(path: Path, threads: int, count: int) -> dict[str, float]:
    def one(_: int) -> float:
        start = time.perf_counter()
        thumb = pyvips.Image.thumbnail(str(path), TARGET, height=TARGET)
        thumb.jpegsave_buffer(Q=QUALITY)
        return time.perf_counter() - start

    pyvips.cache_set_max(0)
    one(0)  # warm-up
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    return {"throughput": count / elapsed, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def tree_pss(proc: psutil.Process) -> int:
    """Proportional set size: shared pages (libvips, Python's own library) counted once across the
    processes, not once per process as a sum of RSS does."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_full_info().pss
    return total


class MemorySampler(threading.Thread):
    """Peak RSS sum every 50 ms and peak PSS sum every 0.5 s (reading smaps costs more)."""

    def __init__(self, proc: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.peak = 0
        self.peak_pss = 0
        self.running = True

    def run(self) -> None:
        ticks = 0
        while self.running:
            self.peak = max(self.peak, tree_rss(self.proc))
            if ticks % 10 == 0:
                self.peak_pss = max(self.peak_pss, tree_pss(self.proc))
            ticks += 1
            time.sleep(0.05)


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "warning"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen([str(ROOT / ".venv/bin/lutra"), "serve", "--host", "127.0.0.1"], env=env, cwd=ROOT)
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def api_key(base: str) -> str:
    with httpx.Client(base_url=base) as c:
        token = c.post("/api/auth/login", json={"username": "admin", "password": "admin"}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        c.post(
            "/api/auth/change-password", json={"currentPassword": "admin", "newPassword": "bench-password"}, headers=h
        ).raise_for_status()
        return c.post("/api/v1/api-keys", json={"name": "bench"}, headers=h).json()["key"]


def follow_job(client: httpx.Client, job_id: str) -> dict:
    """Reads a long job's SSE stream to its terminal frame and returns that frame."""
    final: dict = {}
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                final = json.loads(line[6:])
                if final["status"] in ("completed", "failed", "canceled"):
                    break
    return final


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    """Encodes the upload once: the load generator should cost as little CPU as possible, like wrk."""
    boundary = "lutra-bench-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def bench_endpoint(port: int, key: str, path: Path, clients: int, count: int) -> dict[str, float]:
    settings = json.dumps({"width": TARGET, "height": TARGET, "fit": "inside", "quality": QUALITY})
    body, content_type = multipart({"settings": settings}, "photo.jpg", path.read_bytes())
    auth = {"Authorization": f"Bearer {key}"}
    local = threading.local()

    def one(_: int) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn = local.conn
        start = time.perf_counter()
        conn.request("POST", "/api/v1/tools/image/resize", body=body, headers={**auth, "Content-Type": content_type})
        answer = conn.getresponse()
        payload = answer.read()
        if answer.status != 200:
            raise SystemExit(f"resize answered {answer.status}: {payload[:200]!r}")
        conn.request("GET", json.loads(payload)["downloadUrl"], headers=auth)
        result = conn.getresponse()
        image = result.read()
        assert result.status == 200 and image[:3] == b"\xff\xd8\xff"
        return time.perf_counter() - start

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(clients * 2)))  # warm-up: worker processes start
        start = time.perf_counter()
        latencies = list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    return {"throughput": count / elapsed, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "photo.jpg"
        make_image(image)
        print(
            f"image: {WIDTH}x{HEIGHT} JPEG, {image.stat().st_size // 1024} KB; target {TARGET} px, Q{QUALITY}; "
            f"{os.cpu_count()} CPU cores"
        )
        port = free_port()
        server = start_server(Path(tmp) / "data", port)
        proc = psutil.Process(server.pid)
        try:
            time.sleep(1.0)
            idle = tree_rss(proc)
            base = f"http://127.0.0.1:{port}"
            key = api_key(base)
            rows = []
            sampler = MemorySampler(proc)
            sampler.start()
            for level in (2, 4):
                engine = bench_engine(image, level, args.requests)
                endpoint = bench_endpoint(port, key, image, level, args.requests)
                rows.append((level, engine, endpoint))
            sampler.running = False
            sampler.join()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"\nidle server memory (server + workers): {idle / 2**20:.0f} MB")
    print(f"peak server memory under load:         {sampler.peak / 2**20:.0f} MB\n")
    print(
        f"{'conc':>4} | {'engine req/s':>12} {'p50 ms':>7} {'p95 ms':>7} | {'endpoint req/s':>14} "
        f"{'p50 ms':>7} {'p95 ms':>7} | {'ratio':>5}"
    )
    for level, engine, endpoint in rows:
        ratio = endpoint["throughput"] / engine["throughput"]
        print(
            f"{level:>4} | {engine['throughput']:>12.1f} {engine['p50'] * 1000:>7.1f} {engine['p95'] * 1000:>7.1f} | "
            f"{endpoint['throughput']:>14.1f} {endpoint['p50'] * 1000:>7.1f} {endpoint['p95'] * 1000:>7.1f} | "
            f"{ratio:>5.2f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
