"""/api/auth users: list, register, update (role/team), delete, reset-password, and who may do them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth.permissions import PERMISSIONS
from app.models import Role, Team, User
from tests.assertions import AUTH_REQUIRED, assert_error, database
from tests.conftest import ADMIN_PASSWORD, auth, create_user, login

INVALID = {"error": "Invalid credentials", "code": "INVALID_CREDENTIALS"}


def _other(client: TestClient) -> TestClient:
    """A second client on the running app with its own cookie jar."""
    return TestClient(client.app, base_url="http://testserver")


def _user_id(admin: TestClient, username: str) -> str:
    users = admin.get("/api/auth/users").json()["users"]
    return next(u["id"] for u in users if u["username"] == username)


def _admin_id(admin: TestClient) -> str:
    return admin.get("/api/auth/session").json()["user"]["id"]


def _add_role(name: str, permissions: list[str]) -> None:
    with database() as db:
        db.add(Role(name=name, description="test role", permissions=permissions, is_builtin=False))


def _add_team(name: str) -> str:
    with database() as db:
        team = Team(name=name)
        db.add(team)
        db.flush()
        return team.id


def _key(admin: TestClient, token: str) -> str:
    r = admin.post("/api/v1/api-keys", json={"name": "k"}, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()["key"]


def create_user_token(admin: TestClient, username: str, password: str) -> str:
    """Logs a registered user in and past the forced password change; returns the session token."""
    other = _other(admin)
    token = login(other, username, password)
    r = other.post(
        "/api/auth/change-password",
        json={"currentPassword": password, "newPassword": password + "-new"},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    return token


# --- list ----------------------------------------------------------------------------------------


def test_admin_lists_users(admin: TestClient) -> None:
    create_user(admin, "dave")
    r = admin.get("/api/auth/users")
    assert r.status_code == 200
    users = r.json()["users"]
    assert [u["username"] for u in users] == ["admin", "dave"]
    dave = users[1]
    assert {"id", "username", "role", "team", "createdAt"} <= set(dave)
    assert dave["role"] == "user" and dave["team"] == "Default"
    assert "password" not in r.text and "argon2" not in r.text and "hash" not in r.text.lower()


def test_users_list_is_admin_only(admin: TestClient) -> None:
    token = create_user(admin, "erin")
    r = admin.get("/api/auth/users", headers=auth(token))
    assert_error(r, 403, "FORBIDDEN")
    assert r.json() == {"error": "Missing permission: users:manage", "code": "FORBIDDEN"}
    admin.headers.pop("Authorization")
    assert admin.get("/api/auth/users").json() == AUTH_REQUIRED


# --- register ------------------------------------------------------------------------------------


def test_register_creates_a_user_who_must_change_password(admin: TestClient) -> None:
    r = admin.post("/api/auth/register", json={"username": "frank", "password": "frank-password-1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "username", "role", "team"}
    assert body["username"] == "frank" and body["role"] == "user" and body["team"] == "Default"
    with database() as db:
        row = db.get(User, body["id"])
        assert row is not None and row.must_change_password is True
        assert row.password_hash.startswith("$argon2id$") and "frank-password-1" not in row.password_hash

    other = _other(admin)
    r = other.post("/api/auth/login", json={"username": "frank", "password": "frank-password-1"})
    assert r.status_code == 200
    assert r.json()["user"]["mustChangePassword"] is True
    token = r.json()["token"]
    other.cookies.clear()
    assert_error(other.get("/api/v1/api-keys", headers=auth(token)), 403, "MUST_CHANGE_PASSWORD")


def test_register_with_role_and_team(admin: TestClient) -> None:
    team_id = _add_team("Design")
    r = admin.post(
        "/api/auth/register",
        json={"username": "grace", "password": "grace-password-1", "role": "editor", "team": "design"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "editor" and r.json()["team"] == "Design"
    r = admin.post(
        "/api/auth/register",
        json={"username": "heidi", "password": "heidi-password-1", "role": "admin", "team": team_id},
    )
    assert r.status_code == 201 and r.json()["role"] == "admin" and r.json()["team"] == "Design"
    r = admin.post("/api/auth/login", json={"username": "heidi", "password": "heidi-password-1"})
    assert sorted(r.json()["user"]["permissions"]) == sorted(PERMISSIONS)


def test_register_duplicate_is_409(admin: TestClient) -> None:
    body = {"username": "ivan", "password": "ivan-password-1"}
    assert admin.post("/api/auth/register", json=body).status_code == 201
    for name in ("ivan", "IVAN", "admin"):
        r = admin.post("/api/auth/register", json={**body, "username": name})
        assert_error(r, 409, "CONFLICT", "Username already exists")


BAD_USERNAMES = ["ab", "x" * 51, "has space", "semi;colon", "émile", "slash/name", "nul\x00name", "<script>", ""]


def test_register_rejects_bad_usernames(admin: TestClient) -> None:
    for username in BAD_USERNAMES:
        r = admin.post("/api/auth/register", json={"username": username, "password": "fine-password-1"})
        assert "details" in assert_error(r, 400, "VALIDATION_ERROR"), username
    assert len(admin.get("/api/auth/users").json()["users"]) == 1


def test_register_accepts_the_allowed_characters(admin: TestClient) -> None:
    r = admin.post("/api/auth/register", json={"username": "a.b-c_D9", "password": "fine-password-1"})
    assert r.status_code == 201, r.text


def test_register_rejects_bad_role_team_or_password(admin: TestClient) -> None:
    for extra in [
        {"role": "overlord"},
        {"role": "nul\x00role"},
        {"team": "no-such-team"},
        {"team": "nul\x00team"},
        {"password": "short"},
        {"password": "tab\tinside-it"},
    ]:
        r = admin.post("/api/auth/register", json={"username": "judy", "password": "judy-password-1", **extra})
        assert_error(r, 400, "VALIDATION_ERROR")
    assert "judy" not in [u["username"] for u in admin.get("/api/auth/users").json()["users"]]


def test_register_malformed_bodies(admin: TestClient) -> None:
    for content in ["{", "[]", "{}", '{"username": "kim"}', '{"username": 1, "password": 2}']:
        r = admin.post("/api/auth/register", content=content, headers={"Content-Type": "application/json"})
        assert "details" in assert_error(r, 400, "VALIDATION_ERROR"), content


def test_register_is_admin_only(admin: TestClient) -> None:
    token = create_user(admin, "leo")
    r = admin.post(
        "/api/auth/register", json={"username": "mallory", "password": "mallory-pass-1"}, headers=auth(token)
    )
    assert_error(r, 403, "FORBIDDEN")


# --- update --------------------------------------------------------------------------------------


def test_role_change_applies_and_ends_that_users_sessions(admin: TestClient) -> None:
    token = create_user(admin, "nina")
    key = _key(admin, token)
    uid = _user_id(admin, "nina")
    admin_token = admin.headers["Authorization"]
    r = admin.put(f"/api/auth/users/{uid}", json={"role": "editor"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401)
    assert admin.headers["Authorization"] == admin_token and admin.get("/api/auth/session").status_code == 200
    # An API key follows its owner's new role at once.
    perms = admin.get("/api/auth/session", headers=auth(key)).json()["user"]["permissions"]
    assert "files:all" in perms and "pipelines:all" in perms
    users = {u["username"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert users["nina"]["role"] == "editor"
    token = login(_other(admin), "nina", "user-password-1-new")
    assert admin.get("/api/auth/session", headers=auth(token)).json()["user"]["role"] == "editor"


def test_team_change_keeps_sessions(admin: TestClient) -> None:
    token = create_user(admin, "oscar")
    _add_team("Video")
    uid = _user_id(admin, "oscar")
    assert admin.put(f"/api/auth/users/{uid}", json={"team": "Video"}).json() == {"ok": True}
    assert admin.get("/api/auth/session", headers=auth(token)).status_code == 200
    users = {u["username"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert users["oscar"]["team"] == "Video"
    assert_error(admin.put(f"/api/auth/users/{uid}", json={"team": "Nope"}), 400, "VALIDATION_ERROR")


def test_update_rejects_unknown_role_and_user(admin: TestClient) -> None:
    create_user(admin, "peggy")
    uid = _user_id(admin, "peggy")
    assert_error(admin.put(f"/api/auth/users/{uid}", json={"role": "overlord"}), 400, "VALIDATION_ERROR")
    assert_error(admin.put("/api/auth/users/no-such-id", json={"role": "user"}), 404, "NOT_FOUND")
    r = admin.put(f"/api/auth/users/{uid}", content="{", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")


def test_admin_cannot_demote_itself(admin: TestClient) -> None:
    r = admin.put(f"/api/auth/users/{_admin_id(admin)}", json={"role": "user"})
    assert_error(r, 400, "SELF_DEMOTE")
    assert admin.get("/api/auth/users").status_code == 200


def test_last_admin_cannot_be_demoted_or_deleted(admin: TestClient) -> None:
    # A delegated manager with every permission, but not the admin role, meets the last-admin rule.
    _add_role("deputy", list(PERMISSIONS))
    r = admin.post("/api/auth/register", json={"username": "quinn", "password": "quinn-pass-1", "role": "deputy"})
    assert r.status_code == 201, r.text
    deputy = create_user_token(admin, "quinn", "quinn-pass-1")
    aid = _admin_id(admin)
    assert_error(admin.put(f"/api/auth/users/{aid}", json={"role": "user"}, headers=auth(deputy)), 400, "LAST_ADMIN")
    assert_error(admin.delete(f"/api/auth/users/{aid}", headers=auth(deputy)), 400, "LAST_ADMIN")
    # With a second admin, one of them may go.
    r = admin.post("/api/auth/register", json={"username": "rita", "password": "rita-password-1", "role": "admin"})
    rid = r.json()["id"]
    assert admin.put(f"/api/auth/users/{aid}", json={"role": "user"}, headers=auth(deputy)).status_code == 200
    assert_error(admin.put(f"/api/auth/users/{rid}", json={"role": "user"}, headers=auth(deputy)), 400, "LAST_ADMIN")


def test_user_managers_cannot_touch_accounts_above_them(admin: TestClient) -> None:
    _add_role("helpdesk", ["users:manage", "tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read"])
    r = admin.post("/api/auth/register", json={"username": "sam", "password": "sam-password-1", "role": "helpdesk"})
    assert r.status_code == 201
    desk = create_user_token(admin, "sam", "sam-password-1")
    aid = _admin_id(admin)
    # Cannot demote, delete, reset or hand out admin ...
    assert_error(
        admin.put(f"/api/auth/users/{aid}", json={"role": "user"}, headers=auth(desk)), 403, "ESCALATION_DENIED"
    )
    assert_error(admin.put(f"/api/auth/users/{aid}", json={"team": "Default"}, headers=auth(desk)), 403)
    assert_error(admin.delete(f"/api/auth/users/{aid}", headers=auth(desk)), 403, "ESCALATION_DENIED")
    r = admin.post(f"/api/auth/users/{aid}/reset-password", json={"newPassword": "taken-over-1"}, headers=auth(desk))
    assert_error(r, 403, "ESCALATION_DENIED")
    r = admin.post(
        "/api/auth/register",
        json={"username": "trent", "password": "trent-password-1", "role": "admin"},
        headers=auth(desk),
    )
    assert_error(r, 403, "ESCALATION_DENIED")
    # ... but manages plain users.
    r = admin.post("/api/auth/register", json={"username": "uma", "password": "uma-password-1"}, headers=auth(desk))
    assert r.status_code == 201
    assert admin.delete(f"/api/auth/users/{r.json()['id']}", headers=auth(desk)).status_code == 200
    assert admin.get("/api/auth/session").json()["user"]["role"] == "admin"
    assert login(_other(admin), "admin", ADMIN_PASSWORD)


def test_update_is_admin_only(admin: TestClient) -> None:
    token = create_user(admin, "victor")
    uid = _user_id(admin, "victor")
    assert_error(admin.put(f"/api/auth/users/{uid}", json={"role": "admin"}, headers=auth(token)), 403, "FORBIDDEN")
    assert admin.get("/api/auth/session", headers=auth(token)).json()["user"]["role"] == "user"


# --- delete --------------------------------------------------------------------------------------


def test_delete_user_ends_everything(admin: TestClient) -> None:
    token = create_user(admin, "wendy")
    key = _key(admin, token)
    assert admin.get("/api/auth/session", headers=auth(key)).status_code == 200
    uid = _user_id(admin, "wendy")
    r = admin.delete(f"/api/auth/users/{uid}")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401)
    assert_error(admin.get("/api/auth/session", headers=auth(key)), 401)
    assert "wendy" not in [u["username"] for u in admin.get("/api/auth/users").json()["users"]]
    assert (
        _other(admin).post("/api/auth/login", json={"username": "wendy", "password": "user-password-1-new"}).json()
        == INVALID
    )
    assert_error(admin.delete(f"/api/auth/users/{uid}"), 404, "NOT_FOUND")
    # The name is free again.
    assert admin.post("/api/auth/register", json={"username": "wendy", "password": "wendy-pass-2"}).status_code == 201


def test_delete_self_and_unknown(admin: TestClient) -> None:
    assert_error(admin.delete(f"/api/auth/users/{_admin_id(admin)}"), 400, "SELF_DELETE")
    assert_error(admin.delete("/api/auth/users/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND")
    assert admin.get("/api/auth/session").status_code == 200


def test_delete_is_admin_only(admin: TestClient) -> None:
    token = create_user(admin, "xena")
    assert_error(admin.delete(f"/api/auth/users/{_admin_id(admin)}", headers=auth(token)), 403, "FORBIDDEN")


# --- reset-password ------------------------------------------------------------------------------


def test_reset_password_forces_change_and_ends_sessions_and_keys(admin: TestClient) -> None:
    token = create_user(admin, "yuri")
    key = _key(admin, token)
    uid = _user_id(admin, "yuri")
    r = admin.post(f"/api/auth/users/{uid}/reset-password", json={"newPassword": "temporary-pass-1"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401)
    assert_error(admin.get("/api/auth/session", headers=auth(key)), 401)
    other = _other(admin)
    assert other.post("/api/auth/login", json={"username": "yuri", "password": "user-password-1-new"}).json() == INVALID
    r = other.post("/api/auth/login", json={"username": "yuri", "password": "temporary-pass-1"})
    assert r.status_code == 200 and r.json()["user"]["mustChangePassword"] is True
    other.cookies.clear()
    assert_error(other.get("/api/v1/api-keys", headers=auth(r.json()["token"])), 403, "MUST_CHANGE_PASSWORD")
    # The admin's own session is untouched.
    assert admin.get("/api/auth/users").status_code == 200


def test_reset_password_failures(admin: TestClient) -> None:
    token = create_user(admin, "zoe")
    uid = _user_id(admin, "zoe")
    assert_error(
        admin.post(f"/api/auth/users/{uid}/reset-password", json={"newPassword": "short"}), 400, "VALIDATION_ERROR"
    )
    assert_error(admin.post(f"/api/auth/users/{uid}/reset-password", json={}), 400, "VALIDATION_ERROR")
    r = admin.post("/api/auth/users/no-such-user/reset-password", json={"newPassword": "long-enough-1"})
    assert_error(r, 404, "NOT_FOUND")
    r = admin.post(
        f"/api/auth/users/{_admin_id(admin)}/reset-password", json={"newPassword": "long-enough-1"}, headers=auth(token)
    )
    assert_error(r, 403, "FORBIDDEN")
    # Nothing changed for zoe.
    assert admin.get("/api/auth/session", headers=auth(token)).status_code == 200
