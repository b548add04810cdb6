"""Shared checks for the auth, user and API-key tests: the error shape and direct database access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.db import session_scope

# Fragments that would mean a traceback, SQL or a driver message reached the client.
LEAKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "sqlite3", "SELECT ", "INSERT ", "UPDATE ", "WHERE ")


def assert_no_leak(r: httpx.Response) -> None:
    for fragment in LEAKS:
        assert fragment not in r.text, f"{fragment!r} leaked in {r.status_code} body: {r.text[:300]}"


def assert_error(r: httpx.Response, status: int, code: str | None = None, error: str | None = None) -> dict[str, Any]:
    """The response is `status` with Lutra's one error shape: {"error", "code"[, "details"]}."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    # 501 FEATURE_NOT_INSTALLED also names the AI bundle to install, as SnapOtter's answers do.
    extra = {"feature", "featureName", "estimatedSize"} if body["code"] == "FEATURE_NOT_INSTALLED" else set()
    assert set(body) <= {"error", "code", "details"} | extra, body
    assert extra <= set(body), body
    if code is not None:
        assert body["code"] == code, body
    if error is not None:
        assert body["error"] == error, body
    assert_no_leak(r)
    return body


AUTH_REQUIRED = {"error": "Authentication required", "code": "AUTH_REQUIRED"}


@contextmanager
def database() -> Iterator[Session]:
    """A session on the running app's database, for checks and changes the API does not offer."""
    with session_scope() as db:
        yield db
