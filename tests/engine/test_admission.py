"""Bounded admission in one process: queued-job limits, the free-disk floor, a full database, and health.

The concurrency side (uploads at once, connections while bodies stream) runs against a real server
in tests/test_load.py.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app import db
from tests.assertions import assert_error
from tests.conftest import auth, create_user
from tests.engine.conftest import StartApp
from tests.test_pipelines import png

HUGE_FLOOR_MB = str(10**12)  # more free space than any disk has: the floor is always crossed


def _sleep_job(c: TestClient, headers: dict[str, str] | None = None, seconds: float = 20):  # type: ignore[no-untyped-def]
    return c.post(
        "/api/v1/tools/files/test-sleep",
        files={"file": ("a.png", png(), "image/png")},
        data={"settings": f'{{"seconds": {seconds}, "steps": 40}}'},
        headers=headers or {},
    )


def test_queued_jobs_per_user_answer_429_before_the_body_is_read(start_app: StartApp) -> None:
    c = start_app(MAX_QUEUED_JOBS_PER_USER="1", MAX_QUEUED_JOBS="10")
    first = _sleep_job(c, seconds=3)
    assert first.status_code == 202, first.text
    # The body is not even multipart: refused for the limit before anything reads it.
    r = c.post("/api/v1/tools/files/test-sleep", content=b"not multipart", headers={"Content-Type": "text/plain"})
    err = assert_error(r, 429, "TOO_MANY_REQUESTS")
    assert "MAX_QUEUED_JOBS_PER_USER" in err["error"] and int(r.headers["Retry-After"]) > 0
    # Another user still has room: the limit is per user.
    other = auth(create_user(c, "olga"))
    second = _sleep_job(c, other, seconds=0.1)
    assert second.status_code == 202, second.text


def test_queued_jobs_in_total_answer_503_server_busy(start_app: StartApp) -> None:
    c = start_app(MAX_QUEUED_JOBS_PER_USER="5", MAX_QUEUED_JOBS="1")
    first = _sleep_job(c, seconds=3)
    assert first.status_code == 202, first.text
    other = auth(create_user(c, "olga"))
    r = _sleep_job(c, other)
    err = assert_error(r, 503, "SERVER_BUSY")
    assert "MAX_QUEUED_JOBS" in err["error"] and r.headers["Retry-After"]
    # Once the job is over, there is room again.
    deadline = time.monotonic() + 30
    while (r := _sleep_job(c, other, seconds=0)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 202, r.text


def test_under_the_disk_floor_uploads_and_jobs_get_507_and_login_still_works(start_app: StartApp) -> None:
    c = start_app(MIN_FREE_DISK_MB=HUGE_FLOOR_MB)
    for r in (
        c.post("/api/v1/files/upload", files={"file": ("a.png", png(), "image/png")}),
        c.post("/api/v1/upload", files={"file": ("a.png", png(), "image/png")}),
        _sleep_job(c, seconds=0),
    ):
        err = assert_error(r, 507, "INSUFFICIENT_STORAGE")
        assert "MIN_FREE_DISK_MB" in err["error"] and r.headers["Retry-After"]
    assert c.get("/api/v1/files").json()["total"] == 0
    # Login writes a session row: it keeps working while the database can still be written.
    r = c.post("/api/auth/login", json={"username": "admin", "password": "admin-password-1"})
    assert r.status_code == 200, r.text
    health = c.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "healthy" and health.json()["checks"]["disk"] == "low"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's page limit makes a real "disk full"
def test_a_full_database_answers_507_not_500(backend: str, start_app: StartApp) -> None:
    c = start_app()
    engine = db.get_engine()
    with engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()

    def cap(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", cap)
    engine.dispose()  # every connection from now on carries the cap
    try:
        statuses = []
        for i in range(200):
            r = c.post("/api/v1/api-keys", json={"name": f"key-{i}-" + "x" * 90})
            statuses.append(r.status_code)
            if r.status_code != 201:
                break
        assert_error(r, 507, "INSUFFICIENT_STORAGE")
        assert 500 not in statuses
        r = c.post("/api/auth/login", json={"username": "admin", "password": "admin-password-1"})
        assert r.status_code in (200, 507), r.text
        if r.status_code == 507:
            assert_error(r, 507, "INSUFFICIENT_STORAGE")
    finally:
        event.remove(engine, "connect", cap)
        engine.dispose()


def test_health_does_not_wait_on_a_saturated_pool(start_app: StartApp) -> None:
    c = start_app(DB_POOL_SIZE="1")
    engine = db.get_engine()
    held = [engine.connect() for _ in range(2)]  # pool 1 + overflow 1: every connection taken
    try:
        for conn in held:
            conn.execute(text("SELECT 1"))
        started = time.monotonic()
        r = c.get("/api/v1/health")
        took = time.monotonic() - started
        assert r.status_code == 200 and r.json()["status"] == "healthy"
        assert r.json()["checks"]["pool"] == "saturated"
        assert took < 2.0, took  # before: it queued for a pooled connection and gave up after 5 s with 503
    finally:
        for conn in held:
            conn.close()
    assert c.get("/api/v1/health").json()["checks"]["pool"] == "ok"
