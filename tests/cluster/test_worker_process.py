"""`lutra worker` as an operator drives it, with real processes: one `lutra serve`, workers started
and signalled per test, a redis-server started here and real PostgreSQL.

- the first SIGTERM is a warm shutdown: the running job finishes on this worker, no new one is taken;
- a second signal stops it at once: the job's engine process (and what it started) is killed and the
  job goes back to the queue, where the next worker picks it up;
- a worker whose code does not match the database's schema refuses to start, naming both revisions.

Needs TEST_DATABASE_URL (CI sets it): the scaled mode shares one database between processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from app import __version__
from app.cluster.executor import REQUEUED_MESSAGE
from app.migrate import alembic_config, head_revisions
from tests.cluster.helpers import (
    NEEDS_POSTGRES,
    NOT_INHERITED,
    ROOT,
    Cluster,
    RedisServer,
    jpeg,
    postgres_database,
    process_gone,
    stop,
    wait_until,
)
from tests.engine.helpers import TOOL_MODULES

pytestmark = [
    NEEDS_POSTGRES,
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def cluster(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One API node and no worker yet: each test starts (and signals) its own."""
    tmp = tmp_path_factory.mktemp("worker-process")
    with postgres_database(os.environ["TEST_DATABASE_URL"]) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_server.url,
            "DATA_DIR": str(tmp / "data"),
            "TOOL_MODULES": TOOL_MODULES,
            "AUTH_ENABLED": "true",
            "RATE_LIMIT_PER_MIN": "10000",
            "WORKER_STOP_GRACE_S": "120",  # longer than any job here: only a second signal cuts it short
        }
        logs = tmp / "logs"
        logs.mkdir()
        c = Cluster(env, logs)
        try:
            c.sign_in(c.start_api())
            yield c
        finally:
            c.close()


def start_job(api: httpx.Client, tool: str, settings: dict[str, Any]) -> str:
    r = api.post(
        f"/api/v1/tools/files/{tool}",
        files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        data={"settings": json.dumps(settings)},
    )
    assert r.status_code == 202, r.text
    return r.json()["jobId"]


