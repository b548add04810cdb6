"""Real processes for the scaled-mode tests and benchmarks: redis-server, `lutra serve`, `lutra worker`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "admin-password-1"
# Settings the spawned nodes must not inherit from the shell running the tests.
NOT_INHERITED = (
    "DEFAULT_USERNAME",
    "DEFAULT_PASSWORD",
    "CONCURRENT_JOBS",
    "PORT",
    "HOST",
    "MAX_BATCH_SIZE",
    "REDIS_URL",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Any, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed (docker/apt-packages.txt lists it)"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, 15, "redis-server")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL)
            self.proc = None


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database on the server of TEST_DATABASE_URL, dropped afterwards."""
    url = make_url(base_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"lutra_scaled_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Cluster:
    """API nodes and workers sharing one DATA_DIR, one database and one Redis."""

    env: dict[str, str]
    logs: Path
    apis: list[tuple[subprocess.Popen[bytes], str]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    token: str = ""

    def _spawn(self, args: list[str], label: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{label}.log", "ab")  # noqa: SIM115 - kept open for the process's lifetime
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env={
                **{k: v for k, v in os.environ.items() if k not in NOT_INHERITED},
                **self.env,
                **(env or {}),
                "PYTHONPATH": str(ROOT),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_api(self) -> str:
        port = free_port()
        proc = self._spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], f"api-{port}")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"API node exited: {self.log_tail(f'api-{port}')}")
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(base + "/api/v1/health", timeout=2).status_code == 200
            return False

        wait_until(up, 120, f"API node on {port}", every=0.5)
        self.apis.append((proc, base))
        return base

    def start_worker(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = self._spawn(["worker", *args], f"worker-{len(self.workers)}", env)
        self.workers.append(proc)
        return proc

    def log_tail(self, label: str, lines: int = 30) -> str:
        path = self.logs / f"{label}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def sign_in(self, base: str) -> str:
        r = httpx.post(base + "/api/auth/login", json={"username": "admin", "password": "admin"}, timeout=30)
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        r = httpx.post(
            base + "/api/auth/change-password",
            json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        r = httpx.post(base + "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30)
        self.token = r.json()["token"]
        return self.token

    def client(self, base: str, timeout: float = 60) -> httpx.Client:
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout)

    def workers_online(self, base: str) -> int:
        with contextlib.suppress(httpx.HTTPError):
            return int(httpx.get(base + "/api/v1/health", timeout=5).json()["workers"])
        return -1

    def close(self) -> None:
        for proc in self.workers:
            stop(proc, signal.SIGKILL)
        for proc, _ in self.apis:
            stop(proc)


def sse_events(client: httpx.Client, job_id: str, limit: float = 60) -> Iterator[dict[str, Any]]:
    """The job's progress stream, frame by frame (heartbeat comments skipped)."""
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=limit) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("data: "):
                yield json.loads(line[6:])


# The scaled mode's tests need PostgreSQL shared by several processes (SQLite is one process's file).
NEEDS_POSTGRES = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="the scaled mode needs PostgreSQL shared by several processes: set TEST_DATABASE_URL",
)


def jpeg(width: int = 64, height: int = 48) -> bytes:
    noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40)
    return noise.bandjoin([noise, noise]).cast("uchar").write_to_buffer(".jpg", Q=90)
