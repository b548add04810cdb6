"""Benchmark: the scaled mode's queue overhead, batch fan-out and worker scaling.

Run by hand (never in CI), with PostgreSQL reachable and redis-server installed:
  TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/scaleout_bench.py

In one run, on the same machine, the same database server and the same image (2.7 MP JPEG -> 512 px):
  1. embedded: one `lutra serve` (CONCURRENT_JOBS=2), resize latency at 1 client, throughput at 4;
  2. scaled: one API node + one `lutra worker --concurrency 2`, the same two measurements;
  3. scaled with a second worker process: throughput at 4 clients (what one more worker adds);
  4. a batch of N small images over the two workers: every item present, API node RSS growth.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster.helpers import (  # noqa: E402 - after the path set-up, so the script runs from anywhere
    Cluster,
    RedisServer,
    free_port,
    postgres_database,
    wait_until,
)

WIDTH, HEIGHT = 2016, 1344


def photo(width: int, height: int) -> bytes:
    noise = pyvips.Image.gaussnoise(width, height, sigma=30, mean=128)
    return noise.bandjoin([noise, noise]).cast("uchar").write_to_buffer(".jpg", Q=90)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(base: str, token: str, image: bytes, clients: int, count: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    settings = json.dumps({"width": 512, "quality": 80})

    def one(_: int) -> float:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
            start = time.perf_counter()
            r = c.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", image)}, data={"settings": settings})
            assert r.status_code == 200, r.text
            return time.perf_counter() - start

    for _ in range(3):  # warm-up: engine processes, caches, connections
        one(0)
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, range(count)))
    wall = time.perf_counter() - start
    return {
        "clients": clients,
        "requests": count,
        "per_s": round(count / wall, 2),
        "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
    }


def batch_run(base: str, token: str, api_pid: int, count: int) -> dict[str, float]:
    small = [photo(320, 240) for _ in range(8)]
    files = [("files", (f"img{i}.jpg", small[i % len(small)], "image/jpeg")) for i in range(count)]
    proc = psutil.Process(api_pid)
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], proc.memory_info().rss)

    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=1800) as c:
        r = c.post("/api/v1/tools/image/resize/batch", files=files, data={"settings": json.dumps({"width": 64})})
    wall = time.perf_counter() - start
    done.set()
    assert r.status_code == 200, r.text[:500]
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    return {
        "files": count,
        "zip_entries": len(names),
        "seconds": round(wall, 1),
        "files_per_s": round(count / wall, 1),
        "api_rss_before_mb": round(before / 2**20, 1),
        "api_rss_growth_mb": round((peak[0] - before) / 2**20, 1),
    }


def start(cluster: Cluster) -> tuple[str, int]:
    base = cluster.start_api()
    cluster.sign_in(base)
    return base, cluster.apis[-1][0].pid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-requests", type=int, default=20)
    parser.add_argument("--throughput-requests", type=int, default=40)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    db_base = os.environ.get("TEST_DATABASE_URL") or sys.exit("set TEST_DATABASE_URL (PostgreSQL)")
    image = photo(WIDTH, HEIGHT)
    results: dict[str, object] = {"cpus": os.cpu_count()}
    tools = {"TOOL_MODULES": "", "RATE_LIMIT_PER_MIN": "0", "AUTH_ENABLED": "true", "LOG_LEVEL": "warning"}
    with tempfile.TemporaryDirectory() as tmp:
        with postgres_database(db_base) as db_url:
            logs = Path(tmp) / "logs-embedded"
            logs.mkdir()
            env = {**tools, "DATABASE_URL": db_url, "DATA_DIR": f"{tmp}/embedded", "CONCURRENT_JOBS": "2"}
            embedded = Cluster(env, logs)
            try:
                base, _ = start(embedded)
                results["embedded_c1"] = measure(base, embedded.token, image, 1, args.latency_requests)
                results["embedded_c4"] = measure(base, embedded.token, image, 4, args.throughput_requests)
            finally:
                embedded.close()
        redis = RedisServer(free_port())
        redis.start()
        with postgres_database(db_base) as db_url:
            logs = Path(tmp) / "logs-scaled"
            logs.mkdir()
            env = {**tools, "DATABASE_URL": db_url, "DATA_DIR": f"{tmp}/scaled", "REDIS_URL": redis.url}
            scaled = Cluster(env, logs)
            try:
                base, api_pid = start(scaled)
                scaled.start_worker("--concurrency", "2")
                wait_until(lambda: scaled.workers_online(base) == 1, 120, "one worker")
                results["scaled_1worker_c1"] = measure(base, scaled.token, image, 1, args.latency_requests)
                results["scaled_1worker_c4"] = measure(base, scaled.token, image, 4, args.throughput_requests)
                scaled.start_worker("--concurrency", "2")
                wait_until(lambda: scaled.workers_online(base) == 2, 120, "two workers")
                results["scaled_2workers_c4"] = measure(base, scaled.token, image, 4, args.throughput_requests)
                results["batch_2workers"] = batch_run(base, scaled.token, api_pid, args.batch)
            finally:
                scaled.close()
                redis.stop()
    e1, s1 = results["embedded_c1"], results["scaled_1worker_c1"]
    e4, s4 = results["embedded_c4"], results["scaled_1worker_c4"]
    results["latency_ratio_c1"] = round(s1["p50_ms"] / e1["p50_ms"], 2)  # type: ignore[index]
    results["throughput_ratio_c4"] = round(s4["per_s"] / e4["per_s"], 2)  # type: ignore[index]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
