"""CORS_ORIGIN (preflight included), and X-API-Key accepted like a Bearer key."""

from __future__ import annotations

from pathlib import Path

from tests.assertions import assert_error
from tests.conftest import make_client, sign_in_admin

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key, content-type"}


def test_cors_is_off_by_default(app_env: Path) -> None:
    with make_client() as c:
        r = c.options("/api/v1/jobs", headers={"Origin": "https://app.example.com", **PREFLIGHT})
        assert "access-control-allow-origin" not in r.headers
        r = c.get("/api/v1/health", headers={"Origin": "https://app.example.com"})
        assert "access-control-allow-origin" not in r.headers


def test_listed_origins_pass_preflight_with_credentials(app_env: Path) -> None:
    with make_client(CORS_ORIGIN="https://app.example.com, https://other.example.org/") as c:
        r = c.options("/api/v1/webhooks", headers={"Origin": "https://app.example.com", **PREFLIGHT})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        assert r.headers["access-control-allow-credentials"] == "true"
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
        r = c.options("/api/v1/webhooks", headers={"Origin": "https://other.example.org", **PREFLIGHT})
        assert r.headers["access-control-allow-origin"] == "https://other.example.org"
        # Another origin is refused, in the shared error shape.
        r = c.options("/api/v1/webhooks", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert "origin" in assert_error(r, 400, "CORS_NOT_ALLOWED")["error"]
        assert "access-control-allow-origin" not in r.headers
        # A simple request: the origin is echoed and Lutra's own headers are readable.
        sign_in_admin(c)
        r = c.get("/api/v1/jobs", headers={"Origin": "https://app.example.com"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "X-Job-Id" in r.headers["access-control-expose-headers"]
        assert "X-RateLimit-Remaining" in r.headers["access-control-expose-headers"]


def test_a_wildcard_origin_allows_any_but_without_credentials(app_env: Path) -> None:
    with make_client(CORS_ORIGIN="*") as c:
        r = c.options("/api/v1/jobs", headers={"Origin": "https://anywhere.example", **PREFLIGHT})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers


def test_x_api_key_is_accepted_like_a_bearer_key(app_env: Path) -> None:
    with make_client(RATE_LIMIT_PER_MIN="50") as c:
        sign_in_admin(c)
        key = c.post("/api/v1/api-keys", json={"name": "script"}).json()["key"]
        c.headers.pop("Authorization")
        r = c.get("/api/auth/session", headers={"X-API-Key": key})
        assert r.status_code == 200 and r.json()["user"]["username"] == "admin"
        assert int(r.headers["X-RateLimit-Remaining"]) < 50
        assert_error(c.get("/api/v1/jobs", headers={"X-API-Key": key[:-4] + "0000"}), 401, "INVALID_API_KEY")
        assert_error(c.get("/api/v1/jobs"), 401, "AUTH_REQUIRED")
