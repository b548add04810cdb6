"""/api/v1/settings through the HTTP API: string values, known keys, validation, permissions, persistence."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.conftest import auth, create_user, make_client


def settings(client: TestClient, **kw: Any) -> dict[str, str]:
    r = client.get("/api/v1/settings", **kw)
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["settings"]
    return r.json()["settings"]


def test_defaults_are_strings(admin: TestClient) -> None:
    values = settings(admin)
    assert values["disabledTools"] == "[]"
    assert values["enableExperimentalTools"] == "false"
    assert values["loginAttemptLimit"] == "5"
    assert all(isinstance(v, str) for v in values.values())


def test_login_attempt_limit_default_follows_the_environment(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_ENABLED", "false")
    monkeypatch.setenv("LOGIN_ATTEMPT_LIMIT", "9")
    with make_client() as c:
        assert settings(c)["loginAttemptLimit"] == "9"


def test_users_read_but_cannot_write(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    assert settings(admin, headers=user) == settings(admin)
    r = admin.get("/api/v1/settings/enableExperimentalTools", headers=user)
    assert r.status_code == 200
    err = assert_error(
        admin.put("/api/v1/settings", json={"enableExperimentalTools": "true"}, headers=user), 403, "FORBIDDEN"
    )
    assert "settings:write" in err["error"]
    assert settings(admin)["enableExperimentalTools"] == "false"
    anonymous = TestClient(admin.app)
    assert_error(anonymous.get("/api/v1/settings"), 401, "AUTH_REQUIRED")
    assert_error(anonymous.get("/api/v1/settings/disabledTools"), 401, "AUTH_REQUIRED")
    assert_error(anonymous.put("/api/v1/settings", json={"x": "1"}), 401, "AUTH_REQUIRED")


def test_put_stores_values_as_strings(admin: TestClient) -> None:
    r = admin.put(
        "/api/v1/settings",
        json={
            "loginAttemptLimit": 10,
            "enableExperimentalTools": True,
            "disabledTools": ["resize", "compress", "resize"],
            "customBanner": "Welcome",
            "customNumber": 3,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "updatedCount": 5}
    values = settings(admin)
    assert values["loginAttemptLimit"] == "10"
    assert values["enableExperimentalTools"] == "true"
    assert sorted(json.loads(values["disabledTools"])) == ["compress", "resize"]
    assert values["customBanner"] == "Welcome"
    assert values["customNumber"] == "3"

    # Strings are accepted for the known keys as well.
    r = admin.put(
        "/api/v1/settings",
        json={"loginAttemptLimit": "7", "enableExperimentalTools": "FALSE", "disabledTools": '["crop"]'},
    )
    assert r.status_code == 200, r.text
    values = settings(admin)
    assert (values["loginAttemptLimit"], values["enableExperimentalTools"]) == ("7", "false")
    assert json.loads(values["disabledTools"]) == ["crop"]


def test_get_one_setting(admin: TestClient) -> None:
    # A known key with no stored row answers its default.
    r = admin.get("/api/v1/settings/disabledTools")
    assert r.status_code == 200
    assert r.json()["key"] == "disabledTools"
    assert r.json()["value"] == "[]"

    assert admin.put("/api/v1/settings", json={"customBanner": "Hi"}).status_code == 200
    r = admin.get("/api/v1/settings/customBanner")
    assert r.status_code == 200
    body = r.json()
    assert (body["key"], body["value"]) == ("customBanner", "Hi")
    datetime.fromisoformat(body["updatedAt"])

    err = assert_error(admin.get("/api/v1/settings/noSuchKey"), 404, "NOT_FOUND")
    assert "noSuchKey" in err["error"]
    for key in ("%00", "customBanner%00", "x" * 300, "has%20space"):
        assert_error(admin.get(f"/api/v1/settings/{key}"), 404, "NOT_FOUND")


def test_empty_object_changes_nothing(admin: TestClient) -> None:
    r = admin.put("/api/v1/settings", json={})
    assert r.status_code == 200
    assert r.json() == {"ok": True, "updatedCount": 0}


INVALID_KNOWN_VALUES: list[tuple[str, Any]] = [
    ("loginAttemptLimit", "abc"),
    ("loginAttemptLimit", "0"),
    ("loginAttemptLimit", -3),
    ("loginAttemptLimit", 2.5),
    ("loginAttemptLimit", "1001"),
    ("loginAttemptLimit", " 5"),
    ("loginAttemptLimit", "\u00b2"),  # superscript two: str.isdigit() says yes, int() says no
    ("loginAttemptLimit", "\u0663"),  # Arabic-Indic three
    ("loginAttemptLimit", True),
    ("enableExperimentalTools", "maybe"),
    ("enableExperimentalTools", 1),
    ("enableExperimentalTools", ""),
    ("disabledTools", "not json"),
    ("disabledTools", '{"resize": true}'),
    ("disabledTools", [1, 2]),
    ("disabledTools", "resize"),
    ("disabledTools", {"a": "b"}),
]


def test_invalid_values_for_known_keys(admin: TestClient) -> None:
    before = settings(admin)
    for key, value in INVALID_KNOWN_VALUES:
        # A valid key in the same request is not written either: all or nothing.
        r = admin.put("/api/v1/settings", json={"customBanner": "x", key: value})
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert key in err["details"], (key, value, err)
        assert key in err["error"], (key, value, err)
    assert settings(admin) == before


def test_body_must_be_an_object(admin: TestClient) -> None:
    for body in ([1, 2], [], "loginAttemptLimit=5", 5, True, None):
        r = admin.put("/api/v1/settings", content=json.dumps(body), headers={"Content-Type": "application/json"})
        err = assert_error(r, 400, "VALIDATION_ERROR")
        assert err["error"] == "Request body must be a JSON object with key-value pairs", (body, err)


def test_malformed_json_and_missing_body(admin: TestClient) -> None:
    r = admin.put("/api/v1/settings", content=b"{oops", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")
    assert_error(admin.put("/api/v1/settings"), 400, "VALIDATION_ERROR")


def test_html_is_rejected(admin: TestClient) -> None:
    bodies: list[dict[str, Any]] = [
        {"customBanner": "<script>alert(1)</script>"},
        {"customBanner": "hello <img src=x onerror=alert(1)>"},
        {"customBanner": "</b>"},
        {"customBanner": ["<b>bold</b>"]},
        {"customBanner": "<!-- hidden -->"},
        {"<b>": "x"},
    ]
    for body in bodies:
        err = assert_error(admin.put("/api/v1/settings", json=body), 400, "VALIDATION_ERROR")
        assert "details" in err, (body, err)
    assert "customBanner" not in settings(admin)


def test_harmless_angle_brackets_are_fine(admin: TestClient) -> None:
    r = admin.put("/api/v1/settings", json={"customNote": "1 < 2 and 3 > 2"})
    assert r.status_code == 200, r.text
    assert settings(admin)["customNote"] == "1 < 2 and 3 > 2"


def test_bad_keys_are_rejected(admin: TestClient) -> None:
    for key in ("", "1abc", "has space", "a" * 101, "semi;colon"):
        assert_error(admin.put("/api/v1/settings", json={key: "x"}), 400, "VALIDATION_ERROR")


def test_null_and_oversized_values_are_rejected(admin: TestClient) -> None:
    err = assert_error(admin.put("/api/v1/settings", json={"customBanner": None}), 400, "VALIDATION_ERROR")
    assert "customBanner" in err["details"]
    err = assert_error(admin.put("/api/v1/settings", json={"customBanner": "x" * 70_000}), 400, "VALIDATION_ERROR")
    assert "customBanner" in err["details"]
    # NUL is refused the same way on SQLite and PostgreSQL (which cannot store it).
    err = assert_error(admin.put("/api/v1/settings", json={"customBanner": "a\x00b"}), 400, "VALIDATION_ERROR")
    assert "customBanner" in err["details"]
    assert "customBanner" not in settings(admin)
    # Other text, multi-line and non-ASCII included, is kept as sent.
    text = "Line one\nZeile zwei: \u00e4\u00f6\u00fc \u2603"
    assert admin.put("/api/v1/settings", json={"customBanner": text}).status_code == 200
    assert settings(admin)["customBanner"] == text


def test_login_attempt_limit_setting_throttles_logins(admin: TestClient) -> None:
    assert admin.put("/api/v1/settings", json={"loginAttemptLimit": 2}).status_code == 200
    anonymous = TestClient(admin.app)
    for _ in range(2):
        r = anonymous.post("/api/auth/login", json={"username": "mallory", "password": "wrong-password"})
        assert r.status_code == 401
    r = anonymous.post("/api/auth/login", json={"username": "mallory", "password": "wrong-password"})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1


def test_values_survive_a_restart(app_env: Path, admin: TestClient, admin_token: str) -> None:
    r = admin.put(
        "/api/v1/settings",
        json={"disabledTools": ["resize"], "enableExperimentalTools": "true", "loginAttemptLimit": "12"},
    )
    assert r.status_code == 200, r.text
    # A second app instance over the same DATA_DIR / database: it re-runs migrations and bootstrap.
    with make_client() as fresh:
        values = settings(fresh, headers=auth(admin_token))
    assert values["disabledTools"] == '["resize"]'
    assert values["enableExperimentalTools"] == "true"
    assert values["loginAttemptLimit"] == "12"
