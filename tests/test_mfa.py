"""TOTP two-factor login: enrolment (QR code), the login's second step, replay refusal, recovery codes,
throttling, disable and admin reset, requireMfa (setting and role), audit entries."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pyvips
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update

from app.models import MfaChallenge, MfaRecoveryCode, User
from tests.assertions import assert_error, database
from tests.conftest import auth, create_user, login

PASSWORD = "user-password-1-new"  # create_user's password after the first-login change


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def _code(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(datetime.now(UTC) + timedelta(seconds=30 * offset_steps))


def _enrol(client: TestClient, token: str) -> dict[str, Any]:
    r = client.post("/api/auth/mfa/enroll", headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    r = client.post("/api/auth/mfa/verify", json={"code": _code(body["secret"])}, headers=auth(token))
    assert r.status_code == 200, r.text
    return body


def _challenge(client: TestClient, username: str = "alice", password: str = PASSWORD) -> str:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {"mfaRequired": True, "mfaToken": body["mfaToken"]}
    assert "set-cookie" not in r.headers
    return body["mfaToken"]


def _actions(admin: TestClient) -> list[str]:
    return [e["action"] for e in admin.get("/api/v1/audit-log", params={"limit": 100}).json()["entries"]]


def test_enrol_answers_secret_url_qr_and_codes_and_enforces_nothing_until_verified(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    r = c.post("/api/auth/mfa/enroll", headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"secret", "otpauthUrl", "qrSvg", "recoveryCodes"}
    assert body["otpauthUrl"] == f"otpauth://totp/Lutra:alice?secret={body['secret']}&issuer=Lutra"
    assert len(body["recoveryCodes"]) == 10 and len(set(body["recoveryCodes"])) == 10
    # The QR code, rendered and read back, carries the otpauth URL.
    picture = pyvips.Image.svgload_buffer(body["qrSvg"].encode()).flatten(background=255)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture.pngsave_buffer())).convert("L"))
    assert [f.text for f in found] == [body["otpauthUrl"]]
    # Not confirmed: the password alone still logs in.
    assert "token" in c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()
    assert c.get("/api/auth/session", headers=auth(token)).json()["user"]["mfaEnabled"] is False
    with database() as db:
        stored = list(db.scalars(select(MfaRecoveryCode.code_hash)))
    assert len(stored) == 10 and not set(body["recoveryCodes"]) & set(stored)


def test_verify_needs_a_current_code_then_login_needs_the_second_step(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    other = login(c, "alice", PASSWORD)
    secret = c.post("/api/auth/mfa/enroll", headers=auth(token)).json()["secret"]
    for wrong in ("000000", _code(secret, -3), "12345"):
        if wrong == _code(secret):
            continue
        assert_error(c.post("/api/auth/mfa/verify", json={"code": wrong}, headers=auth(token)), 401, "INVALID_MFA_CODE")
    # One step of clock drift is accepted.
    r = c.post("/api/auth/mfa/verify", json={"code": _code(secret, -1)}, headers=auth(token))
    assert r.json() == {"ok": True, "mfaEnabled": True}
    assert c.get("/api/auth/session", headers=auth(token)).json()["user"]["mfaEnabled"] is True
    # Enabling ended the user's other sessions, not this one.
    assert_error(c.get("/api/auth/session", headers=auth(other)), 401)

    # A wrong password never yields an mfaToken.
    r = c.post("/api/auth/login", json={"username": "alice", "password": "wrong-password"})
    assert_error(r, 401, "INVALID_CREDENTIALS")
    mfa_token = _challenge(c)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": mfa_token, "code": _code(secret)})
    assert r.status_code == 200, r.text
    session = r.json()["token"]
    assert r.cookies.get("lutra-session") == session
    assert c.get("/api/v1/api-keys", headers=auth(session)).status_code == 200
    # The challenge is spent once used.
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": mfa_token, "code": _code(secret, 1)})
    assert_error(r, 401, "MFA_TOKEN_INVALID")


def test_a_code_is_refused_when_replayed_within_its_window(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    secret = _enrol(c, token)["secret"]
    used = _code(secret)  # accepted by verify above
    assert_error(c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": used}), 401)
    # The next step's code works once, after which the older step's code is refused too.
    challenge = _challenge(c)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": _code(secret, 1)})
    assert r.status_code == 200, r.text
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": _code(secret, 1)})
    assert_error(r, 401, "INVALID_MFA_CODE")


def test_the_code_of_a_real_next_time_step_is_accepted(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    secret = _enrol(c, token)["secret"]
    # Wait for the clock to reach the next 30-second step: a fresh code, not one computed ahead.
    totp = pyotp.TOTP(secret)
    start = totp.timecode(datetime.now(UTC))
    while totp.timecode(datetime.now(UTC)) == start:
        time.sleep(0.2)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": totp.now()})
    assert r.status_code == 200, r.text


def test_recovery_codes_work_once_and_a_new_set_replaces_them(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    enrolled = _enrol(c, token)
    first, second = enrolled["recoveryCodes"][:2]
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": first.upper()})
    assert r.status_code == 200, r.text
    assert r.json()["recoveryCodesLeft"] == 9
    assert_error(c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": first}), 401)
    # A new set needs a current code, and the old codes stop working.
    assert_error(c.post("/api/auth/mfa/recovery-codes", json={"code": "000000"}, headers=auth(token)), 401)
    r = c.post("/api/auth/mfa/recovery-codes", json={"code": _code(enrolled["secret"], 1)}, headers=auth(token))
    fresh = r.json()["recoveryCodes"]
    assert len(fresh) == 10 and second not in fresh
    assert_error(c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": second}), 401)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": fresh[0]})
    assert r.status_code == 200, r.text


def test_wrong_codes_count_toward_the_login_throttle(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    assert admin.put("/api/v1/settings", json={"loginAttemptLimit": 3}).status_code == 200
    c = _client(admin.app)
    secret = _enrol(c, token)["secret"]
    challenge = _challenge(c)
    for _ in range(3):
        r = c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": "000000"})
        assert_error(r, 401, "INVALID_MFA_CODE")
    # Even the right code is refused now, and so is the password step.
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": _code(secret, 1)})
    assert_error(r, 429, "LOGIN_THROTTLED")
    assert int(r.headers["Retry-After"]) >= 1
    r = c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(r, 429, "LOGIN_THROTTLED")


def test_a_challenge_lives_five_minutes_and_dies_after_five_wrong_codes(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    assert admin.put("/api/v1/settings", json={"loginAttemptLimit": 50}).status_code == 200
    c = _client(admin.app)
    secret = _enrol(c, token)["secret"]
    challenge = _challenge(c)
    with database() as db:
        row = db.scalar(select(MfaChallenge))
        assert timedelta(minutes=4) < row.expires_at - datetime.now(UTC) <= timedelta(minutes=5)
        db.execute(update(MfaChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": _code(secret, 1)})
    assert_error(r, 401, "MFA_TOKEN_INVALID")
    challenge = _challenge(c)
    for _ in range(5):
        assert_error(c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": "000000"}), 401)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": challenge, "code": _code(secret, 1)})
    assert_error(r, 401, "MFA_TOKEN_INVALID")


def test_disable_needs_a_code_and_admin_reset_clears_it(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    secret = _enrol(c, token)["secret"]
    assert_error(c.post("/api/auth/mfa/disable", json={"code": "000000"}, headers=auth(token)), 401)
    r = c.post("/api/auth/mfa/complete", json={"mfaToken": _challenge(c), "code": _code(secret, 1)})
    other = r.json()["token"]
    r = c.post("/api/auth/mfa/disable", json={"code": _code(secret, -1)}, headers=auth(token))
    assert_error(r, 401)  # an older step than the last accepted one: a replay
    # Simulate the next step's window having passed for the last code: disable with a fresh step.
    with database() as db:
        db.execute(update(User).where(User.username == "alice").values(mfa_last_step=None))
    r = c.post("/api/auth/mfa/disable", json={"code": _code(secret)}, headers=auth(token))
    assert r.json() == {"ok": True, "mfaEnabled": False}
    assert_error(c.get("/api/auth/session", headers=auth(other)), 401)  # other sessions ended
    assert "token" in c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()

    # Locked out: an administrator clears it, which also ends the user's sessions.
    token = login(c, "alice", PASSWORD)
    _enrol(c, token)
    user_id = c.get("/api/auth/session", headers=auth(token)).json()["user"]["id"]
    assert_error(c.post(f"/api/auth/users/{user_id}/mfa/reset", headers=auth(token)), 403)
    assert admin.post(f"/api/auth/users/{user_id}/mfa/reset").json() == {"ok": True}
    assert_error(c.get("/api/auth/session", headers=auth(token)), 401)
    assert "token" in c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()
    with database() as db:
        assert db.scalar(select(MfaRecoveryCode.id)) is None
    actions = _actions(admin)
    for action in (
        "MFA_ENROLMENT_STARTED",
        "MFA_ENABLED",
        "MFA_CHALLENGE_ISSUED",
        "MFA_FAILED",
        "MFA_DISABLED",
        "MFA_RESET",
    ):
        assert action in actions, action


def test_api_keys_are_not_affected(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    c = _client(admin.app)
    key = c.post("/api/v1/api-keys", json={"name": "script"}, headers=auth(token)).json()["key"]
    _enrol(c, token)
    assert c.get("/api/auth/session", headers=auth(key)).status_code == 200
    assert c.get("/api/v1/api-keys", headers=auth(key)).status_code == 200


def _must_enrol(c: TestClient) -> str:
    r = c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["mfaEnrolmentRequired"] is True
    token = r.json()["token"]
    assert_error(c.get("/api/v1/api-keys", headers=auth(token)), 403, "MFA_ENROLMENT_REQUIRED")
    assert c.get("/api/auth/session", headers=auth(token)).json()["mfaEnrolmentRequired"] is True
    return token


def test_require_mfa_setting_makes_enrolment_mandatory_at_the_next_login(admin: TestClient) -> None:
    before = create_user(admin, "alice")
    assert_error(admin.put("/api/v1/settings", json={"requireMfa": "maybe"}), 400, "VALIDATION_ERROR")
    assert admin.put("/api/v1/settings", json={"requireMfa": True}).status_code == 200
    c = _client(admin.app)
    # A session opened before keeps working until the next password login.
    assert c.get("/api/v1/api-keys", headers=auth(before)).status_code == 200
    token = _must_enrol(c)
    _enrol(c, token)
    assert c.get("/api/v1/api-keys", headers=auth(token)).status_code == 200
    assert_error(c.get("/api/auth/session", headers=auth(before)), 401)


def test_a_role_can_require_mfa(admin: TestClient) -> None:
    create_user(admin, "alice")
    roles = admin.get("/api/v1/roles").json()["roles"]
    user_role = next(r for r in roles if r["name"] == "user")
    assert user_role["requireMfa"] is False
    # Built-in roles accept requireMfa alone; their permissions still cannot change.
    r = admin.put(f"/api/v1/roles/{user_role['id']}", json={"requireMfa": True, "description": "x"})
    assert_error(r, 400)
    assert admin.put(f"/api/v1/roles/{user_role['id']}", json={"requireMfa": True}).json() == {"ok": True}
    c = _client(admin.app)
    _must_enrol(c)
    # Another role without the flag is not concerned.
    r = admin.post("/api/v1/roles", json={"name": "strict", "permissions": ["tools:use"], "requireMfa": True})
    assert r.status_code == 201 and r.json()["requireMfa"] is True
