"""Jobs through the HTTP API: SSE progress, access, cancellation, crashes, time limits, restart, clean-up."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.engine.runner import CANCEL_GRACE_S
from app.models import Job
from tests.assertions import assert_error, database
from tests.conftest import auth, create_user
from tests.engine.conftest import StartApp
from tests.engine.helpers import png, post_tool, read_events

EVENT_FIELDS = {"jobId", "status", "progress", "message", "phase", "percent", "stage"}
PHASES = {"processing": "processing", "completed": "complete", "failed": "failed", "canceled": "canceled"}


def assert_frames(events: list[dict[str, Any]], job_id: str) -> None:
    """Every frame speaks both vocabularies; progress never goes back; exactly one terminal frame, last."""
    last = -1
    for event in events:
        assert set(event) >= EVENT_FIELDS, event
        assert event["jobId"] == job_id
        assert event["phase"] == PHASES[event["status"]]
        assert isinstance(event["progress"], int) and 0 <= event["progress"] <= 100
        assert event["percent"] == event["progress"]
        assert event["stage"] == event["message"]
        if event["status"] == "processing":
            assert event["progress"] >= last, events
            last = event["progress"]
    terminal = [e for e in events if e["status"] in ("completed", "failed", "canceled")]
    assert terminal == [events[-1]], events


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def row(job_id: str) -> Job:
    with database() as db:
        job = db.get(Job, job_id)
        assert job is not None
        db.expunge(job)
        return job


def user_id(client: TestClient) -> str:
    r = client.get("/api/auth/session")
    assert r.status_code == 200, r.text
    return r.json()["user"]["id"]


def test_progress_stream_of_a_long_job(tools_client: TestClient) -> None:
    image = png(colour=(40, 50, 60))
    r = post_tool(tools_client, "files/test-sleep", [("slow.png", image)], {"seconds": 1.5, "steps": 5})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    events = read_events(tools_client, job_id)
    assert_frames(events, job_id)
    steps = [e for e in events if e["status"] == "processing" and e["message"] and e["message"].startswith("step")]
    assert len(steps) >= 2, events
    assert 0 < steps[0]["progress"] < 100
    done = events[-1]
    assert (done["status"], done["phase"], done["progress"]) == ("completed", "complete", 100)
    result = done["result"]
    assert result == {
        "jobId": job_id,
        "downloadUrl": result["downloadUrl"],
        "originalSize": len(image),
        "processedSize": len(image),
    }
    assert result["downloadUrl"].startswith(f"/api/v1/download/{job_id}/slow.png?exp=")
    assert tools_client.get(result["downloadUrl"]).content == image
    assert row(job_id).result == result

    # After the end, a new connection gets the terminal event at once, and the stream closes.
    started = time.monotonic()
    again = read_events(tools_client, job_id)
    assert time.monotonic() - started < 1.0
    assert again == [done]


def test_terminal_event_of_a_fast_job_carries_the_200_answer(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-copy", [("a.png", png()), ("b.png", png(colour=(0, 0, 9)))], field="files")
    assert r.status_code == 200, r.text
    events = read_events(tools_client, r.json()["jobId"])
    assert len(events) == 1
    assert events[0]["status"] == "completed"
    assert events[0]["result"] == r.json()

    r = post_tool(tools_client, "files/test-fail", [("a.png", png())])
    assert r.status_code == 422
    events = read_events(tools_client, r.json().get("jobId") or latest_job_id("test-fail"))
    assert_frames(events, events[0]["jobId"])
    assert events[0]["status"] == "failed"
    assert events[0]["error"] == "this input has no pixels worth keeping"
    assert "result" not in events[0]


def latest_job_id(tool_id: str) -> str:
    from sqlalchemy import select

    with database() as db:
        return db.scalars(select(Job.id).where(Job.tool_id == tool_id).order_by(Job.created_at.desc())).first()


def test_only_the_owner_or_files_all_sees_a_job(tools_client: TestClient) -> None:
    alice = auth(create_user(tools_client, "alice"))
    mallory = auth(create_user(tools_client, "mallory"))
    editor = auth(create_user(tools_client, "eddie", role="editor"))
    image = png(colour=(7, 7, 7))
    r = post_tool(tools_client, "files/test-copy", [("mine.png", image)], headers=alice)
    assert r.status_code == 200, r.text
    # The bare path: the signed downloadUrl is a capability that opens the file for whoever holds it.
    job_id, url = r.json()["jobId"], r.json()["downloadUrl"].split("?")[0]

    assert_error(tools_client.get(f"/api/v1/jobs/{job_id}/progress", headers=mallory), 404, "NOT_FOUND")
    assert_error(tools_client.post(f"/api/v1/jobs/{job_id}/cancel", headers=mallory), 404, "NOT_FOUND")
    assert_error(tools_client.get(url, headers=mallory), 404, "NOT_FOUND")
    # Someone else's job looks exactly like a job that does not exist.
    missing = "00000000-0000-0000-0000-000000000000"
    assert_error(tools_client.get(f"/api/v1/jobs/{missing}/progress", headers=mallory), 404, "NOT_FOUND")

    assert tools_client.get(url, headers=alice).content == image
    assert read_events(tools_client, job_id, headers=alice)[-1]["status"] == "completed"
    assert tools_client.get(url, headers=editor).content == image  # editors hold files:all
    assert tools_client.get(url).content == image  # and so do admins


def test_cancel_stops_a_running_job(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-sleep", [("a.png", png())], {"seconds": 20, "steps": 100})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    running = threading.Event()
    events: list[dict[str, Any]] = []

    def follow() -> None:
        read_events(tools_client, job_id, on_event=lambda e: (events.append(e), e["progress"] > 0 and running.set()))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert running.wait(15), events
    worker = tools_client.app.state.runner._active[job_id].process  # the process running this job

    asked = time.monotonic()
    r = tools_client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json() == {"canceled": True}
    reader.join(10)
    assert not reader.is_alive(), "the stream did not end after cancel"
    assert time.monotonic() - asked < CANCEL_GRACE_S + 1
    assert_frames(events, job_id)
    assert (events[-1]["status"], events[-1]["phase"]) == ("canceled", "canceled")
    assert events[-1]["progress"] < 100

    job = row(job_id)
    assert job.status == "canceled" and job.finished_at is not None
    assert tools_client.app.state.runner.stats()["active"] == 0
    # A worker that was asked to cancel is not reused: it is gone.
    wait_for(lambda: worker.poll() is not None, 5, "the canceled worker to exit")
    assert not (tools_client.app.state.jobs.output_dir(job_id) / "a.png").exists()
    r = tools_client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert r.json() == {"canceled": False, "status": "canceled"}
    # The server goes on serving.
    assert post_tool(tools_client, "files/test-copy", [("b.png", png())]).status_code == 200


def test_cancel_kills_a_job_that_ignores_it(tools_client: TestClient, tmp_path: Path) -> None:
    pid_file = tmp_path / "hang.pid"
    r = post_tool(tools_client, "files/test-hang", [("a.png", png())], {"pidFile": str(pid_file)})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), 15, "the tool to start")
    pid = int(pid_file.read_text())
    os.kill(pid, 0)  # running

    events: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: read_events(tools_client, job_id, on_event=events.append), daemon=True)
    reader.start()
    asked = time.monotonic()
    assert tools_client.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
    time.sleep(CANCEL_GRACE_S / 4)
    os.kill(pid, 0)  # it ignores the request, so it is still there during the grace period

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, CANCEL_GRACE_S + 5, "the hung worker to be killed")
    assert time.monotonic() - asked >= CANCEL_GRACE_S * 0.9
    reader.join(10)
    assert not reader.is_alive(), (events, row(job_id).status)
    assert events and events[-1]["status"] == "canceled"
    assert row(job_id).status == "canceled"
    assert post_tool(tools_client, "files/test-copy", [("b.png", png())]).status_code == 200


def test_a_crashing_tool_fails_its_job_only(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-crash", [("a.png", png())])
    body = assert_error(r, 422, "CRASHED")
    assert body["error"].startswith("Processing failed: ")
    job_id = latest_job_id("test-crash")
    assert row(job_id).status == "failed"
    events = read_events(tools_client, job_id)
    assert (events[-1]["status"], events[-1]["code"]) == ("failed", "CRASHED")

    image = png(colour=(3, 1, 4))
    r = post_tool(tools_client, "files/test-copy", [("after.png", image)])
    assert r.status_code == 200, r.text
    assert tools_client.get(r.json()["downloadUrl"]).content == image
    assert tools_client.get("/api/v1/tools").status_code == 200


def test_time_limit_fails_the_job(start_app: StartApp) -> None:
    client = start_app(JOB_TIMEOUT_S="2")
    r = post_tool(client, "files/test-sleep", [("a.png", png())], {"seconds": 30, "steps": 60})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    started = time.monotonic()
    events = read_events(client, job_id)
    # Far less than the 30 s the tool asked for, with room for a loaded machine.
    assert time.monotonic() - started < 15
    assert_frames(events, job_id)
    assert events[-1]["status"] == "failed"
    assert events[-1]["code"] == "TIMEOUT"
    assert "Timed out after 2 s" in events[-1]["error"]
    job = row(job_id)
    assert job.status == "failed" and "Timed out" in (job.error or "")
    assert client.app.state.runner.stats()["active"] == 0


def test_restart_fails_jobs_left_running(start_app: StartApp) -> None:
    first = start_app()
    owner = user_id(first)
    with database() as db:
        for job_id, status in (("left-processing", "processing"), ("left-queued", "queued")):
            db.add(Job(id=job_id, user_id=owner, kind="tool", tool_id="test-sleep", section="files", status=status))
        db.add(Job(id="was-done", user_id=owner, kind="tool", tool_id="test-copy", status="completed", result={}))
    first.__exit__(None, None, None)

    second = start_app(first_start=False)
    for job_id in ("left-processing", "left-queued"):
        job = row(job_id)
        assert job.status == "failed"
        assert "restarted" in (job.error or "")
        assert job.finished_at is not None
        events = read_events(second, job_id)
        assert len(events) == 1
        assert events[0]["status"] == "failed" and "restarted" in events[0]["error"]
    assert row("was-done").status == "completed"


def test_cleanup_removes_old_jobs_and_their_files(start_app: StartApp, engine_env: Path) -> None:
    client = start_app(FILE_MAX_AGE_HOURS="1")
    jobs = client.app.state.jobs
    old = post_tool(client, "files/test-copy", [("old.png", png())]).json()
    new = post_tool(client, "files/test-copy", [("new.png", png())]).json()
    assert jobs.workspace(old["jobId"]).is_dir()
    with database() as db:
        db.get(Job, old["jobId"]).created_at = datetime.now(UTC) - timedelta(hours=2)
        # A job still running is never removed, however old.
        db.add(
            Job(
                id="still-running",
                kind="tool",
                tool_id="test-sleep",
                status="processing",
                created_at=datetime.now(UTC) - timedelta(hours=5),
            )
        )
    orphan = engine_env / "jobs" / "orphan"
    orphan.mkdir()
    (orphan / "leftover.bin").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))

    assert jobs.cleanup_once() == 1
    assert not jobs.workspace(old["jobId"]).exists()
    assert not orphan.exists()
    with database() as db:
        assert db.get(Job, old["jobId"]) is None
        assert db.get(Job, "still-running") is not None
    assert_error(client.get(old["downloadUrl"]), 404)
    assert client.get(new["downloadUrl"]).status_code == 200
    assert jobs.cleanup_once() == 0


def test_a_queued_job_streams_in_the_seeds_vocabulary(start_app: StartApp) -> None:
    """A job waiting for a slot is `processing` at 0% with the message "Queued" (the seed has no "queued")."""
    client = start_app(CONCURRENT_JOBS="1")
    first = post_tool(client, "files/test-sleep", [("a.png", png())], {"seconds": 1.5, "steps": 3})
    second = post_tool(client, "files/test-sleep", [("b.png", png())], {"seconds": 0.1, "steps": 1})
    assert first.status_code == second.status_code == 202
    events = read_events(client, second.json()["jobId"])
    assert (events[0]["status"], events[0]["progress"], events[0]["message"]) == ("processing", 0, "Queued")
    assert_frames(events, second.json()["jobId"])
    assert events[-1]["status"] == "completed"


def test_a_running_job_is_listed_under_its_worker(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-sleep", [("a.png", png())], {"seconds": 20, "steps": 100})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]

    def running_jobs() -> list[str]:
        [worker] = tools_client.get("/api/v1/admin/workers").json()["workers"]
        return worker["runningJobs"]

    wait_for(lambda: running_jobs() == [job_id], 15, "the job to be listed as running")
    assert tools_client.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
    wait_for(lambda: running_jobs() == [], 15, "the canceled job to leave the list")
