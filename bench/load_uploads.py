"""Load: many concurrent uploads by one ordinary user against a real `lutra serve`.

Run by hand:  .venv/bin/python bench/load_uploads.py [--uploads 200] [--size-mb 5] [--database-url URL]

It starts a server on a fresh DATA_DIR (SQLite, or the PostgreSQL database given), signs in an
ordinary user, sends every upload at once to /api/v1/files/upload while polling /api/v1/health every
50 ms, and checks what bounded admission promises: each upload gets a 2xx, or a 429/503 with
Retry-After; no 500, no dropped connection; health answers within 200 ms; every accepted file is
stored intact (downloaded and compared byte for byte). tests/test_load.py runs it at 50 uploads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HEALTH_BUDGET_S = 0.2
PASSWORD = "load-password-1"
# The health probe: asks every 50 ms until told to stop on stdin; prints "status seconds" per probe.
_POLLER = """
import sys, threading, time, httpx
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
seen = []
with httpx.Client(base_url=sys.argv[1], timeout=10) as hc:
    hc.get("/api/v1/health")
    print("ready", flush=True)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status = hc.get("/api/v1/health").status_code
        except httpx.HTTPError:
            status = 0
        seen.append(f"{status} {time.perf_counter() - started:.6f}")
        time.sleep(0.05)
print("\\n".join(seen))
"""


@dataclass
class LoadReport:
    uploads: int
    statuses: Counter[int] = field(default_factory=Counter)
    missing_retry_after: int = 0
    dropped: list[str] = field(default_factory=list)
    health_latencies: list[float] = field(default_factory=list)
    health_statuses: Counter[int] = field(default_factory=Counter)
    corrupt: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def health_max_ms(self) -> float:
        return max(self.health_latencies, default=0.0) * 1000

    def problems(self) -> list[str]:
        found = []
        bad = {s: n for s, n in self.statuses.items() if not (200 <= s < 300 or s in (429, 503))}
        if bad:
            found.append(f"unexpected statuses {bad}")
        if self.missing_retry_after:
            found.append(f"{self.missing_retry_after} refusals without Retry-After")
        if self.dropped:
            found.append(f"{len(self.dropped)} dropped connections, e.g. {self.dropped[0]}")
        if set(self.health_statuses) - {200}:
            found.append(f"health answered {dict(self.health_statuses)}")
        if self.health_max_ms > HEALTH_BUDGET_S * 1000:
            found.append(f"health took up to {self.health_max_ms:.0f} ms")
        if self.corrupt:
            found.append(f"{len(self.corrupt)} stored files differ from what was sent")
        return found

    def summary(self) -> str:
        lat = sorted(self.health_latencies) or [0.0]
        p50 = lat[len(lat) // 2] * 1000
        return (
            f"{self.uploads} uploads in {self.seconds:.1f} s: {dict(sorted(self.statuses.items()))}; "
            f"health x{len(lat)} p50 {p50:.0f} ms max {self.health_max_ms:.0f} ms; "
            f"dropped {len(self.dropped)}; accepted {self.accepted}, corrupt {len(self.corrupt)}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(data_dir: Path, database_url: str = "", **env: str) -> Iterator[str]:
    """A real `lutra serve` on a free port; yields its base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    log = (data_dir.parent / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 90 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def ordinary_user(base: str) -> str:
    """Signs in the first-start admin, creates user `loader` and returns its session token."""
    with httpx.Client(base_url=base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "admin", "password": "admin"}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        c.post("/api/auth/change-password", json={"currentPassword": "admin", "newPassword": PASSWORD}, headers=h)
        token = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        r = c.post("/api/auth/register", json={"username": "loader", "password": PASSWORD, "role": "user"}, headers=h)
        r.raise_for_status()
        token = c.post("/api/auth/login", json={"username": "loader", "password": PASSWORD}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        fresh = PASSWORD + "-new"
        c.post("/api/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": fresh}, headers=h)
        return c.post("/api/auth/login", json={"username": "loader", "password": fresh}).json()["token"]


async def _run(base: str, token: str, uploads: int, size: int) -> LoadReport:
    report = LoadReport(uploads)
    sent: dict[str, str] = {}  # file id -> sha256 of what was sent
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=uploads + 4, max_keepalive_connections=uploads + 4)

    async def upload(client: httpx.AsyncClient, index: int) -> None:
        body = random.Random(index).randbytes(size)  # made when sent: 1,000 x 5 MB never sit in memory at once
        try:
            r = await client.post(
                "/api/v1/files/upload", files={"file": (f"f{index}.bin", body, "application/octet-stream")}
            )
        except httpx.HTTPError as exc:
            report.dropped.append(f"{type(exc).__name__}: {exc}")
            return
        report.statuses[r.status_code] += 1
        if r.status_code in (429, 503, 507) and not r.headers.get("retry-after"):
            report.missing_retry_after += 1
        if r.status_code == 201:
            sent[r.json()["files"][0]["id"]] = hashlib.sha256(body).hexdigest()

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as client:
        # Its own process, like an orchestrator's probe: in a thread here it would wait on this process's
        # GIL (the uploads' loop makes and hashes the bodies) and measure the client, not the server.
        poller = subprocess.Popen(
            [sys.executable, "-c", _POLLER, base], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert poller.stdout is not None and poller.stdin is not None
        poller.stdout.readline()  # "ready": its first probe answered
        started = time.monotonic()
        await asyncio.gather(*(upload(client, i) for i in range(uploads)))
        report.seconds = time.monotonic() - started
        await asyncio.sleep(0.3)  # health right after the load, too
        out, _ = poller.communicate("stop\n", timeout=30)
        for line in out.splitlines():
            status, seconds = line.split()
            report.health_statuses[int(status)] += 1
            report.health_latencies.append(float(seconds))
        for file_id, digest in sent.items():
            r = await client.get(f"/api/v1/files/{file_id}/download")
            if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != digest:
                report.corrupt.append(file_id)
    return report


def run_load(base: str, uploads: int, size_mb: float) -> LoadReport:
    return asyncio.run(_run(base, ordinary_user(base), uploads, int(size_mb * 1024 * 1024)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (an empty database); default SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "data", args.database_url) as base:
        report = run_load(base, args.uploads, args.size_mb)
    print(report.summary())
    problems = report.problems()
    for problem in problems:
        print("PROBLEM:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
