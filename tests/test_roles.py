"""/api/v1/roles through the HTTP API: the 18 permissions (the seed's 17 and automations:manage), built-ins,
custom roles and their effect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.conftest import auth, create_user, login

ALL_PERMISSIONS = {
    "tools:use",
    "files:own",
    "files:all",
    "apikeys:own",
    "apikeys:all",
    "pipelines:own",
    "pipelines:all",
    "settings:read",
    "settings:write",
    "users:manage",
    "teams:manage",
    "features:manage",
    "system:health",
    "audit:read",
    "compliance:manage",
    "webhooks:manage",
    "security:manage",
    "automations:manage",
}
USER_PERMISSIONS = {"tools:use", "files:own", "apikeys:own", "pipelines:own", "settings:read"}


def roles(client: TestClient) -> dict[str, dict[str, Any]]:
    r = client.get("/api/v1/roles")
    assert r.status_code == 200, r.text
    return {role["name"]: role for role in r.json()["roles"]}


def create_role(client: TestClient, name: str, permissions: list[str], description: str = "") -> dict[str, Any]:
    r = client.post("/api/v1/roles", json={"name": name, "description": description, "permissions": permissions})
    assert r.status_code == 201, r.text
    return r.json()


def users(client: TestClient) -> dict[str, dict[str, Any]]:
    r = client.get("/api/auth/users")
    assert r.status_code == 200, r.text
    return {u["username"]: u for u in r.json()["users"]}


def session_permissions(client: TestClient, token: str) -> set[str]:
    r = client.get("/api/auth/session", headers=auth(token))
    assert r.status_code == 200, r.text
    return set(r.json()["user"]["permissions"])


def test_eighteen_permissions_and_builtin_roles(admin: TestClient) -> None:
    listed = roles(admin)
    assert set(listed) == {"admin", "editor", "user"}
    assert len(ALL_PERMISSIONS) == 18
    assert set(listed["admin"]["permissions"]) == ALL_PERMISSIONS
    assert set(listed["user"]["permissions"]) == USER_PERMISSIONS
    assert set(listed["editor"]["permissions"]) == USER_PERMISSIONS | {"files:all", "pipelines:all"}
    for role in listed.values():
        assert role["isBuiltin"] is True
        assert role["id"] == f"builtin-{role['name']}"
        assert isinstance(role["description"], str) and role["description"]
        datetime.fromisoformat(role["createdAt"])
        datetime.fromisoformat(role["updatedAt"])
    assert listed["admin"]["userCount"] == 1
    assert listed["editor"]["userCount"] == 0
    assert listed["user"]["userCount"] == 0
    # The admin's session carries exactly the 18.
    r = admin.get("/api/auth/session")
    assert set(r.json()["user"]["permissions"]) == ALL_PERMISSIONS


def test_builtin_role_users_get_their_permissions(admin: TestClient) -> None:
    editor = create_user(admin, "eddie", role="editor")
    user = create_user(admin, "ursula")
    assert session_permissions(admin, editor) == USER_PERMISSIONS | {"files:all", "pipelines:all"}
    assert session_permissions(admin, user) == USER_PERMISSIONS
    counts = {name: r["userCount"] for name, r in roles(admin).items()}
    assert counts == {"admin": 1, "editor": 1, "user": 1}


def test_reading_roles_needs_audit_read(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    err = assert_error(admin.get("/api/v1/roles", headers=user), 403, "FORBIDDEN")
    assert "audit:read" in err["error"]
    assert_error(TestClient(admin.app).get("/api/v1/roles"), 401, "AUTH_REQUIRED")

    create_role(admin, "auditor", ["audit:read"])
    auditor = auth(create_user(admin, "audrey", role="auditor"))
    r = admin.get("/api/v1/roles", headers=auditor)
    assert r.status_code == 200
    assert {role["name"] for role in r.json()["roles"]} == {"admin", "editor", "user", "auditor"}
    # ...but changing them needs users:manage.
    r = admin.post("/api/v1/roles", json={"name": "sneaky", "permissions": ["audit:read"]}, headers=auditor)
    assert "users:manage" in assert_error(r, 403, "FORBIDDEN")["error"]


def test_changing_roles_needs_users_manage(admin: TestClient) -> None:
    custom = create_role(admin, "reviewer", ["tools:use"])
    user = auth(create_user(admin, "ursula"))
    calls = [
        ("POST", "/api/v1/roles", {"name": "sneaky", "permissions": ["tools:use"]}),
        ("PUT", f"/api/v1/roles/{custom['id']}", {"permissions": ["users:manage"]}),
        ("DELETE", f"/api/v1/roles/{custom['id']}", None),
    ]
    for method, path, body in calls:
        assert_error(admin.request(method, path, json=body, headers=user), 403, "FORBIDDEN")
        assert_error(TestClient(admin.app).request(method, path, json=body), 401, "AUTH_REQUIRED")
    listed = roles(admin)
    assert set(listed) == {"admin", "editor", "user", "reviewer"}
    assert listed["reviewer"]["permissions"] == ["tools:use"]


def test_create_custom_role(admin: TestClient) -> None:
    created = create_role(admin, "  Reviewer ", ["tools:use", "files:all", "tools:use"], "Checks results")
    assert created["name"] == "reviewer"
    assert created["isBuiltin"] is False
    assert created["description"] == "Checks results"
    assert sorted(created["permissions"]) == ["files:all", "tools:use"]
    listed = roles(admin)["reviewer"]
    assert listed["id"] == created["id"]
    assert listed["userCount"] == 0
    assert sorted(listed["permissions"]) == ["files:all", "tools:use"]


INVALID_ROLES: list[tuple[dict[str, Any], str]] = [
    ({"name": "a", "permissions": ["tools:use"]}, "name"),
    ({"name": "r" * 31, "permissions": ["tools:use"]}, "name"),
    ({"name": "bad name", "permissions": ["tools:use"]}, "name"),
    ({"name": "bad!", "permissions": ["tools:use"]}, "name"),
    ({"name": "caf\u00e9", "permissions": ["tools:use"]}, "name"),
    ({"name": "", "permissions": ["tools:use"]}, "name"),
    ({"name": 12, "permissions": ["tools:use"]}, "name"),
    ({"permissions": ["tools:use"]}, "name"),
    ({"name": "reviewer", "permissions": []}, "permissions"),
    ({"name": "reviewer", "permissions": ["tools:use", "tools:fly"]}, "permissions"),
    ({"name": "reviewer", "permissions": ["TOOLS:USE"]}, "permissions"),
    ({"name": "reviewer", "permissions": "tools:use"}, "permissions"),
    ({"name": "reviewer", "permissions": [1]}, "permissions"),
    ({"name": "reviewer"}, "permissions"),
    ({"name": "reviewer", "permissions": ["tools:use"], "description": "d" * 501}, "description"),
]


def test_invalid_roles_are_400(admin: TestClient) -> None:
    for body, field in INVALID_ROLES:
        err = assert_error(admin.post("/api/v1/roles", json=body), 400, "VALIDATION_ERROR")
        assert any(key.startswith(field) for key in err["details"]), (body, err)
    assert set(roles(admin)) == {"admin", "editor", "user"}
    err = admin.post("/api/v1/roles", json={"name": "x", "permissions": ["tools:use"]}).json()
    assert err["details"]["name"] == "Role name must be 2-30 characters"
    err = admin.post("/api/v1/roles", json={"name": "no way", "permissions": ["tools:use"]}).json()
    assert "lowercase letters, numbers, hyphens, and underscores" in err["details"]["name"]
    err = admin.post("/api/v1/roles", json={"name": "reviewer", "permissions": []}).json()
    assert err["details"]["permissions"] == "At least one permission is required"


def test_unknown_permissions_are_named(admin: TestClient) -> None:
    r = admin.post("/api/v1/roles", json={"name": "reviewer", "permissions": ["tools:use", "tools:fly", "root"]})
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert "tools:fly" in err["error"] and "root" in err["error"]


def test_invalid_updates_are_400(admin: TestClient) -> None:
    role = create_role(admin, "reviewer", ["tools:use"])
    for body in ({"name": "x"}, {"permissions": []}, {"permissions": ["nope"]}, {"name": "Has Space"}):
        assert_error(admin.put(f"/api/v1/roles/{role['id']}", json=body), 400, "VALIDATION_ERROR")
    listed = roles(admin)["reviewer"]
    assert listed["permissions"] == ["tools:use"]


def test_duplicate_role_names_conflict(admin: TestClient) -> None:
    create_role(admin, "reviewer", ["tools:use"])
    for name in ("reviewer", "REVIEWER", " reviewer ", "admin", "Editor", "user"):
        r = admin.post("/api/v1/roles", json={"name": name, "permissions": ["tools:use"]})
        assert assert_error(r, 409, "CONFLICT")["error"] == "Role name already exists"
    assert set(roles(admin)) == {"admin", "editor", "user", "reviewer"}


def test_rename_onto_existing_name_conflicts(admin: TestClient) -> None:
    a = create_role(admin, "alpha", ["tools:use"])
    create_role(admin, "beta", ["tools:use"])
    assert_error(admin.put(f"/api/v1/roles/{a['id']}", json={"name": "beta"}), 409, "CONFLICT")
    assert_error(admin.put(f"/api/v1/roles/{a['id']}", json={"name": "admin"}), 409, "CONFLICT")
    assert set(roles(admin)) == {"admin", "editor", "user", "alpha", "beta"}


def test_builtin_roles_cannot_change(admin: TestClient) -> None:
    before = roles(admin)
    for name in ("admin", "editor", "user"):
        for body in ({"permissions": ["tools:use"]}, {"name": "renamed"}, {"description": "changed"}, {}):
            err = assert_error(admin.put(f"/api/v1/roles/builtin-{name}", json=body), 400, "VALIDATION_ERROR")
            assert err["error"] == "Cannot modify built-in roles"
        err = assert_error(admin.delete(f"/api/v1/roles/builtin-{name}"), 400, "VALIDATION_ERROR")
        assert err["error"] == "Cannot delete built-in roles"
    assert roles(admin) == before


def test_unknown_role_is_404(admin: TestClient) -> None:
    err = assert_error(admin.put("/api/v1/roles/no-such-role", json={"description": "x"}), 404, "NOT_FOUND")
    assert err["error"] == "Role not found"
    for role_id in ("no-such-role", "x" * 300, "%00", "builtin-admin%00"):
        assert_error(admin.put(f"/api/v1/roles/{role_id}", json={"description": "x"}), 404, "NOT_FOUND")
        assert_error(admin.delete(f"/api/v1/roles/{role_id}"), 404, "NOT_FOUND")


def test_nul_in_description_is_rejected_on_both_databases(admin: TestClient) -> None:
    r = admin.post("/api/v1/roles", json={"name": "reviewer", "description": "a\x00b", "permissions": ["tools:use"]})
    assert "description" in assert_error(r, 400, "VALIDATION_ERROR")["details"]
    role = create_role(admin, "reviewer", ["tools:use"], "line one\nline two")
    assert roles(admin)["reviewer"]["description"] == "line one\nline two"
    r = admin.put(f"/api/v1/roles/{role['id']}", json={"description": "\x00"})
    assert "description" in assert_error(r, 400, "VALIDATION_ERROR")["details"]


def test_custom_role_grants_exactly_its_permissions(admin: TestClient) -> None:
    create_role(admin, "auditor", ["audit:read", "teams:manage"])
    token = create_user(admin, "audrey", role="auditor")
    assert session_permissions(admin, token) == {"audit:read", "teams:manage"}
    h = auth(token)
    # Allowed by the role.
    assert admin.get("/api/v1/audit-log", headers=h).status_code == 200
    assert admin.get("/api/v1/teams", headers=h).status_code == 200
    # Not in the role, even though every plain user has them.
    assert_error(admin.get("/api/v1/settings", headers=h), 403, "FORBIDDEN")
    assert_error(admin.get("/api/v1/api-keys", headers=h), 403, "FORBIDDEN")
    assert_error(admin.get("/api/auth/users", headers=h), 403, "FORBIDDEN")
    assert roles(admin)["auditor"]["userCount"] == 1
    assert users(admin)["audrey"]["role"] == "auditor"


def test_updating_permissions_takes_effect_at_once(admin: TestClient) -> None:
    role = create_role(admin, "helper", ["tools:use"])
    token = create_user(admin, "helen", role="helper")
    h = auth(token)
    assert_error(admin.get("/api/v1/teams", headers=h), 403, "FORBIDDEN")
    r = admin.put(
        f"/api/v1/roles/{role['id']}", json={"permissions": ["tools:use", "teams:manage"], "description": "d"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    assert admin.get("/api/v1/teams", headers=h).status_code == 200
    assert session_permissions(admin, token) == {"tools:use", "teams:manage"}
    listed = roles(admin)["helper"]
    assert listed["description"] == "d"
    assert listed["updatedAt"] >= listed["createdAt"]


def test_renaming_a_role_carries_its_users(admin: TestClient) -> None:
    role = create_role(admin, "auditor", ["audit:read"])
    token = create_user(admin, "audrey", role="auditor")
    r = admin.put(f"/api/v1/roles/{role['id']}", json={"name": "Inspector"})
    assert r.status_code == 200, r.text
    listed = roles(admin)
    assert "auditor" not in listed
    assert listed["inspector"]["userCount"] == 1
    assert listed["inspector"]["id"] == role["id"]
    assert users(admin)["audrey"]["role"] == "inspector"
    # The user keeps the role's permissions under its new name.
    assert session_permissions(admin, token) == {"audit:read"}
    assert admin.get("/api/v1/audit-log", headers=auth(token)).status_code == 200
    # A new user can be given the new name, not the old one.
    r = admin.post("/api/auth/register", json={"username": "olga", "password": "olga-password-1", "role": "auditor"})
    assert_error(r, 400, "VALIDATION_ERROR")


def test_deleting_a_role_moves_its_users_to_user(admin: TestClient) -> None:
    role = create_role(admin, "auditor", ["audit:read"])
    token = create_user(admin, "audrey", "audrey-password-1", role="auditor")
    bystander = create_user(admin, "bob", role="editor")
    r = admin.delete(f"/api/v1/roles/{role['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}

    listed = roles(admin)
    assert set(listed) == {"admin", "editor", "user"}
    assert listed["user"]["userCount"] == 1
    assert listed["editor"]["userCount"] == 1
    everyone = users(admin)
    assert everyone["audrey"]["role"] == "user"
    assert everyone["bob"]["role"] == "editor"
    # Their old session ends with the role; a new login gets the user role's permissions.
    assert_error(admin.get("/api/auth/session", headers=auth(token)), 401, "AUTH_REQUIRED")
    fresh = login(TestClient(admin.app), "audrey", "audrey-password-1-new")
    assert session_permissions(admin, fresh) == USER_PERMISSIONS
    assert_error(admin.get("/api/v1/audit-log", headers=auth(fresh)), 403, "FORBIDDEN")
    # Users of other roles are untouched.
    assert admin.get("/api/auth/session", headers=auth(bystander)).status_code == 200
    assert_error(admin.delete(f"/api/v1/roles/{role['id']}"), 404, "NOT_FOUND")


def test_cannot_create_a_role_stronger_than_yourself(admin: TestClient) -> None:
    create_role(admin, "manager", ["users:manage", "tools:use"])
    manager = auth(create_user(admin, "manny", role="manager"))
    r = admin.post("/api/v1/roles", json={"name": "boss", "permissions": ["settings:write"]}, headers=manager)
    assert_error(r, 403, "ESCALATION_DENIED")
    r = admin.post("/api/v1/roles", json={"name": "helper", "permissions": ["tools:use"]}, headers=manager)
    assert r.status_code == 201, r.text
    helper_id = r.json()["id"]
    r = admin.put(f"/api/v1/roles/{helper_id}", json={"permissions": ["audit:read"]}, headers=manager)
    assert_error(r, 403, "ESCALATION_DENIED")
    assert set(roles(admin)) == {"admin", "editor", "user", "manager", "helper"}
    assert roles(admin)["helper"]["permissions"] == ["tools:use"]

    # Nor reshape or delete a role stronger than themselves (deleting would demote its members).
    strong = create_role(admin, "auditor", ["audit:read", "tools:use"])
    create_user(admin, "audrey", role="auditor")
    for method, body in (("PUT", {"name": "renamed"}), ("PUT", {"description": "x"}), ("DELETE", None)):
        r = admin.request(method, f"/api/v1/roles/{strong['id']}", json=body, headers=manager)
        assert_error(r, 403, "ESCALATION_DENIED")
    assert roles(admin)["auditor"]["userCount"] == 1
    assert users(admin)["audrey"]["role"] == "auditor"
    # Its own weaker role it may still delete.
    assert admin.delete(f"/api/v1/roles/{helper_id}", headers=manager).status_code == 200
