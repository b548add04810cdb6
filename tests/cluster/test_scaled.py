"""The scaled mode as a user runs it: two `lutra serve` API nodes and two `lutra worker` processes as
real OS processes, one real redis-server (started here on a free port) and real PostgreSQL.

Needs TEST_DATABASE_URL (CI sets it): the scaled mode shares one database between processes.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
import redis

from app import __version__
from tests.ai.test_features import double_model, write_manifest
from tests.cluster.helpers import (
    ADMIN_PASSWORD,
    NEEDS_POSTGRES,
    Cluster,
    RedisServer,
    jpeg,
    postgres_database,
    process_gone,
    sse_events,
    stop,
    wait_until,
)
from tests.engine.helpers import TOOL_MODULES

pytestmark = [
    NEEDS_POSTGRES,
    pytest.mark.timeout(300),
]
HEARTBEAT_TIMEOUT_S = 4


@pytest.fixture(scope="module")
def model_manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An AI manifest whose demo model is served by a local HTTP server (no internet here)."""
    folder = tmp_path_factory.mktemp("model-server")
    files = {"demo.onnx": double_model()}
    for name, body in files.items():
        (folder / name).write_bytes(body)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield write_manifest(folder / "manifest.json", files, f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def cluster(
    redis_server: RedisServer, model_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scaled")
    with postgres_database(os.environ["TEST_DATABASE_URL"]) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_server.url,
            "DATA_DIR": str(tmp / "data"),  # the shared volume of every node
            "TOOL_MODULES": TOOL_MODULES + ",tests.ai.stand_in_tools",
            "AI_MANIFEST": str(model_manifest),
            "JOB_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S),
            "WORKER_WAIT_S": "2",
            "WORKER_STOP_GRACE_S": "3",
            "AUTH_ENABLED": "true",
            "RATE_LIMIT_PER_MIN": "10000",
        }
        logs = tmp / "logs"
        logs.mkdir()
        c = Cluster(env, logs)
        try:
            first = c.start_api()  # the first node migrates the empty database
            c.start_worker("--concurrency", "2")
            c.start_worker("--concurrency", "2")
            c.start_api()
            c.sign_in(first)
            wait_until(lambda: c.workers_online(first) == 2, 90, "two workers online")
            yield c
        finally:
            c.close()


def node(cluster: Cluster, index: int) -> httpx.Client:
    return cluster.client(cluster.apis[index][1])


def resize(client: httpx.Client, width: int = 16) -> httpx.Response:
    return client.post(
        "/api/v1/tools/image/resize",
        files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        data={"settings": json.dumps({"width": width})},
    )


def start_long(client: httpx.Client, tool: str, settings: dict[str, Any]) -> str:
    r = client.post(
        f"/api/v1/tools/files/{tool}",
        files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
        data={"settings": json.dumps(settings)},
    )
    assert r.status_code == 202, r.text
    return r.json()["jobId"]


def terminal(client: httpx.Client, job_id: str, limit: float = 60) -> dict[str, Any]:
    for event in sse_events(client, job_id, limit):
        if event["status"] in ("completed", "failed", "canceled"):
            return event
    raise AssertionError("the stream ended without a final event")


def running_worker(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """The worker that runs the job, as the admin workers list describes it (waits until one has taken it)."""

    def find() -> dict[str, Any] | None:
        found = [w for w in client.get("/api/v1/admin/workers").json()["workers"] if job_id in w["runningJobs"]]
        return found[0] if found else None

    return wait_until(find, 30, "a worker to take the job", every=0.5)


def test_a_fast_tool_answers_200_through_a_worker_and_downloads_work_on_the_other_node(cluster: Cluster) -> None:
    with node(cluster, 0) as a, node(cluster, 1) as b:
        r = resize(a, width=16)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["downloadUrl"].startswith(f"/api/v1/download/{body['jobId']}/")
        got = b.get(body["downloadUrl"])
        assert got.status_code == 200
        image = pyvips.Image.new_from_buffer(got.content, "")
        assert (image.width, image.height) == (16, 12)
        # Bad settings are still refused by the API node, before any queueing.
        bad = a.post(
            "/api/v1/tools/image/resize",
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
            data={"settings": json.dumps({"width": -3})},
        )
        assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"


def test_a_pipeline_runs_its_steps_on_a_worker(cluster: Cluster) -> None:
    steps = [{"toolId": "resize", "settings": {"width": 32}}, {"toolId": "rotate", "settings": {"angle": 90}}]
    with node(cluster, 1) as b, node(cluster, 0) as a:
        r = b.post(
            "/api/v1/pipeline/execute",
            files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
            data={"pipeline": json.dumps({"steps": steps})},
        )
        assert r.status_code == 200, r.text
        assert r.json()["stepsCompleted"] == 2
        image = pyvips.Image.new_from_buffer(a.get(r.json()["downloadUrl"]).content, "")
        assert (image.width, image.height) == (24, 32)  # 64x48 -> 32x24 -> rotated


def test_a_model_install_runs_on_a_worker_and_every_node_sees_the_model(cluster: Cluster) -> None:
    picture = pyvips.Image.black(8, 8, bands=3) + [10, 20, 30]
    png = picture.cast("uchar").write_to_buffer(".png")
    with node(cluster, 0) as a, node(cluster, 1) as b:
        r = a.post("/api/v1/tools/image/test-ai-double", files={"file": ("p.png", png, "image/png")})
        assert r.status_code == 501 and r.json()["code"] == "FEATURE_NOT_INSTALLED"
        r = b.post("/api/v1/admin/features/demo/install")
        assert r.status_code == 202, r.text
        event = terminal(a, r.json()["jobId"])
        assert event["status"] == "completed", event
        assert event["result"]["installedModels"] == ["demo-model"]
        logs = cluster.log_tail("worker-0", 200) + cluster.log_tail("worker-1", 200)
        assert "lutra.install_bundle" in logs  # a worker downloaded it, not the API node
        r = a.post("/api/v1/tools/image/test-ai-double", files={"file": ("p.png", png, "image/png")})
        assert r.status_code == 200, r.text
        assert r.json()["doubled"] == pytest.approx([20.0, 40.0, 60.0])


def test_long_job_progress_is_relayed_by_the_other_node_latest_state_first(cluster: Cluster) -> None:
    with node(cluster, 0) as a, node(cluster, 1) as b:
        job_id = start_long(a, "test-sleep", {"seconds": 4, "steps": 20})
        # Connect late, mid-job, through the node that did not take the request.
        time.sleep(2)
        events = []
        for event in sse_events(b, job_id):
            events.append(event)
            if event["status"] in ("completed", "failed", "canceled"):
                break
        assert events[0]["status"] == "processing" and events[0]["progress"] > 0, events[0]
        assert events[0]["message"].startswith("step"), events[0]
        steps = [e["progress"] for e in events if e["status"] == "processing"]
        assert steps == sorted(steps) and len(steps) >= 2
        assert events[-1]["status"] == "completed", events[-1]
        got = a.get(events[-1]["result"]["downloadUrl"])
        assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"


def test_cancel_through_the_other_node_kills_the_work(cluster: Cluster, tmp_path: Path) -> None:
    pid_file = tmp_path / "hang.pid"
    with node(cluster, 0) as a, node(cluster, 1) as b:
        job_id = start_long(a, "test-hang", {"pidFile": str(pid_file)})
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), 30, "the job to run")
        pid = int(pid_file.read_text())
        r = b.post(f"/api/v1/jobs/{job_id}/cancel")
        assert r.status_code == 200 and r.json() == {"canceled": True}
        event = terminal(b, job_id)
        assert event["status"] == "canceled", event
        # test-hang ignores the cancel flag: its whole process group is killed after the grace period.
        wait_until(lambda: process_gone(pid), 10, "the job's process to be killed")


