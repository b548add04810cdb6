"""/api/auth: login, cookies, throttling, logout, session, change-password, first start, AUTH_ENABLED."""

from __future__ import annotations

import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import tokens
from app.auth.permissions import PERMISSIONS
from app.auth.throttle import LoginThrottle, SlidingWindow
from app.config import get_settings
from app.models import AuditEntry, UserSession
from tests.assertions import AUTH_REQUIRED, assert_error, database
from tests.conftest import ADMIN_PASSWORD, auth, create_user, login, make_client

INVALID = {"error": "Invalid credentials", "code": "INVALID_CREDENTIALS"}
USER_PERMS = sorted(["tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read"])


def _from(client: TestClient, ip: str) -> TestClient:
    """Another client on the same running app, seen as coming from `ip` (no second lifespan)."""
    return TestClient(client.app, base_url="http://testserver", client=(ip, 40000))


def _set_login_limit(admin: TestClient, limit: int) -> None:
    r = admin.put("/api/v1/settings", json={"loginAttemptLimit": limit})
    assert r.status_code == 200, r.text


# --- login ---------------------------------------------------------------------------------------


def test_login_answers_token_user_and_expiry(client: TestClient) -> None:
    before = datetime.now(UTC)
    r = client.post("/api/auth/login", json={"username": "admin", "password": "admin"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "user", "expiresAt"}
    assert len(body["token"]) >= 22  # >= 128 bits, url-safe base64
    user = body["user"]
    assert {"id", "username", "role", "mustChangePassword", "permissions", "team"} <= set(user)
    assert user["username"] == "admin"
    assert user["role"] == "admin"
    assert user["mustChangePassword"] is True
    assert sorted(user["permissions"]) == sorted(PERMISSIONS)
    assert user["team"] == "Default"
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    # SESSION_DURATION_HOURS defaults to 168 (7 days).
    assert timedelta(hours=167) < expires - before < timedelta(hours=169)


def test_login_token_is_stored_hashed(client: TestClient) -> None:
    token = login(client, "admin", "admin")
    with database() as db:
        hashes = list(db.scalars(select(UserSession.token_hash)))
    assert tokens.hash_token(token) in hashes
    assert token not in hashes


def test_login_sets_httponly_samesite_cookie_that_authenticates(client: TestClient) -> None:
    r = client.post("/api/auth/login", json={"username": "admin", "password": "admin"})
    assert r.status_code == 200
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith(f"lutra-session={r.json()['token']};")
    lowered = set_cookie.lower()
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    assert "path=/" in lowered
    assert "max-age=604800" in lowered
    # Plain http: no Secure flag, or browsers would drop the cookie.
    assert "secure" not in lowered.replace("samesite", "")
    # The cookie alone (no Authorization header) authenticates.
    fresh = _from(client, "testclient")
    fresh.cookies.set("lutra-session", r.json()["token"])
    r = fresh.get("/api/auth/session")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["username"] == "admin"
    # A Bearer header wins over the cookie.
    assert_error(fresh.get("/api/auth/session", headers=auth("not-a-token")), 401)


def test_bad_password_and_unknown_user_get_the_same_answer(admin: TestClient) -> None:
    wrong = admin.post("/api/auth/login", json={"username": "admin", "password": "wrong-password"})
    unknown = admin.post("/api/auth/login", json={"username": "nobody-here", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == INVALID
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    with database() as db:
        reasons = [
            e.details["reason"] for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "LOGIN_FAILED"))
        ]
    assert sorted(reasons) == ["bad_password", "unknown_user"]


def test_login_is_case_sensitive_about_passwords(admin: TestClient) -> None:
    r = admin.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD.upper()})
    assert r.json() == INVALID


NUL_CREDENTIALS = [
    {"username": "adm\x00in", "password": ADMIN_PASSWORD},
    {"username": "admin", "password": ADMIN_PASSWORD + "\x00"},
    {"username": "\x00", "password": "\x00"},
]


