"""The credential cache: a cached key or session is refused on the very next request after it is
revoked, logged out, its user demoted, re-roled, re-passworded or deleted; lastUsedAt is batched."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import key_usage, tokens
from app.auth import routes as auth_routes
from app.auth.principal_cache import principals
from app.models import ApiKey, Role
from tests.assertions import assert_error, database
from tests.conftest import auth, create_user


def _key(client: TestClient, token: str) -> tuple[str, str]:
    r = client.post("/api/v1/api-keys", json={"name": "script"}, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["id"]


def _cached(credential: str) -> bool:
    return principals.get(tokens.hash_token(credential)) is not None


def _user_id(admin: TestClient, username: str) -> str:
    users = admin.get("/api/auth/users").json()["users"]
    return next(u["id"] for u in users if u["username"] == username)


def test_repeat_requests_are_answered_from_the_cache(admin: TestClient) -> None:
    token = create_user(admin, "cara")
    key, _ = _key(admin, token)
    first = admin.get("/api/auth/session", headers=auth(key))
    assert first.status_code == 200 and first.json()["user"]["username"] == "cara"
    assert _cached(key)
    # The cached principal answers even though the key's proof of verification is gone.
    tokens.verified_keys.clear()
    again = admin.get("/api/auth/session", headers=auth(key))
    assert again.json()["user"]["username"] == "cara"
    assert tokens.verified_keys.get(key) is None


def test_revoked_key_is_refused_on_the_next_request(admin: TestClient) -> None:
    key, key_id = _key(admin, create_user(admin, "dan"))
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert _cached(key)
    assert admin.delete(f"/api/v1/api-keys/{key_id}").status_code == 200
    assert not _cached(key)
    assert_error(admin.get("/api/v1/settings", headers=auth(key)), 401, "INVALID_API_KEY")


def test_logged_out_session_is_refused_on_the_next_request(admin: TestClient) -> None:
    token = create_user(admin, "eve")
    assert admin.get("/api/auth/session", headers=auth(token)).json()["user"]["username"] == "eve"
    assert _cached(token)
    assert admin.post("/api/auth/logout", headers=auth(token)).status_code == 200
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401)


def test_demoted_user_loses_the_permission_on_the_next_request(admin: TestClient) -> None:
    token = create_user(admin, "fay", role="admin")
    key, _ = _key(admin, token)
    listed = admin.get("/api/auth/users", headers=auth(key))
    assert listed.status_code == 200 and "fay" in {u["username"] for u in listed.json()["users"]}
    r = admin.put(f"/api/auth/users/{_user_id(admin, 'fay')}", json={"role": "user"})
    assert r.status_code == 200, r.text
    assert_error(admin.get("/api/auth/users", headers=auth(key)), 403)
    assert admin.get("/api/auth/session", headers=auth(key)).json()["user"]["role"] == "user"


def test_role_permission_change_applies_on_the_next_request(admin: TestClient) -> None:
    r = admin.post("/api/v1/roles", json={"name": "auditor", "permissions": ["audit:read", "apikeys:own"]})
    assert r.status_code == 201, r.text
    role_id = r.json()["id"]
    key, _ = _key(admin, create_user(admin, "gus", role="auditor"))
    assert admin.get("/api/v1/audit-log", headers=auth(key)).status_code == 200
    assert admin.put(f"/api/v1/roles/{role_id}", json={"permissions": ["apikeys:own"]}).status_code == 200
    assert_error(admin.get("/api/v1/audit-log", headers=auth(key)), 403)
    with database() as db:
        assert db.scalar(select(Role.permissions).where(Role.id == role_id)) == ["apikeys:own"]


def test_password_reset_and_deletion_refuse_cached_credentials(admin: TestClient) -> None:
    token = create_user(admin, "hal")
    key, _ = _key(admin, token)
    for credential in (token, key):
        assert admin.get("/api/v1/settings", headers=auth(credential)).status_code == 200
    user_id = _user_id(admin, "hal")
    r = admin.post(f"/api/auth/users/{user_id}/reset-password", json={"newPassword": "another-password-9"})
    assert r.status_code == 200, r.text
    for credential in (token, key):
        assert_error(admin.get("/api/v1/settings", headers=auth(credential)), 401)

    token = create_user(admin, "ivy")
    key, _ = _key(admin, token)
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert admin.delete(f"/api/auth/users/{_user_id(admin, 'ivy')}").status_code == 200
    for credential in (token, key):
        assert_error(admin.get("/api/v1/settings", headers=auth(credential)), 401)


def test_last_used_is_written_in_batches_not_per_request(admin: TestClient) -> None:
    key, key_id = _key(admin, create_user(admin, "jon"))
    for _ in range(3):
        assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    with database() as db:
        assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) is None
    assert key_usage.flush_now() >= 1
    with database() as db:
        assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) is not None


def test_the_session_answer_is_kept_until_anything_behind_it_changes(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_user(admin, "gus")
    built: list[str] = []
    real = auth_routes._session_view
    monkeypatch.setattr(auth_routes, "_session_view", lambda p: built.append(p.username) or real(p))
    answers = [admin.get("/api/auth/session", headers=auth(token)).json() for _ in range(5)]
    assert built == ["gus"] and all(a == answers[0] for a in answers)
    assert answers[0]["user"]["team"] == "Default"
    # Renaming the user's team, then moving the user: each shows on the next request.
    team_id = next(t["id"] for t in admin.get("/api/v1/teams").json()["teams"] if t["name"] == "Default")
    assert admin.put(f"/api/v1/teams/{team_id}", json={"name": "Everyone"}).status_code == 200
    assert admin.get("/api/auth/session", headers=auth(token)).json()["user"]["team"] == "Everyone"
    other = admin.post("/api/v1/teams", json={"name": "Design"}).json()
    assert admin.put(f"/api/auth/users/{_user_id(admin, 'gus')}", json={"team": other["id"]}).status_code == 200
    assert admin.get("/api/auth/session", headers=auth(token)).json()["user"]["team"] == "Design"
    assert built == ["gus", "gus", "gus"]
