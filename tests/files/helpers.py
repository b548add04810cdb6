"""Helpers for the file library tests: uploads, users and database counts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Job
from tests.conftest import auth, create_user


def upload(client: TestClient, data: bytes, name: str = "photo.png", **kw: Any) -> dict[str, Any]:
    r = client.post("/api/v1/files/upload", files={"file": (name, data, "application/octet-stream")}, **kw)
    assert r.status_code == 201, r.text
    return r.json()["files"][0]


def user_client(admin: TestClient, username: str) -> TestClient:
    """A second client on the same running app, signed in as a new plain user."""
    token = create_user(admin, username)
    other = TestClient(admin.app, base_url="http://testserver")
    other.headers.update(auth(token))
    return other


def job_count() -> int:
    with session_scope() as db:
        return int(db.scalar(select(func.count()).select_from(Job)) or 0)
