"""RATE_LIMIT_PER_MIN: per-credential budgets with X-RateLimit-* headers and 429 + Retry-After."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from app.auth import throttle, tokens
from tests.assertions import assert_error
from tests.conftest import ADMIN_PASSWORD, auth, login, make_client

LIMIT = 3


@pytest.fixture
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> float:
    """Pins the limiter's clock inside one minute, so a test never straddles a window boundary."""
    now = time.time()
    # Half a second into the current minute: Retry-After and X-RateLimit-Reset are then predictable.
    start = now - (now % 60) + 0.5
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: start, monotonic=time.monotonic))
    return start


@pytest.fixture
def limited(app_env: Path, frozen_minute: float) -> Iterator[TestClient]:
    """An app with RATE_LIMIT_PER_MIN=3 whose admin is past the first-login password change."""
    with make_client(RATE_LIMIT_PER_MIN=str(LIMIT)) as c:
        token = login(c, "admin", "admin")
        c.cookies.clear()
        r = c.post(
            "/api/auth/change-password",
            json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
            headers=auth(token),
        )
        assert r.status_code == 200, r.text
        yield c


def _headers(r) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return (
        int(r.headers["X-RateLimit-Limit"]),
        int(r.headers["X-RateLimit-Remaining"]),
        int(r.headers["X-RateLimit-Reset"]),
    )


def test_budget_headers_and_429(limited: TestClient, frozen_minute: float) -> None:
    token = login(limited, "admin", ADMIN_PASSWORD)
    limited.cookies.clear()
    reset = int(frozen_minute - frozen_minute % 60 + 60)
    for remaining in (2, 1, 0):
        r = limited.get("/api/v1/settings", headers=auth(token))
        assert r.status_code == 200
        assert _headers(r) == (LIMIT, remaining, reset)
    r = limited.get("/api/v1/settings", headers=auth(token))
    assert_error(r, 429, "RATE_LIMITED")
    assert _headers(r) == (LIMIT, 0, reset)
    assert r.headers["Retry-After"] == "60"  # the window ends 59.5 s after the pinned clock
    # Every route counts against the same credential, including ones that fail for other reasons.
    assert_error(limited.delete("/api/auth/users/nobody", headers=auth(token)), 429, "RATE_LIMITED")
    assert_error(limited.get("/api/auth/session", headers=auth(token)), 429, "RATE_LIMITED")


def test_error_responses_carry_the_headers_too(limited: TestClient, frozen_minute: float) -> None:
    token = login(limited, "admin", ADMIN_PASSWORD)
    limited.cookies.clear()
    r = limited.delete("/api/v1/api-keys/no-such-key", headers=auth(token))
    assert_error(r, 404, "NOT_FOUND")
    assert _headers(r)[:2] == (LIMIT, 2)
    r = limited.post("/api/v1/api-keys", json={"name": 5}, headers=auth(token))
    assert_error(r, 400, "VALIDATION_ERROR")
    assert _headers(r)[:2] == (LIMIT, 1)


def test_each_key_has_its_own_budget(limited: TestClient) -> None:
    token = login(limited, "admin", ADMIN_PASSWORD)
    limited.cookies.clear()
    first = limited.post("/api/v1/api-keys", json={"name": "one"}, headers=auth(token)).json()["key"]
    second = limited.post("/api/v1/api-keys", json={"name": "two"}, headers=auth(token)).json()["key"]
    for remaining in (2, 1, 0):
        assert _headers(limited.get("/api/v1/settings", headers=auth(first)))[1] == remaining
    assert_error(limited.get("/api/v1/settings", headers=auth(first)), 429, "RATE_LIMITED")
    r = limited.get("/api/v1/settings", headers=auth(second))
    assert r.status_code == 200 and _headers(r)[1] == 2
    # The session that created them has its own budget (two used, one left).
    r = limited.get("/api/v1/settings", headers=auth(token))
    assert r.status_code == 200 and _headers(r)[1] == 0


def test_next_window_opens_a_fresh_budget(limited: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    token = login(limited, "admin", ADMIN_PASSWORD)
    limited.cookies.clear()
    for _ in range(LIMIT):
        limited.get("/api/v1/settings", headers=auth(token))
    assert_error(limited.get("/api/v1/settings", headers=auth(token)), 429)
    later = throttle.time.time() + 60
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: later, monotonic=time.monotonic))
    r = limited.get("/api/v1/settings", headers=auth(token))
    assert r.status_code == 200 and _headers(r)[1] == LIMIT - 1


def test_public_requests_are_not_counted_and_401s_count_per_address(limited: TestClient) -> None:
    for _ in range(LIMIT + 2):
        r = limited.get("/api/v1/health")
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers
    # A request without a valid credential spends its address's budget, and says so.
    for remaining in (2, 1, 0):
        r = limited.get("/api/v1/settings", headers={"X-API-Key": tokens.new_api_key()})
        assert_error(r, 401, "INVALID_API_KEY")
        assert _headers(r)[:2] == (LIMIT, remaining)
    r = limited.get("/api/v1/settings")
    assert_error(r, 429, "RATE_LIMITED")
    assert _headers(r)[:2] == (LIMIT, 0) and "Retry-After" in r.headers
    # A valid credential has its own budget.
    token = login(limited, "admin", ADMIN_PASSWORD)
    limited.cookies.clear()
    assert limited.get("/api/v1/settings", headers=auth(token)).status_code == 200


def test_no_limit_and_no_headers_by_default(admin: TestClient) -> None:
    for _ in range(10):
        r = admin.get("/api/v1/settings")
        assert r.status_code == 200
        assert not any(h.lower().startswith("x-ratelimit") for h in r.headers)