def test_nul_bytes_in_credentials_are_invalid_credentials(admin: TestClient) -> None:
    for creds in NUL_CREDENTIALS:
        r = admin.post("/api/auth/login", json=creds)
        assert r.status_code == 401, (creds, r.text)
        assert r.json() == INVALID
    # The failures were recorded without the NUL byte (PostgreSQL text cannot hold one).
    with database() as db:
        names = list(db.scalars(select(AuditEntry.actor_username).where(AuditEntry.action == "LOGIN_FAILED")))
    assert len(names) == 3 and all("\x00" not in (n or "") for n in names), names


# (raw body, the field `details` must name)
MALFORMED_LOGINS = [
    ('{"username": "admin", "password": ', "body"),
    ("not json at all", "body"),
    ("[]", "body"),
    ('"admin"', "body"),
    ("null", "body"),
    ("{}", "username"),
    ('{"username": "admin"}', "password"),
    ('{"password": "admin"}', "username"),
    ('{"username": "", "password": "admin"}', "username"),
    ('{"username": "admin", "password": ""}', "password"),
    ('{"username": 5, "password": "admin"}', "username"),
    ('{"username": "admin", "password": ["admin"]}', "password"),
    ('{"username": "' + "a" * 256 + '", "password": "admin"}', "username"),
    ('{"username": "admin", "password": "' + "p" * 1025 + '"}', "password"),
]


def test_malformed_login_bodies_are_400_with_details(client: TestClient) -> None:
    for content, field in MALFORMED_LOGINS:
        r = client.post("/api/auth/login", content=content, headers={"Content-Type": "application/json"})
        body = assert_error(r, 400, "VALIDATION_ERROR")
        assert isinstance(body["details"], dict) and field in body["details"], (content[:40], body)
    # Malformed requests are not login attempts: they did not eat into the throttle budget.
    assert login(client, "admin", "admin")


def test_login_without_a_body_is_400(client: TestClient) -> None:
    assert_error(client.post("/api/auth/login"), 400, "VALIDATION_ERROR")
    r = client.post("/api/auth/login", data={"username": "admin", "password": "admin"})
    assert_error(r, 400, "VALIDATION_ERROR")


# --- throttling ----------------------------------------------------------------------------------


def _assert_throttled(r, max_retry: int = 60) -> None:  # type: ignore[no-untyped-def]
    body = assert_error(r, 429, "LOGIN_THROTTLED")
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= max_retry
    assert body["details"]["retryAfter"] == retry


def test_username_is_throttled_after_default_five_failures(admin: TestClient) -> None:
    create_user(admin, "alice")
    attacker = _from(admin, "10.0.0.1")
    for _ in range(5):
        assert attacker.post("/api/auth/login", json={"username": "alice", "password": "guess-1234"}).json() == INVALID
    _assert_throttled(attacker.post("/api/auth/login", json={"username": "alice", "password": "guess-1234"}))
    # The username is locked for everyone, even from another address with the right password.
    elsewhere = _from(admin, "10.0.0.2")
    r = elsewhere.post("/api/auth/login", json={"username": "alice", "password": "user-password-1-new"})
    _assert_throttled(r)
    # Case does not open a second budget.
    _assert_throttled(elsewhere.post("/api/auth/login", json={"username": "ALICE", "password": "x"}))
    # Other accounts are untouched from that second address.
    assert login(elsewhere, "admin", ADMIN_PASSWORD)
    with database() as db:
        throttled = db.scalars(select(AuditEntry).where(AuditEntry.action == "LOGIN_THROTTLED")).all()
    assert len(throttled) == 3


def test_a_locked_account_never_blocks_another_from_the_same_address(admin: TestClient) -> None:
    """Behind a reverse proxy every user has one address: five bad passwords must not lock everyone out."""
    create_user(admin, "alice")
    proxy = _from(admin, "10.0.0.3")
    for _ in range(5):
        assert proxy.post("/api/auth/login", json={"username": "alice", "password": "guess-1234"}).json() == INVALID
    _assert_throttled(proxy.post("/api/auth/login", json={"username": "alice", "password": "guess-1234"}))
    assert login(proxy, "admin", ADMIN_PASSWORD)


