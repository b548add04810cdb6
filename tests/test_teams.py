"""/api/v1/teams through the HTTP API: permissions, validation, conflicts, the Default team, members."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.conftest import auth, create_user

DEFAULT_TEAM_ID = "default-team-00000000"


def teams(client: TestClient) -> dict[str, dict[str, Any]]:
    r = client.get("/api/v1/teams")
    assert r.status_code == 200, r.text
    return {t["name"]: t for t in r.json()["teams"]}


def create_team(client: TestClient, name: str) -> dict[str, Any]:
    r = client.post("/api/v1/teams", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def test_default_team_exists_with_the_admin_in_it(admin: TestClient) -> None:
    listed = teams(admin)
    assert list(listed) == ["Default"]
    default = listed["Default"]
    assert default["id"] == DEFAULT_TEAM_ID
    assert default["memberCount"] == 1
    datetime.fromisoformat(default["createdAt"])


def test_every_route_needs_teams_manage(admin: TestClient) -> None:
    user = auth(create_user(admin, "plainuser"))
    team_id = create_team(admin, "Design")["id"]
    calls = [
        ("GET", "/api/v1/teams", None),
        ("POST", "/api/v1/teams", {"name": "Sneaky"}),
        ("PUT", f"/api/v1/teams/{team_id}", {"name": "Hijacked"}),
        ("DELETE", f"/api/v1/teams/{team_id}", None),
    ]
    for method, path, body in calls:
        r = admin.request(method, path, json=body, headers=user)
        body_ = assert_error(r, 403, "FORBIDDEN")
        assert "teams:manage" in body_["error"]
        anonymous = TestClient(admin.app).request(method, path, json=body)
        assert_error(anonymous, 401, "AUTH_REQUIRED")
    # Nothing changed.
    assert set(teams(admin)) == {"Default", "Design"}


def test_create_rename_delete(admin: TestClient) -> None:
    created = create_team(admin, "  Design  ")
    assert created["name"] == "Design"
    assert created["id"] and created["id"] != DEFAULT_TEAM_ID
    datetime.fromisoformat(created["createdAt"])
    listed = teams(admin)
    assert listed["Design"]["memberCount"] == 0
    assert listed["Design"]["id"] == created["id"]

    r = admin.put(f"/api/v1/teams/{created['id']}", json={"name": "Creative"})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    assert set(teams(admin)) == {"Default", "Creative"}

    # Changing only the case of its own name is not a conflict with itself.
    r = admin.put(f"/api/v1/teams/{created['id']}", json={"name": "CREATIVE"})
    assert r.status_code == 200, r.text
    assert set(teams(admin)) == {"Default", "CREATIVE"}

    r = admin.delete(f"/api/v1/teams/{created['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True}
    assert set(teams(admin)) == {"Default"}
    assert_error(admin.delete(f"/api/v1/teams/{created['id']}"), 404, "NOT_FOUND")


def test_duplicate_names_conflict_case_insensitively(admin: TestClient) -> None:
    create_team(admin, "Design")
    for name in ("default", "DEFAULT", " Default ", "Design", "design", "DeSiGn"):
        body = assert_error(admin.post("/api/v1/teams", json={"name": name}), 409, "CONFLICT")
        assert body["error"] == "Team name already exists"
    assert set(teams(admin)) == {"Default", "Design"}


def test_rename_onto_another_team_conflicts(admin: TestClient) -> None:
    a = create_team(admin, "Alpha")
    create_team(admin, "Beta")
    assert_error(admin.put(f"/api/v1/teams/{a['id']}", json={"name": "beta"}), 409, "CONFLICT")
    assert_error(admin.put(f"/api/v1/teams/{a['id']}", json={"name": "Default"}), 409, "CONFLICT")
    assert set(teams(admin)) == {"Default", "Alpha", "Beta"}


INVALID_BODIES: list[Any] = [
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 51},
    {"name": 42},
    {"name": None},
    {"name": ["Design"]},
    {"name": "De\x00sign"},
    {"name": "Two\nlines"},
    {},
    {"title": "Design"},
]


def test_invalid_names_are_400_with_details(admin: TestClient) -> None:
    for body in INVALID_BODIES:
        err = assert_error(admin.post("/api/v1/teams", json=body), 400, "VALIDATION_ERROR")
        assert "name" in err["details"], (body, err)
        # The same rules hold for a rename.
        err = assert_error(admin.put(f"/api/v1/teams/{DEFAULT_TEAM_ID}", json=body), 400, "VALIDATION_ERROR")
        assert "name" in err["details"], (body, err)
    assert set(teams(admin)) == {"Default"}


def test_name_limits_apply_after_trimming(admin: TestClient) -> None:
    assert create_team(admin, "y" * 50)["name"] == "y" * 50
    # Surrounding blanks don't count toward the 50 characters.
    assert create_team(admin, "  " + "z" * 50 + "  ")["name"] == "z" * 50
    err = assert_error(admin.post("/api/v1/teams", json={"name": "w" * 51}), 400, "VALIDATION_ERROR")
    assert err["details"]["name"] == "Team name must be 50 characters or fewer"
    err = assert_error(admin.post("/api/v1/teams", json={"name": "  "}), 400, "VALIDATION_ERROR")
    assert err["details"]["name"] == "Team name is required"


def test_malformed_json_body_is_400(admin: TestClient) -> None:
    r = admin.post("/api/v1/teams", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "VALIDATION_ERROR")


def test_unknown_team_is_404(admin: TestClient) -> None:
    err = assert_error(admin.put("/api/v1/teams/no-such-team", json={"name": "X"}), 404, "NOT_FOUND")
    assert err["error"] == "Team not found"
    for team_id in ("no-such-team", "x" * 300, "%00", "default-team-00000000%00"):
        assert_error(admin.put(f"/api/v1/teams/{team_id}", json={"name": "X"}), 404, "NOT_FOUND")
        assert_error(admin.delete(f"/api/v1/teams/{team_id}"), 404, "NOT_FOUND")


def test_default_team_cannot_be_deleted(admin: TestClient) -> None:
    err = assert_error(admin.delete(f"/api/v1/teams/{DEFAULT_TEAM_ID}"), 400, "VALIDATION_ERROR")
    assert err["error"] == "Cannot delete the Default team"
    # Not even once it is renamed or has no members left.
    assert admin.put(f"/api/v1/teams/{DEFAULT_TEAM_ID}", json={"name": "Everyone"}).status_code == 200
    other = create_team(admin, "Ops")
    admin_id = admin.get("/api/auth/session").json()["user"]["id"]
    assert admin.put(f"/api/auth/users/{admin_id}", json={"team": other["id"]}).status_code == 200
    assert teams(admin)["Everyone"]["memberCount"] == 0
    assert_error(admin.delete(f"/api/v1/teams/{DEFAULT_TEAM_ID}"), 400, "VALIDATION_ERROR")
    assert "Everyone" in teams(admin)


def test_register_into_a_team_counts_members_and_blocks_deletion(admin: TestClient) -> None:
    design = create_team(admin, "Design")
    r = admin.post("/api/auth/register", json={"username": "dora", "password": "dora-password-1", "team": "design"})
    assert r.status_code == 201, r.text
    dora_id = r.json()["id"]
    r = admin.post("/api/auth/register", json={"username": "eve", "password": "eve-password-1"})
    assert r.status_code == 201, r.text

    listed = teams(admin)
    assert listed["Design"]["memberCount"] == 1
    assert listed["Default"]["memberCount"] == 2  # admin + eve
    users = {u["username"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert users["dora"]["team"] == "Design"
    assert users["eve"]["team"] == "Default"

    err = assert_error(admin.delete(f"/api/v1/teams/{design['id']}"), 400, "VALIDATION_ERROR")
    assert err["error"] == "Cannot delete a team that has members"
    assert "Design" in teams(admin)

    # Renaming the team carries its members along.
    assert admin.put(f"/api/v1/teams/{design['id']}", json={"name": "Art"}).status_code == 200
    users = {u["username"]: u for u in admin.get("/api/auth/users").json()["users"]}
    assert users["dora"]["team"] == "Art"

    # Once the member moves out, the team can go.
    r = admin.put(f"/api/auth/users/{dora_id}", json={"team": DEFAULT_TEAM_ID})
    assert r.status_code == 200, r.text
    listed = teams(admin)
    assert listed["Art"]["memberCount"] == 0
    assert listed["Default"]["memberCount"] == 3
    assert admin.delete(f"/api/v1/teams/{design['id']}").status_code == 200
    assert set(teams(admin)) == {"Default"}


def test_register_into_unknown_team_is_rejected(admin: TestClient) -> None:
    r = admin.post("/api/auth/register", json={"username": "frank", "password": "frank-password-1", "team": "Nowhere"})
    assert_error(r, 400, "VALIDATION_ERROR")
    assert "frank" not in {u["username"] for u in admin.get("/api/auth/users").json()["users"]}


def test_custom_role_with_teams_manage_can_manage_teams(admin: TestClient) -> None:
    r = admin.post("/api/v1/roles", json={"name": "team-lead", "permissions": ["teams:manage"]})
    assert r.status_code == 201, r.text
    lead = auth(create_user(admin, "lead", role="team-lead"))
    r = admin.post("/api/v1/teams", json={"name": "Lead's team"}, headers=lead)
    assert r.status_code == 201, r.text
    r = admin.get("/api/v1/teams", headers=lead)
    assert r.status_code == 200
    assert {t["name"] for t in r.json()["teams"]} == {"Default", "Lead's team"}


def test_simultaneous_creates_of_one_name_give_one_team(admin: TestClient) -> None:
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: admin.post("/api/v1/teams", json={"name": "Race"}).status_code, range(8)))
    assert codes == [201] + [409] * 7
    assert set(teams(admin)) == {"Default", "Race"}
