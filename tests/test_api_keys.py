"""/api/v1/api-keys: creation (shown once), listing, deletion, scoping, expiry and the verified-key cache."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import tokens
from app.auth.principal_cache import principals
from app.models import ApiKey
from tests.assertions import AUTH_REQUIRED, assert_error, database
from tests.conftest import auth, create_user

KEY_SHAPE = re.compile(r"^si_[0-9a-f]{96}$")
LIST_FIELDS = {"id", "name", "prefix", "permissions", "createdAt", "lastUsedAt", "expiresAt"}


def _create(client: TestClient, token: str | None = None, **body: object) -> dict:  # type: ignore[type-arg]
    headers = auth(token) if token else None
    r = client.post("/api/v1/api-keys", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- create --------------------------------------------------------------------------------------


def test_create_returns_the_key_once(admin: TestClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    r = admin.post("/api/v1/api-keys", json={"name": "my-script"})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "key", "name", "permissions", "expiresAt", "createdAt"}
    assert KEY_SHAPE.match(body["key"]), body["key"]
    assert body["name"] == "my-script"
    assert body["permissions"] is None and body["expiresAt"] is None
    assert before <= _iso(body["createdAt"]) <= datetime.now(UTC) + timedelta(seconds=5)
    # Stored as an scrypt hash; the raw key is nowhere in the database row.
    with database() as db:
        row = db.get(ApiKey, body["id"])
        assert row is not None
        assert row.key_hash.startswith("scrypt$") and body["key"] not in row.key_hash
        assert body["key"][3:] not in (row.key_hash + row.prefix)
    # Never retrievable again.
    listed = admin.get("/api/v1/api-keys")
    assert body["key"] not in listed.text and "scrypt" not in listed.text


def test_create_with_defaults_and_without_a_body(admin: TestClient) -> None:
    assert admin.post("/api/v1/api-keys").json()["name"] == "Default API Key"
    assert _create(admin, name="   ")["name"] == "Default API Key"
    assert _create(admin)["name"] == "Default API Key"
    keys = {_create(admin)["key"] for _ in range(3)}
    assert len(keys) == 3


def test_create_rejects_bad_bodies(admin: TestClient) -> None:
    for body in [
        {"name": "x" * 101},
        {"name": 5},
        {"permissions": "tools:use"},
        {"permissions": ["tools:fly"]},
        {"expiresAt": "not a date"},
        {"expiresAt": "2001-01-01T00:00:00Z"},
    ]:
        assert_error(admin.post("/api/v1/api-keys", json=body), 400, "VALIDATION_ERROR")
    assert admin.get("/api/v1/api-keys").json() == {"apiKeys": []}


def test_create_rejects_malformed_json(admin: TestClient) -> None:
    r = admin.post("/api/v1/api-keys", content="{", headers={"Content-Type": "application/json"})
    assert "details" in assert_error(r, 400, "VALIDATION_ERROR")


def test_past_expiry_is_refused(admin: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = admin.post("/api/v1/api-keys", json={"expiresAt": past})
    assert_error(r, 400, "VALIDATION_ERROR", "expiresAt must be in the future")


def test_future_expiry_is_kept(admin: TestClient) -> None:
    when = datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = _create(admin, expiresAt="2099-01-02T03:04:05Z")
    assert _iso(body["expiresAt"]) == when
    listed = admin.get("/api/v1/api-keys").json()["apiKeys"][0]
    assert _iso(listed["expiresAt"]) == when


def test_scoped_permissions_must_be_a_subset_of_your_own(admin: TestClient) -> None:
    token = create_user(admin, "alice")
    r = admin.post("/api/v1/api-keys", json={"permissions": ["tools:use", "users:manage"]}, headers=auth(token))
    body = assert_error(r, 400, "VALIDATION_ERROR")
    assert "users:manage" in body["error"] and "tools:use" not in body["error"]
    key = _create(admin, token, permissions=["tools:use", "files:own", "tools:use"])
    assert key["permissions"] == ["files:own", "tools:use"]
    # The admin may scope to anything it holds.
    assert _create(admin, permissions=["users:manage"])["permissions"] == ["users:manage"]


def test_create_needs_credentials(client: TestClient) -> None:
    assert client.post("/api/v1/api-keys", json={"name": "x"}).json() == AUTH_REQUIRED
    assert client.get("/api/v1/api-keys").json() == AUTH_REQUIRED


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_metadata_only_and_only_your_own(admin: TestClient) -> None:
    alice = create_user(admin, "alice")
    bob = create_user(admin, "bob")
    a = _create(admin, alice, name="alice-key")
    b = _create(admin, bob, name="bob-key")
    mine = _create(admin, name="admin-key")

    r = admin.get("/api/v1/api-keys", headers=auth(alice))
    assert r.status_code == 200
    keys = r.json()["apiKeys"]
    assert [k["name"] for k in keys] == ["alice-key"]
    listed = keys[0]
    assert set(listed) >= LIST_FIELDS
    assert not {"key", "keyHash", "key_hash", "hash"} & set(listed)
    assert listed["id"] == a["id"]
    assert listed["lastUsedAt"] is None and listed["permissions"] is None
    # The prefix identifies the key without revealing it.
    assert a["key"].startswith(listed["prefix"]) and len(listed["prefix"]) < 20
    assert a["key"] not in r.text and b["key"] not in r.text and "scrypt" not in r.text

    assert [k["name"] for k in admin.get("/api/v1/api-keys", headers=auth(bob)).json()["apiKeys"]] == ["bob-key"]
    # apikeys:all: the admin sees everyone's keys.
    everyone = admin.get("/api/v1/api-keys").json()["apiKeys"]
    assert {k["id"] for k in everyone} == {a["id"], b["id"], mine["id"]}
    for k in everyone:
        assert k["id"] != a["key"] and a["key"] not in str(k)


# --- delete --------------------------------------------------------------------------------------


def test_delete_own_and_not_others(admin: TestClient) -> None:
    alice = create_user(admin, "alice")
    bob = create_user(admin, "bob")
    a = _create(admin, alice)
    b = _create(admin, bob)
    assert_error(admin.delete(f"/api/v1/api-keys/{b['id']}", headers=auth(alice)), 404, "NOT_FOUND")
    assert admin.get("/api/auth/session", headers=auth(b["key"])).status_code == 200
    r = admin.delete(f"/api/v1/api-keys/{a['id']}", headers=auth(alice))
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert_error(admin.delete(f"/api/v1/api-keys/{a['id']}", headers=auth(alice)), 404, "NOT_FOUND")
    assert_error(admin.delete("/api/v1/api-keys/no-such-key", headers=auth(alice)), 404, "NOT_FOUND")
    assert admin.get("/api/v1/api-keys", headers=auth(alice)).json() == {"apiKeys": []}
    # An admin (apikeys:all) may revoke anyone's key.
    assert admin.delete(f"/api/v1/api-keys/{b['id']}").status_code == 200
    assert_error(admin.get("/api/auth/session", headers=auth(b["key"])), 401)


# --- using a key ---------------------------------------------------------------------------------


def test_key_authenticates_as_bearer(admin: TestClient) -> None:
    token = create_user(admin, "carol")
    key = _create(admin, token)["key"]
    admin.headers.pop("Authorization")
    r = admin.get("/api/auth/session", headers=auth(key))
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["username"] == "carol"
    assert user["loginMethod"] == "apikey"
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert admin.get("/api/v1/api-keys", headers=auth(key)).json()["apiKeys"][0]["name"] == "Default API Key"
    assert_error(admin.get("/api/auth/users", headers=auth(key)), 403, "FORBIDDEN")


def test_scoped_key_lacks_what_it_was_not_given(admin: TestClient) -> None:
    key = _create(admin, permissions=["settings:read"])["key"]
    admin.headers.pop("Authorization")
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    for method, path in [
        ("GET", "/api/auth/users"),
        ("GET", "/api/v1/api-keys"),
        ("POST", "/api/v1/api-keys"),
        ("PUT", "/api/v1/settings"),
        ("GET", "/api/v1/audit-log"),
    ]:
        assert_error(admin.request(method, path, headers=auth(key)), 403, "FORBIDDEN")
    assert admin.get("/api/auth/session", headers=auth(key)).json()["user"]["permissions"] == ["settings:read"]


def test_scoped_key_cannot_outgrow_its_owner(admin: TestClient) -> None:
    # A key scoped while its owner was an admin loses what the owner later loses.
    r = admin.post("/api/auth/register", json={"username": "dan", "password": "dan-password-1", "role": "admin"})
    uid = r.json()["id"]
    other = TestClient(admin.app, base_url="http://testserver")
    token = other.post("/api/auth/login", json={"username": "dan", "password": "dan-password-1"}).json()["token"]
    assert other.post(
        "/api/auth/change-password",
        json={"currentPassword": "dan-password-1", "newPassword": "dan-password-2"},
        headers=auth(token),
    ).json() == {"ok": True}
    key = _create(other, token, permissions=["users:manage", "settings:read"])["key"]
    assert admin.get("/api/auth/users", headers=auth(key)).status_code == 200
    assert admin.put(f"/api/auth/users/{uid}", json={"role": "user"}).status_code == 200
    assert_error(admin.get("/api/auth/users", headers=auth(key)), 403, "FORBIDDEN")
    assert admin.get("/api/auth/session", headers=auth(key)).json()["user"]["permissions"] == ["settings:read"]


def test_unknown_or_malformed_keys_are_401(client: TestClient) -> None:
    for bad in ["si_" + "0" * 96, "si_" + "A" * 96, "si_" + "0" * 95, "si_", "si_" + "g" * 96, "si_" + "0" * 97]:
        assert_error(client.get("/api/v1/settings", headers=auth(bad)), 401)


def test_a_key_differing_only_after_the_lookup_prefix_is_401(admin: TestClient) -> None:
    key = _create(admin)["key"]
    last = "0" if key[-1] != "0" else "1"
    forged = key[:-1] + last
    assert_error(admin.get("/api/v1/settings", headers=auth(forged)), 401)
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    # A forgery after the real key was cached is refused too.
    assert_error(admin.get("/api/v1/settings", headers=auth(forged)), 401)


def test_expired_key_is_401_even_when_cached(admin: TestClient) -> None:
    body = _create(admin, expiresAt=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    key = body["key"]
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    with database() as db:
        row = db.get(ApiKey, body["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    r = admin.get("/api/v1/settings", headers=auth(key))
    assert_error(r, 401, "API_KEY_EXPIRED")


def test_key_expires_on_its_own(admin: TestClient) -> None:
    key = _create(admin, expiresAt=(datetime.now(UTC) + timedelta(seconds=2)).isoformat())["key"]
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    time.sleep(2.1)
    assert_error(admin.get("/api/v1/settings", headers=auth(key)), 401, "API_KEY_EXPIRED")


def test_deleted_key_is_401_immediately_despite_the_cache(admin: TestClient) -> None:
    body = _create(admin)
    key = body["key"]
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert tokens.verified_keys.get(key) == body["id"]
    assert admin.delete(f"/api/v1/api-keys/{body['id']}").status_code == 200
    assert_error(admin.get("/api/v1/settings", headers=auth(key)), 401)


def test_key_deleted_outside_a_request_is_401(admin: TestClient) -> None:
    # A deletion committed by any database session of the process (a command, a background task),
    # not only by the API route, drops the cached credential when it commits.
    body = _create(admin)
    key = body["key"]
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert principals.get(tokens.hash_token(key)) is not None
    with database() as db:
        db.delete(db.get(ApiKey, body["id"]))
    assert principals.get(tokens.hash_token(key)) is None
    assert tokens.verified_keys.get(key) is None
    assert_error(admin.get("/api/v1/settings", headers=auth(key)), 401)


def test_last_used_is_recorded(admin: TestClient) -> None:
    body = _create(admin)
    assert admin.get("/api/v1/api-keys").json()["apiKeys"][0]["lastUsedAt"] is None
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert admin.get("/api/v1/settings", headers=auth(body["key"])).status_code == 200
    listed = admin.get("/api/v1/api-keys").json()["apiKeys"][0]
    assert listed["lastUsedAt"] is not None
    assert before <= _iso(listed["lastUsedAt"]) <= datetime.now(UTC) + timedelta(seconds=5)
    with database() as db:
        assert db.scalar(select(ApiKey.last_used_at).where(ApiKey.id == body["id"])) is not None


def test_cache_spares_scrypt_on_repeat_requests(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _create(admin)["key"]
    calls: list[str] = []
    real = tokens.verify_api_key

    def counting(raw: str, stored: str) -> bool:
        calls.append(raw)
        return real(raw, stored)

    monkeypatch.setattr(tokens, "verify_api_key", counting)
    for _ in range(5):
        assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert len(calls) == 1
    # Once the caches are dropped (as on deletion or a password change) the next request verifies again.
    tokens.verified_keys.clear()
    principals.clear()
    assert admin.get("/api/v1/settings", headers=auth(key)).status_code == 200
    assert len(calls) == 2