def job(api: httpx.Client, job_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/jobs/{job_id}").json()


def running_on(api: httpx.Client, job_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        found = [w for w in api.get("/api/v1/admin/workers").json()["workers"] if job_id in w["runningJobs"]]
        return found[0] if found else None

    return wait_until(find, 60, "a worker to take the job", every=0.3)


def is_queued(state: dict[str, Any], message: str = "Queued") -> bool:
    """A job waiting for a worker: the seed's streams say processing at 0 %, with a message saying so."""
    return (state["status"], state["progress"], state["message"]) == ("processing", 0, message)


def health(base: str) -> dict[str, Any]:
    return httpx.get(base + "/api/v1/health", timeout=10).json()


def new_worker(cluster: Cluster, base: str) -> subprocess.Popen[bytes]:
    proc = cluster.start_worker("--concurrency", "1")
    wait_until(lambda: any(w["pid"] == proc.pid for w in workers(cluster, base)), 90, "the worker online")
    return proc


def workers(cluster: Cluster, base: str) -> list[dict[str, Any]]:
    with cluster.client(base) as api:
        return list(api.get("/api/v1/admin/workers").json()["workers"])


def test_the_first_sigterm_lets_the_running_job_finish_and_takes_no_new_one(cluster: Cluster) -> None:
    base = cluster.apis[0][1]
    proc = new_worker(cluster, base)
    with cluster.client(base) as api:
        first = start_job(api, "test-sleep", {"seconds": 12, "steps": 12})
        assert running_on(api, first)["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        second = start_job(api, "test-sleep", {"seconds": 0.2, "steps": 1})
        time.sleep(2)
        assert proc.poll() is None, "the worker left before its job was done"
        assert job(api, first)["status"] == "processing"
        assert proc.wait(60) == 0
        done = job(api, first)
        assert done["status"] == "completed", done  # finished here, not handed back
        # The job sent after the signal was not taken: it waits in the queue for another worker.
        assert is_queued(job(api, second)), job(api, second)
        wait_until(lambda: health(base)["queued"] == 1 and health(base)["workers"] == 0, 30, "it to wait")
        cluster.workers.remove(proc)
        other = new_worker(cluster, base)
        wait_until(lambda: job(api, second)["status"] == "completed", 60, "the next worker to run it")
        stop(other)
        cluster.workers.remove(other)


def test_a_busy_worker_leaves_further_tasks_in_the_queue_for_another(cluster: Cluster) -> None:
    base = cluster.apis[0][1]
    busy = new_worker(cluster, base)
    with cluster.client(base) as api:
        first = start_job(api, "test-sleep", {"seconds": 40, "steps": 40})
        assert running_on(api, first)["pid"] == busy.pid
        second = start_job(api, "test-sleep", {"seconds": 0.2, "steps": 1})
        time.sleep(2)  # time enough for a prefetching worker to have reserved it
        assert health(base)["queued"] == 1 and is_queued(job(api, second))
        other = new_worker(cluster, base)
        wait_until(lambda: job(api, second)["status"] == "completed", 30, "the idle worker to run it")
        assert job(api, first)["status"] == "processing"  # taken at once, not after the busy one's job
        assert api.post(f"/api/v1/jobs/{first}/cancel").json() == {"canceled": True}
        wait_until(lambda: job(api, first)["status"] == "canceled", 30, "the first job to end")
        for proc in (busy, other):
            stop(proc)
            cluster.workers.remove(proc)


@pytest.mark.parametrize("second_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_stops_the_worker_at_once_and_the_job_goes_back(
    cluster: Cluster, tmp_path: Path, second_signal: signal.Signals
) -> None:
    base = cluster.apis[0][1]
    proc = new_worker(cluster, base)
    pid_file = tmp_path / "hang.pid"
    with cluster.client(base) as api:
        # test-hang never ends by itself: only the second signal can end this worker in time.
        job_id = start_job(api, "test-hang", {"pidFile": str(pid_file)})
        assert running_on(api, job_id)["pid"] == proc.pid
        engine_pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 30, "the tool to run"))
        proc.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert proc.poll() is None and not process_gone(engine_pid), "the first signal must be a warm shutdown"
        proc.send_signal(second_signal)
        assert proc.wait(15) == 0
        cluster.workers.remove(proc)
        wait_until(lambda: process_gone(engine_pid), 10, "the job's engine process to be killed")
        # Handed back, not lost: queued again (no heartbeat for the reaper to end), then run by the next worker.
        assert is_queued(job(api, job_id), REQUEUED_MESSAGE), job(api, job_id)
        assert health(base)["queued"] == 1
        pid_file.unlink()
        other = new_worker(cluster, base)
        assert running_on(api, job_id)["pid"] == other.pid
        again = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 30, "the tool to run again"))
        assert again != engine_pid
        assert api.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
        wait_until(lambda: job(api, job_id)["status"] == "canceled", 30, "the job to end canceled")
        stop(other)
        cluster.workers.remove(other)


def run_worker(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency", "1"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in NOT_INHERITED}, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_refuses_a_database_whose_schema_differs_from_its_migrations(redis_server: RedisServer) -> None:
    [head] = head_revisions()
    with postgres_database(os.environ["TEST_DATABASE_URL"]) as db_url:
        env = {"DATABASE_URL": db_url, "REDIS_URL": redis_server.url, "TOOL_MODULES": TOOL_MODULES}
        # An empty database (never migrated).
        done = run_worker(env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.strip().splitlines()[-1] == (
            f"Lutra worker {__version__} refuses to start: the database schema is at revision empty, "
            f"this worker needs {head} (run `lutra migrate` or update this worker)"
        )
        assert "Traceback" not in done.stderr
        # A database migrated by an older Lutra: one revision behind.
        from alembic import command

        command.upgrade(alembic_config(db_url), "0005_i21")
        done = run_worker(env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr.strip().splitlines()[-1] == (
            f"Lutra worker {__version__} refuses to start: the database schema is at revision 0005_i21, "
            f"this worker needs {head} (run `lutra migrate` or update this worker)"
        )
        assert "Traceback" not in done.stderr
        # A database ahead of this worker (migrated by a newer Lutra).
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_newer'"))
        engine.dispose()
        done = run_worker(env)
        assert done.returncode == 1
        assert "the database schema is at revision 0099_newer, this worker needs " + head in done.stderr