def test_health_counts_workers_and_admin_health_lists_them(cluster: Cluster) -> None:
    with node(cluster, 1) as b:
        public = httpx.get(cluster.apis[1][1] + "/api/v1/health").json()
        assert public["status"] == "healthy" and public["workers"] == 2 and public["queued"] == 0
        admin = b.get("/api/v1/admin/health").json()
        assert len(admin["workers"]) == 2
        for worker in admin["workers"]:
            assert worker["queues"] == ["default"] and worker["concurrency"] == 2
            assert worker["host"] and time.time() - worker["heartbeat"] < 30
            assert isinstance(worker["runningJobs"], list) and worker["pid"] > 0
        assert admin["queues"] == {"default": 0, "gpu": 0}


def test_the_rate_limit_is_counted_across_api_nodes(cluster: Cluster) -> None:
    with node(cluster, 0) as a, node(cluster, 1) as b:
        for _ in range(3):
            answers = [c.get("/api/v1/tools").headers for c in (a, b, a)]
            if len({h["X-RateLimit-Reset"] for h in answers}) == 1:
                break  # all three in one fixed one-minute window (else a new minute began: again)
        first, second, third = (int(h["X-RateLimit-Remaining"]) for h in answers)
        assert second == first - 1 and third == first - 2


def test_a_tool_turned_off_a_key_revoked_or_a_session_ended_on_one_node_holds_on_the_other(
    cluster: Cluster,
) -> None:
    (_, a_base), (_, b_base) = cluster.apis
    with node(cluster, 0) as a, node(cluster, 1) as b:
        assert "rotate" in {t["id"] for t in b.get("/api/v1/tools").json()["tools"]}
        assert a.put("/api/v1/settings", json={"disabledTools": ["rotate"]}).status_code == 200
        try:
            # Node B caches tool visibility for 2 s at most.
            wait_until(
                lambda: "rotate" not in {t["id"] for t in b.get("/api/v1/tools").json()["tools"]}, 10, "B to see it"
            )
            r = b.post(
                "/api/v1/tools/image/rotate",
                files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
                data={"settings": json.dumps({"angle": 90})},
            )
            assert r.status_code == 404 and r.json()["code"] == "TOOL_NOT_FOUND", r.text
        finally:
            assert a.put("/api/v1/settings", json={"disabledTools": []}).status_code == 200
        key = a.post("/api/v1/api-keys", json={"name": "scaled"}).json()
        with_key = {"Authorization": f"Bearer {key['key']}"}
        assert httpx.get(b_base + "/api/auth/session", headers=with_key).status_code == 200
        assert a.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200
        r = httpx.get(b_base + "/api/auth/session", headers=with_key)
        assert r.status_code == 401 and r.json()["code"] == "INVALID_API_KEY"
    token = httpx.post(
        a_base + "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30
    ).json()["token"]
    session = {"Authorization": f"Bearer {token}"}
    assert httpx.get(b_base + "/api/auth/session", headers=session).status_code == 200
    assert httpx.post(a_base + "/api/auth/logout", headers=session).status_code == 200
    r = httpx.get(b_base + "/api/auth/session", headers=session)
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"


