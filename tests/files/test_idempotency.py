"""Idempotency-Key on POSTs: replays without running twice, 422 for a different request, 409 while the
first is running, keys scoped to the user, and the creating routes beyond tools (uploads, keys, users)."""

from __future__ import annotations

import asyncio
import io
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import session_scope
from app.idempotency.middleware import BodyHasher
from app.idempotency.store import purge_expired
from app.models import IdempotencyRecord
from tests.assertions import assert_error
from tests.engine.helpers import asgi_scope, png
from tests.files.helpers import job_count, user_client


def key(k: str) -> dict[str, str]:
    return {"Idempotency-Key": k}


def test_tool_run_replayed_without_a_second_job(tools_client: TestClient) -> None:
    c = tools_client
    image = png(10, 10)
    first = c.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")}, headers=key("run-1"))
    assert first.status_code == 200, first.text
    jobs = job_count()
    # httpx picks a new multipart boundary for the retry: still the same request.
    again = c.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")}, headers=key("run-1"))
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert job_count() == jobs

    # Same key, different request: 422, nothing runs.
    other = c.post(
        "/api/v1/tools/files/test-copy", files={"file": ("a.png", png(11, 10), "image/png")}, headers=key("run-1")
    )
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert_error(c.post("/api/v1/tools/files/test-fail", files={"file": ("a.png", image)}, headers=key("run-1")), 422)
    assert job_count() == jobs

    # Keys belong to their user: another user's "run-1" is a request of its own.
    bob = user_client(c, "bob")
    mine = bob.post(
        "/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")}, headers=key("run-1")
    )
    assert mine.status_code == 200 and mine.json()["jobId"] != first.json()["jobId"]
    assert job_count() == jobs + 1

    # A long tool's 202 is replayed with the same job id.
    r1 = c.post(
        "/api/v1/tools/files/test-sleep",
        files={"file": ("a.png", image)},
        data={"settings": '{"seconds":0.1}'},
        headers=key("long"),
    )
    r2 = c.post(
        "/api/v1/tools/files/test-sleep",
        files={"file": ("a.png", image)},
        data={"settings": '{"seconds":0.1}'},
        headers=key("long"),
    )
    assert r1.status_code == r2.status_code == 202 and r1.json()["jobId"] == r2.json()["jobId"]

    # Refused requests keep no key: fixed and retried with the same key, the request runs.
    bad = c.post("/api/v1/tools/files/test-copy", files={"file": ("a.txt", b"text", "text/plain")}, headers=key("fix"))
    assert_error(bad, 415)
    ok = c.post("/api/v1/tools/files/test-copy", files={"file": ("a.png", image, "image/png")}, headers=key("fix"))
    assert ok.status_code == 200 and "idempotent-replayed" not in ok.headers
    assert_error(c.post("/api/v1/tools/files/test-copy", headers=key("bad\x7fkey")), 400, "INVALID_IDEMPOTENCY_KEY")


def test_conflict_while_the_first_runs(tools_client: TestClient) -> None:
    """A batch answers only when every file is done: a slow one keeps the first request running."""
    c = tools_client
    files = [("files", ("a.png", png(), "image/png")), ("files", ("b.png", png(), "image/png"))]
    settings = {"settings": '{"seconds": 2, "steps": 4}'}
    answers: list = []

    def first() -> None:
        answers.append(c.post("/api/v1/tools/files/test-sleep/batch", files=files, data=settings, headers=key("slow")))

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.7)
    assert_error(
        c.post("/api/v1/tools/files/test-sleep/batch", files=files, data=settings, headers=key("slow")),
        409,
        "IDEMPOTENCY_IN_PROGRESS",
    )
    thread.join()
    assert answers[0].status_code == 200
    jobs = job_count()
    # Finished now: the small ZIP was stored and comes back byte for byte.
    replay = c.post("/api/v1/tools/files/test-sleep/batch", files=files, data=settings, headers=key("slow"))
    assert replay.status_code == 200 and replay.content == answers[0].content
    assert replay.headers["x-job-id"] == answers[0].headers["x-job-id"]
    assert sorted(zipfile.ZipFile(io.BytesIO(replay.content)).namelist()) == ["a.png", "b.png"]
    assert job_count() == jobs