def test_client_address_is_throttled_across_usernames(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_IP_ATTEMPT_LIMIT", "8")  # the address limit, well above the account's 5
    get_settings.cache_clear()
    sprayer = _from(admin, "10.0.0.4")
    for i in range(8):
        r = sprayer.post("/api/auth/login", json={"username": f"guess{i}", "password": "password"})
        assert r.json() == INVALID
    _assert_throttled(sprayer.post("/api/auth/login", json={"username": "guess9", "password": "password"}))
    # Even a correct login from that address waits ...
    _assert_throttled(sprayer.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}))
    # ... while the same account logs in fine from elsewhere.
    assert login(_from(admin, "10.0.0.5"), "admin", ADMIN_PASSWORD)


def test_forwarded_for_counts_only_behind_a_trusted_proxy(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TRUST_PROXY names the proxy: its X-Forwarded-For is the client; anyone else's header is ignored."""
    monkeypatch.setenv("TRUST_PROXY", "10.9.9.9")
    with make_client() as c:
        proxy = _from(c, "10.9.9.9")
        for _ in range(5):
            r = proxy.post(
                "/api/auth/login",
                json={"username": "admin", "password": "bad-bad-1"},
                headers={"X-Forwarded-For": "203.0.113.7"},
            )
            assert r.status_code == 401
        with database() as db:
            ips = set(db.scalars(select(AuditEntry.ip).where(AuditEntry.action == "LOGIN_FAILED")))
        assert ips == {"203.0.113.7"}
        # A client that is not the proxy cannot choose its address with the header.
        stranger = _from(c, "198.51.100.1")
        r = stranger.post(
            "/api/auth/login",
            json={"username": "nobody", "password": "bad-bad-1"},
            headers={"X-Forwarded-For": "203.0.113.8"},
        )
        assert r.status_code == 401
        with database() as db:
            ips = set(db.scalars(select(AuditEntry.ip).where(AuditEntry.action == "LOGIN_FAILED")))
        assert ips == {"203.0.113.7", "198.51.100.1"}


def test_throttle_api_for_other_sign_in_steps(app_env: Path) -> None:
    """record_failure/check, as a second-factor step uses them: per account, the address far higher."""
    throttle = LoginThrottle(SlidingWindow(60))
    for _ in range(5):
        assert throttle.check("alice", "10.1.1.1", 5) == 0
        throttle.record_failure("alice", "10.1.1.1")
    assert 1 <= throttle.check("alice", "10.1.1.1", 5) <= 60
    assert throttle.check("ALICE", "10.2.2.2", 5) > 0  # the account, from anywhere
    assert throttle.check("bob", "10.1.1.1", 5) == 0  # another account, same address
    assert throttle.begin("alice", "10.2.2.2", 5) > 0


def test_successful_logins_do_not_count_as_failures(admin: TestClient) -> None:
    other = _from(admin, "10.0.0.5")
    for _ in range(8):
        assert login(other, "admin", ADMIN_PASSWORD)
    for _ in range(4):
        assert other.post("/api/auth/login", json={"username": "admin", "password": "nope-nope"}).status_code == 401
    assert login(other, "admin", ADMIN_PASSWORD)


def test_login_attempt_limit_comes_from_settings(admin: TestClient) -> None:
    _set_login_limit(admin, 2)
    r = admin.get("/api/v1/settings/loginAttemptLimit")
    assert r.status_code == 200 and r.json()["value"] == "2"
    other = _from(admin, "10.0.0.6")
    for _ in range(2):
        assert other.post("/api/auth/login", json={"username": "admin", "password": "bad-one!"}).status_code == 401
    _assert_throttled(other.post("/api/auth/login", json={"username": "admin", "password": "bad-one!"}))


def test_login_attempt_limit_rejects_nonsense(admin: TestClient) -> None:
    for bad in (0, -1, "many", 1.5):
        assert_error(admin.put("/api/v1/settings", json={"loginAttemptLimit": bad}), 400, "VALIDATION_ERROR")


def test_parallel_guesses_cannot_overrun_the_limit(admin: TestClient) -> None:
    _set_login_limit(admin, 3)
    guesser = _from(admin, "10.0.0.7")

    def attempt(i: int) -> int:
        return guesser.post("/api/auth/login", json={"username": "admin", "password": f"guess-{i}"}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(401) == 3, statuses
    assert statuses.count(429) == 9, statuses


def test_unknown_usernames_take_about_as_long_as_wrong_passwords(admin: TestClient) -> None:
    _set_login_limit(admin, 1000)
    timer = _from(admin, "10.0.0.8")

    def took(username: str) -> float:
        start = time.perf_counter()
        r = timer.post("/api/auth/login", json={"username": username, "password": "wrong-password"})
        elapsed = time.perf_counter() - start
        assert r.json() == INVALID
        return elapsed

    took("admin")  # warm-up: first request pays for imports and connections
    known, unknown = [], []
    for i in range(5):
        known.append(took("admin"))
        unknown.append(took(f"ghost-{i}"))
    k, u = statistics.median(known), statistics.median(unknown)
    # argon2 dominates both; a missing hash check would make unknown users ~100x faster.
    assert 1 / 3 < u / k < 3, (known, unknown)


# --- logout / session ----------------------------------------------------------------------------


def test_logout_kills_the_token(admin: TestClient, admin_token: str) -> None:
    second = login(_from(admin, "testclient"), "admin", ADMIN_PASSWORD)
    r = admin.post("/api/auth/logout", headers=auth(second))
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert 'lutra-session=""' in r.headers["set-cookie"] or "max-age=0" in r.headers["set-cookie"].lower()
    assert admin.get("/api/auth/session", headers=auth(second)).json() == {
        "error": "Invalid or expired session",
        "code": "AUTH_REQUIRED",
    }
    assert_error(admin.get("/api/v1/settings", headers=auth(second)), 401, "AUTH_REQUIRED")
    # Logging out twice is not an error (SnapOtter's clients log out unconditionally).
    again = admin.post("/api/auth/logout", headers=auth(second))
    assert (again.status_code, again.json()) == (200, {"ok": True})
    # Only that session ended.
    assert admin.get("/api/auth/session").status_code == 200


def test_logout_by_cookie_clears_it(client: TestClient) -> None:
    token = login(client, "admin", "admin")
    assert client.cookies.get("lutra-session") == token
    r = client.post("/api/auth/logout")
    assert r.status_code == 200
    assert client.cookies.get("lutra-session") is None
    assert_error(client.get("/api/auth/session", headers=auth(token)), 401, "AUTH_REQUIRED")


def test_logout_without_credentials_is_200(client: TestClient) -> None:
    r = client.post("/api/auth/logout")
    assert (r.status_code, r.json()) == (200, {"ok": True})
    r = client.post("/api/auth/logout", headers=auth("not-a-real-token"))
    assert (r.status_code, r.json()) == (200, {"ok": True})
    # It ended nothing: the first-start admin still logs in and its session still works.
    token = login(client, "admin", "admin")
    assert client.get("/api/auth/session", headers=auth(token)).status_code == 200


def test_session_works_during_forced_password_change(client: TestClient) -> None:
    token = login(client, "admin", "admin")
    client.cookies.clear()
    r = client.get("/api/auth/session", headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["mustChangePassword"] is True
    assert sorted(body["user"]["permissions"]) == sorted(PERMISSIONS)
    assert body["user"]["username"] == "admin" and body["user"]["role"] == "admin"
    assert datetime.fromisoformat(body["expiresAt"]) > datetime.now(UTC)


def test_session_describes_a_plain_user(admin: TestClient) -> None:
    token = create_user(admin, "bob")
    body = admin.get("/api/auth/session", headers=auth(token)).json()
    assert body["user"]["username"] == "bob"
    assert body["user"]["role"] == "user"
    assert body["user"]["mustChangePassword"] is False
    assert sorted(body["user"]["permissions"]) == USER_PERMS


def test_session_without_or_with_bad_credentials_is_401(client: TestClient) -> None:
    assert client.get("/api/auth/session").json() == AUTH_REQUIRED
    for header in ("Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer " + "x" * 43, "Bearer si_123"):
        r = client.get("/api/auth/session", headers={"Authorization": header})
        assert_error(r, 401)


def test_expired_session_is_401_and_removed(admin: TestClient, admin_token: str) -> None:
    token = login(_from(admin, "testclient"), "admin", ADMIN_PASSWORD)
    with database() as db:
        row = db.scalar(select(UserSession).where(UserSession.token_hash == tokens.hash_token(token)))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401, "SESSION_EXPIRED")
    with database() as db:
        assert db.scalar(select(UserSession).where(UserSession.token_hash == tokens.hash_token(token))) is None
    assert admin.get("/api/auth/session", headers=auth(admin_token)).status_code == 200


def test_session_token_starting_like_an_api_key_still_works(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # token_urlsafe output starts with "si_" about once in 262,144 logins; that must not break it.
    monkeypatch.setattr(tokens, "new_session_token", lambda: "si_" + secrets.token_urlsafe(32))
    token = login(client, "admin", "admin")
    assert token.startswith("si_")
    client.cookies.clear()
    assert client.get("/api/auth/session", headers=auth(token)).status_code == 200


# --- change-password -----------------------------------------------------------------------------


def test_change_password_wrong_current_is_401(admin: TestClient) -> None:
    r = admin.post("/api/auth/change-password", json={"currentPassword": "wrong", "newPassword": "long-enough-1"})
    assert r.json() == {"error": "Current password is incorrect", "code": "INVALID_PASSWORD"}
    assert r.status_code == 401
    # The password did not change and the session survived.
    assert admin.get("/api/auth/session").status_code == 200
    assert login(_from(admin, "testclient"), "admin", ADMIN_PASSWORD)


def test_change_password_rejects_weak_or_unchanged_passwords(admin: TestClient) -> None:
    for new in ["short1", "", "has\x00nul-inside", "bell\x07-character", ADMIN_PASSWORD]:
        r = admin.post("/api/auth/change-password", json={"currentPassword": ADMIN_PASSWORD, "newPassword": new})
        assert_error(r, 400, "VALIDATION_ERROR")
    assert login(_from(admin, "testclient"), "admin", ADMIN_PASSWORD)


def test_change_password_malformed_bodies(admin: TestClient) -> None:
    for body in ["{}", '{"currentPassword": "x"}', '{"newPassword": "long-enough-1"}', "[1]", "{"]:
        r = admin.post("/api/auth/change-password", content=body, headers={"Content-Type": "application/json"})
        assert "details" in assert_error(r, 400, "VALIDATION_ERROR"), body


def test_change_password_ends_other_sessions_and_revokes_keys(admin: TestClient) -> None:
    current = create_user(admin, "carol", "carol-password-1")
    other = login(_from(admin, "testclient"), "carol", "carol-password-1-new")
    r = admin.post("/api/v1/api-keys", json={"name": "script"}, headers=auth(current))
    assert r.status_code == 201
    key = r.json()["key"]
    assert admin.get("/api/auth/session", headers=auth(key)).status_code == 200  # warm the key cache
    admin_key = admin.post("/api/v1/api-keys", json={"name": "admin's"}).json()["key"]

    r = admin.post(
        "/api/auth/change-password",
        json={"currentPassword": "carol-password-1-new", "newPassword": "carol-password-2"},
        headers=auth(current),
    )
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert admin.get("/api/auth/session", headers=auth(current)).status_code == 200
    assert_error(admin.get("/api/auth/session", headers=auth(other)), 401)
    assert_error(admin.get("/api/auth/session", headers=auth(key)), 401)
    r = admin.get("/api/v1/api-keys", headers=auth(current))
    assert r.json() == {"apiKeys": []}
    # Other users' sessions and keys are untouched.
    assert admin.get("/api/auth/session").status_code == 200
    assert admin.get("/api/auth/session", headers=auth(admin_key)).status_code == 200
    # Old password out, new password in.
    fresh = _from(admin, "10.1.1.1")
    assert (
        fresh.post("/api/auth/login", json={"username": "carol", "password": "carol-password-1-new"}).json() == INVALID
    )
    assert login(fresh, "carol", "carol-password-2")


def test_change_password_needs_credentials(client: TestClient) -> None:
    r = client.post("/api/auth/change-password", json={"currentPassword": "admin", "newPassword": "long-enough-1"})
    assert r.json() == AUTH_REQUIRED


# --- first start ---------------------------------------------------------------------------------


def test_first_start_admin_must_change_password(client: TestClient) -> None:
    assert client.get("/api/v1/health").status_code == 200
    token = login(client, "admin", "admin")
    client.cookies.clear()
    for method, path in [
        ("GET", "/api/v1/settings"),
        ("GET", "/api/auth/users"),
        ("POST", "/api/auth/register"),
        ("GET", "/api/v1/api-keys"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/teams"),
        ("GET", "/api/v1/roles"),
        ("GET", "/api/v1/audit-log"),
        ("GET", "/api/v1/admin/health"),
    ]:
        r = client.request(method, path, headers=auth(token))
        assert_error(r, 403, "MUST_CHANGE_PASSWORD")
    # Public routes stay public, the session can be inspected and the password changed.
    assert client.get("/api/v1/health").json()["status"] == "healthy"
    assert client.get("/api/v1/config/auth").json()["authEnabled"] is True
    assert client.get("/api/auth/session", headers=auth(token)).json()["user"]["mustChangePassword"] is True
    r = client.post(
        "/api/auth/change-password",
        json={"currentPassword": "admin", "newPassword": "a-much-better-one"},
        headers=auth(token),
    )
    assert r.status_code == 200
    assert client.get("/api/auth/session", headers=auth(token)).json()["user"]["mustChangePassword"] is False
    assert client.get("/api/v1/settings", headers=auth(token)).status_code == 200
    assert client.get("/api/auth/users", headers=auth(token)).status_code == 200
    # The default password no longer works.
    assert client.post("/api/auth/login", json={"username": "admin", "password": "admin"}).json() == INVALID


def test_restart_keeps_the_changed_password(app_env: Path) -> None:
    with make_client() as c:
        token = login(c, "admin", "admin")
        r = c.post(
            "/api/auth/change-password",
            json={"currentPassword": "admin", "newPassword": "survives-restart"},
            headers=auth(token),
        )
        assert r.status_code == 200
    with make_client() as c:
        assert c.post("/api/auth/login", json={"username": "admin", "password": "admin"}).json() == INVALID
        assert login(c, "admin", "survives-restart")
        r = c.get("/api/auth/users")  # the cookie from that login
        assert len(r.json()["users"]) == 1


# --- AUTH_ENABLED=false --------------------------------------------------------------------------


def test_auth_disabled_needs_no_credentials(app_env: Path) -> None:
    with make_client(AUTH_ENABLED="false") as c:
        assert c.get("/api/v1/config/auth").json()["authEnabled"] is False
        r = c.get("/api/auth/users")
        assert r.status_code == 200, r.text
        assert [u["username"] for u in r.json()["users"]] == ["admin"]
        assert c.get("/api/v1/settings").status_code == 200
        assert c.get("/api/v1/admin/health").status_code == 200
        r = c.get("/api/auth/session")
        assert r.status_code == 200
        assert r.json()["user"]["role"] == "admin"
        assert sorted(r.json()["user"]["permissions"]) == sorted(PERMISSIONS)
        r = c.post("/api/v1/api-keys", json={"name": "k"})
        assert r.status_code == 201
        assert c.get("/api/v1/api-keys").json()["apiKeys"][0]["name"] == "k"
        # There is nothing to log in to.
        assert_error(c.post("/api/auth/login", json={"username": "admin", "password": "admin"}), 403)


def test_auth_enabled_is_reported(client: TestClient) -> None:
    assert client.get("/api/v1/config/auth").json()["authEnabled"] is True


def test_unexpected_errors_are_generic_500s(app_env: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.auth import service

    def broken(*_args: object) -> dict[str, object]:
        raise RuntimeError('(psycopg.errors.UndefinedTable) SELECT password_hash FROM "users"')

    with make_client() as c:
        token = login(c, "admin", "admin")
        monkeypatch.setattr(service, "view_of", broken)
        quiet = TestClient(c.app, base_url="http://testserver", raise_server_exceptions=False)
        r = quiet.get("/api/auth/session", headers=auth(token))
        assert_error(r, 500, "INTERNAL_ERROR", "Internal server error")