def test_a_worker_of_another_version_refuses_to_start(cluster: Cluster, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    ours = client.get("lutra:version")
    assert ours == __version__  # written by the API nodes at start
    client.set("lutra:version", "0.0.1-other")
    try:
        proc = cluster.start_worker("--concurrency", "1")
        cluster.workers.remove(proc)
        assert proc.wait(60) == 1
    finally:
        client.set("lutra:version", ours)
        client.close()
    lines = [line for line in cluster.log_tail(f"worker-{len(cluster.workers)}").splitlines() if line.strip()]
    assert lines[-1] == f"Lutra worker {__version__} refuses to start: the API nodes run Lutra 0.0.1-other"


def test_a_batch_fans_out_over_the_workers(cluster: Cluster) -> None:
    with node(cluster, 0) as a:
        files = [("files", (f"p{i}.jpg", jpeg(40 + i, 30), "image/jpeg")) for i in range(6)]
        r = a.post("/api/v1/tools/image/resize/batch", files=files, data={"settings": json.dumps({"width": 10})})
        assert r.status_code == 200, r.text
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        assert sorted(archive.namelist()) == sorted(f"p{i}_resized.jpg" for i in range(6))
        for name in archive.namelist():
            assert pyvips.Image.new_from_buffer(archive.read(name), "").width == 10


def test_a_batch_runs_on_both_workers_at_once_and_a_pipeline_batch_fans_out_too(cluster: Cluster) -> None:
    with node(cluster, 0) as a, node(cluster, 1) as b:
        files = [("files", (f"s{i}.jpg", jpeg(), "image/jpeg")) for i in range(4)]
        r = a.post(
            "/api/v1/tools/files/test-sleep/batch?async=true",
            files=files,
            data={"settings": json.dumps({"seconds": 8, "steps": 8})},  # long enough to be seen side by side
        )
        assert r.status_code == 202, r.text
        batch_id = r.json()["jobId"]

        def busy_workers() -> set[int]:
            found = b.get("/api/v1/admin/workers").json()["workers"]
            return {w["pid"] for w in found if any(j.startswith(batch_id + ".") for j in w["runningJobs"])}

        # One task per file: the two workers (two jobs at once each) run the batch's files side by side.
        wait_until(lambda: len(busy_workers()) == 2, 60, "both workers to run the batch's files")
        event = terminal(b, batch_id, limit=120)
        assert event["status"] == "completed" and event["completedFiles"] == 4, event

        steps = [{"toolId": "resize", "settings": {"width": 20}}, {"toolId": "rotate", "settings": {"angle": 90}}]
        files = [("files", (f"q{i}.jpg", jpeg(), "image/jpeg")) for i in range(3)]
        r = b.post("/api/v1/pipeline/batch", files=files, data={"pipeline": json.dumps({"steps": steps})})
        assert r.status_code == 200, r.text
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        assert len(archive.namelist()) == 3
        for name in archive.namelist():
            image = pyvips.Image.new_from_buffer(archive.read(name), "")
            assert (image.width, image.height) == (15, 20)  # 64x48 -> 20x15 -> rotated


def test_a_job_whose_api_node_dies_is_not_left_running(cluster: Cluster) -> None:
    third = cluster.start_api()
    proc = cluster.apis.pop()[0]
    with cluster.client(third) as c, node(cluster, 0) as a:
        job_id = start_long(c, "test-sleep", {"seconds": 12, "steps": 12})
        running_worker(a, job_id)
        stop(proc, signal.SIGKILL)  # nobody waits for the worker's answer any more
        event = terminal(a, job_id)
        assert event["status"] == "failed" and event["code"] == "WORKER_LOST", event


def test_a_worker_killed_mid_job_ends_the_job_worker_lost(cluster: Cluster) -> None:
    with node(cluster, 0) as a, node(cluster, 1) as b:
        job_id = start_long(a, "test-sleep", {"seconds": 60, "steps": 60})
        worker = running_worker(b, job_id)
        os.kill(worker["pid"], signal.SIGKILL)
        started = time.monotonic()
        event = terminal(b, job_id, limit=60)
        assert event["status"] == "failed" and event["code"] == "WORKER_LOST", event
        assert "worker" in event["error"] and "lost" in event["error"]
        assert time.monotonic() - started < HEARTBEAT_TIMEOUT_S + 15
        # The stream of a finished job comes from the database, on either node.
        again = terminal(a, job_id)
        assert again["status"] == "failed" and again["code"] == "WORKER_LOST"
        # The dead worker's registry entry ages out: health stops counting it.
        wait_until(lambda: cluster.workers_online(cluster.apis[0][1]) == 1, 30, "one worker online")


def test_a_stopping_worker_hands_its_job_back_after_the_grace_period(cluster: Cluster) -> None:
    base = cluster.apis[0][1]
    if cluster.workers_online(base) < 2:  # after the kill -9 above: a second worker to hand over to
        cluster.start_worker("--concurrency", "2")
        wait_until(lambda: cluster.workers_online(base) == 2, 90, "two workers online")
    with node(cluster, 0) as a, node(cluster, 1) as b:
        job_id = start_long(a, "test-sleep", {"seconds": 8, "steps": 8})
        first = running_worker(b, job_id)
        proc = next(p for p in cluster.workers if p.pid == first["pid"])
        proc.send_signal(signal.SIGTERM)  # WORKER_STOP_GRACE_S=3 < the job's 8 s: it goes back
        assert proc.wait(30) == 0
        cluster.workers.remove(proc)
        event = terminal(b, job_id, limit=90)
        assert event["status"] == "completed", event  # finished by the other worker


def test_without_workers_fast_tools_answer_503_and_long_jobs_wait(cluster: Cluster) -> None:
    base = cluster.apis[0][1]
    for proc in cluster.workers:
        stop(proc, signal.SIGTERM)  # graceful: idle workers leave at once
        assert proc.returncode is not None
    wait_until(lambda: cluster.workers_online(base) == 0, 30, "no worker online")
    with node(cluster, 0) as a, node(cluster, 1) as b:
        started = time.monotonic()
        r = resize(a)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "NO_WORKERS" and "worker" in r.json()["error"]
        assert int(r.headers["Retry-After"]) > 0
        assert time.monotonic() - started >= 2  # it waited WORKER_WAIT_S for one
        job_id = start_long(a, "test-sleep", {"seconds": 0.2, "steps": 2})
        health = httpx.get(base + "/api/v1/health").json()
        assert health["workers"] == 0 and health["queued"] == 1  # waiting in the queue for a worker
        cluster.start_worker("--concurrency", "1")
        event = terminal(b, job_id, limit=120)
        assert event["status"] == "completed", event


def test_redis_lost_answers_queue_unavailable_and_recovers(cluster: Cluster, redis_server: RedisServer) -> None:
    with node(cluster, 0) as a:
        redis_server.stop()
        r = resize(a)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "QUEUE_UNAVAILABLE"
        redis_server.start()
        wait_until(lambda: cluster.workers_online(cluster.apis[0][1]) >= 1, 60, "the worker to come back", every=1)
        r = wait_until(lambda: (x := resize(a)).status_code == 200 and x, 60, "jobs accepted again", every=1)
        assert r.json()["downloadUrl"]


def test_a_credential_revoked_on_one_node_is_refused_by_the_other_at_once(cluster: Cluster) -> None:
    a, b = node(cluster, 0), node(cluster, 1)
    created = a.post("/api/v1/api-keys", json={"name": "script"})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    with_key = {"Authorization": f"Bearer {key}"}
    # Node b caches the key's principal, then node a deletes the key: b's next request is refused.
    for _ in range(2):
        assert b.get("/api/auth/session", headers=with_key).json()["user"]["username"] == "admin"
    assert a.delete(f"/api/v1/api-keys/{key_id}").status_code == 200
    r = b.get("/api/auth/session", headers=with_key)
    assert r.status_code == 401 and r.json()["code"] == "INVALID_API_KEY", r.text

    # A session logged out on node a is refused by node b, which had it cached.
    login = httpx.post(
        a.base_url.join("/api/auth/login"), json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30
    )
    token = login.json()["token"]
    with_token = {"Authorization": f"Bearer {token}"}
    assert b.get("/api/auth/session", headers=with_token).status_code == 200
    assert a.post("/api/auth/logout", headers=with_token).status_code == 200
    r = b.get("/api/auth/session", headers=with_token)
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED", r.text


def test_failed_logins_are_throttled_across_api_nodes(cluster: Cluster) -> None:
    # Last in this module: the throttle also counts per IP, so further logins from here wait a minute.
    answers = []
    for i in range(6):
        base = cluster.apis[i % 2][1]
        r = httpx.post(base + "/api/auth/login", json={"username": "nobody", "password": "wrong-guess"}, timeout=30)
        answers.append(r.status_code)
    assert answers == [401, 401, 401, 401, 401, 429], answers