def test_other_creating_routes(tools_client: TestClient) -> None:
    c = tools_client
    body = {"filename": "v.mp4", "size": 10}
    a = c.post("/api/v1/uploads", json=body, headers=key("up"))
    b = c.post("/api/v1/uploads", json=body, headers=key("up"))
    assert a.status_code == b.status_code == 201 and a.json()["uploadId"] == b.json()["uploadId"]
    k1 = c.post("/api/v1/api-keys", json={"name": "ci"}, headers=key("apikey"))
    k2 = c.post("/api/v1/api-keys", json={"name": "ci"}, headers=key("apikey"))
    assert k1.status_code == 201 and k1.headers["cache-control"] == "no-store"
    # The raw key is never stored, so it is not replayed either: the retry learns the key exists.
    assert_error(k2, 409, "IDEMPOTENT_RESPONSE_NOT_STORED")
    assert len(c.get("/api/v1/api-keys").json()["apiKeys"]) == 1
    u1 = c.post("/api/auth/register", json={"username": "carol", "password": "pass-word-1"}, headers=key("user"))
    u2 = c.post("/api/auth/register", json={"username": "carol", "password": "pass-word-1"}, headers=key("user"))
    assert u1.status_code == u2.status_code == 201
    f1 = c.post("/api/v1/files/upload", files={"file": ("a.png", png())}, headers=key("file"))
    f2 = c.post("/api/v1/files/upload", files={"file": ("a.png", png())}, headers=key("file"))
    assert f1.json() == f2.json() and c.get("/api/v1/files").json()["total"] == 1
    # Signed in with the API key: same user, same key space.
    token = k1.json()["key"]
    r = c.post("/api/v1/uploads", json=body, headers={**key("up"), "Authorization": f"Bearer {token}"})
    assert r.json()["uploadId"] == a.json()["uploadId"]

    # After 24 h a key is forgotten: the same request runs again.
    with session_scope() as db:
        db.execute(update(IdempotencyRecord).values(created_at=datetime.now(UTC) - timedelta(hours=25)))
    later = c.post("/api/v1/uploads", json=body, headers=key("up"))
    assert later.status_code == 201 and later.json()["uploadId"] != a.json()["uploadId"]
    assert purge_expired() >= 1


def test_multipart_boundary_does_not_change_the_fingerprint() -> None:
    def digest(boundary: bytes, split: int) -> str:
        body = b"--" + boundary + b"\r\ncontent\r\n--" + boundary + b"--\r\n"
        hasher = BodyHasher(boundary)
        hasher.update(body[:split])
        hasher.update(body[split:])
        return hasher.hexdigest()

    reference = digest(b"abc123", 5)
    assert all(digest(b"zz9876", split) == reference for split in range(0, 40))
    assert digest(b"abc123", 3) != BodyHasher(None).hexdigest()


def _asgi_post(app, path: str, headers: dict[str, str], body: bytes, on_send=None):  # type: ignore[no-untyped-def]
    """One POST straight through the app's ASGI stack, as a server would run it; returns (status, body)."""
    answer: dict[str, Any] = {"status": 0, "body": b""}
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")
        if on_send is not None:
            await on_send(message)

    scope = asgi_scope("POST", path, headers)

    async def run() -> tuple[int, bytes]:
        await app(scope, receive, send)
        return answer["status"], answer["body"]

    return run()


def test_a_repeat_sent_the_moment_the_answer_arrived_is_replayed(tools_client: TestClient) -> None:
    """Before: the record was finished after the last byte was sent, so this repeat got 409 IN_PROGRESS."""
    c = tools_client
    headers = {
        "authorization": c.headers["authorization"],
        "content-type": "application/json",
        "idempotency-key": "at-once",
    }
    body = b'{"name": "night-shift"}'
    repeats: list[tuple[int, bytes]] = []

    async def repeat_when_done(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            repeats.append(await _asgi_post(c.app, "/api/v1/teams", headers, body))

    async def scenario() -> tuple[int, bytes]:
        return await _asgi_post(c.app, "/api/v1/teams", headers, body, repeat_when_done)

    status, first = asyncio.run(scenario())
    assert status == 201, first
    assert repeats == [(201, first)]
    assert [t["name"] for t in c.get("/api/v1/teams").json()["teams"]].count("night-shift") == 1
