"""Health, admin diagnostics, public configuration and analytics consent, through the HTTP API."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app import __version__, db
from app.config import get_settings
from tests.assertions import assert_error
from tests.conftest import auth, create_user, make_client

EMPTY_ANALYTICS = {
    "enabled": False,
    "posthogApiKey": "",
    "posthogHost": "",
    "sentryDsn": "",
    "sampleRate": 0,
    "instanceId": "",
}


@pytest.fixture
def open_client(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """An app with AUTH_ENABLED=false."""
    monkeypatch.setenv("AUTH_ENABLED", "false")
    with make_client() as c:
        yield c


# /api/v1/health


def test_health_is_public(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "healthy",
        "version": __version__,
        "checks": {"database": "ok", "pool": "ok", "disk": "ok"},
        "workers": 1,
        "queued": 0,
    }
    # A bad credential does not matter to a public route.
    r = client.get("/api/v1/health", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 200


def _unreachable(url: str, tmp_path: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A database file in a folder that does not exist: every connect fails.
        return f"sqlite:///{tmp_path / 'missing-folder' / 'sub' / 'lutra.db'}"
    return parsed.set(port=1).render_as_string(hide_password=False)


def test_health_is_503_when_the_database_is_unreachable(client: TestClient, tmp_path: Path) -> None:
    good = get_settings().sqlalchemy_url
    try:
        db.init_engine(_unreachable(good, tmp_path))
        r = client.get("/api/v1/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unhealthy"
        assert set(r.json()) <= {"status", "version", "checks"}
        assert r.json()["checks"]["database"] == "unreachable"
    finally:
        db.init_engine(good)
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"


def test_health_is_503_without_an_engine(client: TestClient) -> None:
    good = get_settings().sqlalchemy_url
    try:
        db.dispose_engine()
        r = client.get("/api/v1/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unhealthy"
    finally:
        db.init_engine(good)
    assert client.get("/api/v1/health").status_code == 200


# /api/v1/admin/health


def test_admin_health_reports_diagnostics(admin: TestClient) -> None:
    r = admin.get("/api/v1/admin/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "healthy"
    assert body["version"] == __version__
    assert re.fullmatch(r"\d+s", body["uptime"])
    assert body["storage"]["mode"] == "local"
    assert isinstance(body["storage"]["available"], int) and body["storage"]["available"] > 0
    assert body["database"] == "ok"
    assert isinstance(body["queue"]["active"], int) and isinstance(body["queue"]["pending"], int)
    assert isinstance(body["ai"]["gpu"], bool)
    assert isinstance(body["ai"]["providers"], list)
    engines = body["engines"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", engines["libvips"]), engines
    assert re.match(r"\d+\.\d+", engines["ffmpeg"]), engines
    assert re.fullmatch(r"\d+\.\d+\.\d+", engines["qpdf"]), engines


def test_admin_health_needs_system_health(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    err = assert_error(admin.get("/api/v1/admin/health", headers=user), 403, "FORBIDDEN")
    assert "system:health" in err["error"]
    assert_error(TestClient(admin.app).get("/api/v1/admin/health"), 401, "AUTH_REQUIRED")
    r = admin.post("/api/v1/roles", json={"name": "monitor", "permissions": ["system:health"]})
    assert r.status_code == 201, r.text
    monitor = auth(create_user(admin, "monty", role="monitor"))
    assert admin.get("/api/v1/admin/health", headers=monitor).status_code == 200


def test_admin_health_is_refused_before_the_first_password_change(client: TestClient) -> None:
    r = client.post("/api/auth/login", json={"username": "admin", "password": "admin"})
    token = r.json()["token"]
    client.cookies.clear()
    assert_error(client.get("/api/v1/admin/health", headers=auth(token)), 403, "MUST_CHANGE_PASSWORD")


# /api/v1/admin/workers


def test_admin_workers_shows_the_embedded_pool_as_one_worker(admin: TestClient) -> None:
    r = admin.get("/api/v1/admin/workers")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "embedded"
    assert body["queues"] == {"local": 0}
    [worker] = body["workers"]
    # The TestClient runs the app in this process: the embedded worker is this process.
    assert worker["pid"] == os.getpid() and worker["host"] == socket.gethostname()
    assert worker["name"] == "embedded" and worker["queues"] == ["local"]
    assert worker["concurrency"] == get_settings().job_concurrency
    assert worker["runningJobs"] == [] and worker["version"] == __version__
    beat = datetime.fromisoformat(worker["lastHeartbeat"])
    assert abs((datetime.now(UTC) - beat).total_seconds()) < 30


def test_admin_workers_needs_system_health(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    err = assert_error(admin.get("/api/v1/admin/workers", headers=user), 403, "FORBIDDEN")
    assert "system:health" in err["error"]
    assert_error(TestClient(admin.app).get("/api/v1/admin/workers"), 401, "AUTH_REQUIRED")


# /api/v1/config/auth


def test_config_auth(client: TestClient) -> None:
    r = client.get("/api/v1/config/auth")
    assert r.status_code == 200
    assert r.json()["authEnabled"] is True


def test_config_auth_when_disabled(open_client: TestClient) -> None:
    assert open_client.get("/api/v1/config/auth").json()["authEnabled"] is False


# /api/v1/config/analytics


def test_analytics_config_is_empty_by_default(client: TestClient) -> None:
    r = client.get("/api/v1/config/analytics")
    assert r.status_code == 200
    assert r.json() == EMPTY_ANALYTICS


def test_analytics_keys_are_not_revealed_while_disabled(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_secret")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    with make_client() as c:
        assert c.get("/api/v1/config/analytics").json() == EMPTY_ANALYTICS


def test_analytics_config_when_enabled(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYTICS_ENABLED", "true")
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_key")
    monkeypatch.setenv("POSTHOG_HOST", "https://posthog.example")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example/1")
    monkeypatch.setenv("ANALYTICS_SAMPLE_RATE", "0.25")
    with make_client() as c:
        body = c.get("/api/v1/config/analytics").json()
    assert body["enabled"] is True
    assert body["posthogApiKey"] == "phc_key"
    assert body["posthogHost"] == "https://posthog.example"
    assert body["sentryDsn"] == "https://key@sentry.example/1"
    assert body["sampleRate"] == 0.25
    assert isinstance(body["instanceId"], str)


# /api/v1/user/analytics


def test_user_analytics_consent(admin: TestClient) -> None:
    cases = [
        ({"enabled": False}, False),
        ({"enabled": True}, True),
        ({}, False),
        ({"enabled": "yes"}, False),  # only a real true counts as consent
        ({"remindLater": True}, None),
        ({"remindLater": True, "enabled": True}, None),
        ({"remindLater": False, "enabled": True}, True),
    ]
    for body, expected in cases:
        r = admin.put("/api/v1/user/analytics", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json() == {"ok": True, "analyticsEnabled": expected}, body


def test_user_analytics_for_a_plain_user(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    r = admin.put("/api/v1/user/analytics", json={"enabled": False}, headers=user)
    assert r.json() == {"ok": True, "analyticsEnabled": False}


def test_user_analytics_needs_a_login_and_an_object(admin: TestClient) -> None:
    assert_error(TestClient(admin.app).put("/api/v1/user/analytics", json={"enabled": True}), 401, "AUTH_REQUIRED")
    for body in ([True], "yes", 1):
        assert_error(admin.put("/api/v1/user/analytics", json=body), 400, "VALIDATION_ERROR")
    r = admin.put("/api/v1/user/analytics", content=b"{", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")


def test_user_analytics_without_auth(open_client: TestClient) -> None:
    r = open_client.put("/api/v1/user/analytics", json={"remindLater": True})
    assert r.status_code == 200
    assert r.json() == {"ok": True, "analyticsEnabled": None}
