"""/api/v1/audit-log through the HTTP API: what is recorded, by whom, from where; filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.conftest import auth, create_user


def log(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/audit-log", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def entries(client: TestClient, action: str) -> list[dict[str, Any]]:
    return log(client, action=action, limit=100)["entries"]


def test_needs_audit_read(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    err = assert_error(admin.get("/api/v1/audit-log", headers=user), 403, "FORBIDDEN")
    assert "audit:read" in err["error"]
    assert_error(TestClient(admin.app).get("/api/v1/audit-log"), 401, "AUTH_REQUIRED")


def test_logins_are_recorded(admin: TestClient) -> None:
    admin_id = admin.get("/api/auth/session").json()["user"]["id"]
    anonymous = TestClient(admin.app)
    r = anonymous.post("/api/auth/login", json={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401
    r = anonymous.post("/api/auth/login", json={"username": "ghost", "password": "wrong-password"})
    assert r.status_code == 401

    ok = entries(admin, "LOGIN_SUCCESS")
    assert len(ok) == 1  # the admin fixture's login
    assert ok[0]["actorUsername"] == "admin"
    assert ok[0]["actorId"] == admin_id
    assert ok[0]["ipAddress"] == "testclient"
    created = datetime.fromisoformat(ok[0]["createdAt"])
    assert created.tzinfo is not None
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)

    failed = entries(admin, "LOGIN_FAILED")
    assert [e["actorUsername"] for e in failed] == ["ghost", "admin"]  # newest first
    assert all(e["ipAddress"] == "testclient" for e in failed)
    assert failed[0]["actorId"] is None
    assert failed[1]["actorId"] == admin_id
    # The attempted password is never written down.
    assert "wrong-password" not in admin.get("/api/v1/audit-log").text


def test_admin_actions_are_recorded_with_actor_ip_and_time(admin: TestClient) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    admin_id = admin.get("/api/auth/session").json()["user"]["id"]

    key = admin.post("/api/v1/api-keys", json={"name": "script"}).json()
    assert admin.delete(f"/api/v1/api-keys/{key['id']}").status_code == 200

    r = admin.post("/api/auth/register", json={"username": "dora", "password": "dora-password-1"})
    assert r.status_code == 201, r.text
    dora = r.json()["id"]
    assert admin.put(f"/api/auth/users/{dora}", json={"role": "editor"}).status_code == 200
    assert admin.delete(f"/api/auth/users/{dora}").status_code == 200

    role = admin.post("/api/v1/roles", json={"name": "reviewer", "permissions": ["tools:use"]}).json()
    assert admin.put(f"/api/v1/roles/{role['id']}", json={"description": "x"}).status_code == 200
    assert admin.delete(f"/api/v1/roles/{role['id']}").status_code == 200

    team = admin.post("/api/v1/teams", json={"name": "Design"}).json()
    assert admin.put(f"/api/v1/teams/{team['id']}", json={"name": "Art"}).status_code == 200
    assert admin.delete(f"/api/v1/teams/{team['id']}").status_code == 200

    assert admin.put("/api/v1/settings", json={"enableExperimentalTools": True}).status_code == 200

    expected_targets = {
        "API_KEY_CREATED": key["id"],
        "API_KEY_DELETED": key["id"],
        "USER_CREATED": dora,
        "USER_UPDATED": dora,
        "USER_DELETED": dora,
        "ROLE_CREATED": role["id"],
        "ROLE_UPDATED": role["id"],
        "ROLE_DELETED": role["id"],
        "TEAM_CREATED": team["id"],
        "TEAM_UPDATED": team["id"],
        "TEAM_DELETED": team["id"],
        "SETTINGS_UPDATED": None,
    }
    for action, target in expected_targets.items():
        found = entries(admin, action)
        assert len(found) == 1, (action, found)
        entry = found[0]
        assert entry["action"] == action
        assert entry["actorUsername"] == "admin", entry
        assert entry["actorId"] == admin_id, entry
        assert entry["ipAddress"] == "testclient", entry
        assert datetime.fromisoformat(entry["createdAt"]) >= started, entry
        if target is not None:
            assert entry["targetId"] == target, entry
        assert set(entry) >= {"id", "targetType", "details"}
    assert entries(admin, "SETTINGS_UPDATED")[0]["details"]["keys"] == ["enableExperimentalTools"]
    assert entries(admin, "USER_UPDATED")[0]["details"]["changes"]["role"] == "editor"
    assert entries(admin, "TEAM_UPDATED")[0]["details"] == {"from": "Design", "to": "Art"}

    # The whole log is newest first.
    everything = log(admin, limit=100)["entries"]
    stamps = [datetime.fromisoformat(e["createdAt"]) for e in everything]
    assert stamps == sorted(stamps, reverse=True)
    assert everything[0]["action"] == "SETTINGS_UPDATED"


def test_refused_actions_leave_no_trace(admin: TestClient) -> None:
    user = auth(create_user(admin, "ursula"))
    admin.post("/api/v1/teams", json={"name": "Nope"}, headers=user)
    admin.put("/api/v1/settings", json={"x": "1"}, headers=user)
    admin.post("/api/v1/teams", json={"name": "Default"})  # 409
    admin.put("/api/v1/settings", json={"loginAttemptLimit": "abc"})  # 400
    for action in ("TEAM_CREATED", "SETTINGS_UPDATED"):
        assert entries(admin, action) == []


def test_action_filter(admin: TestClient) -> None:
    for name in ("one", "two", "three"):
        assert admin.post("/api/v1/teams", json={"name": name}).status_code == 201
    page = log(admin, action="TEAM_CREATED")
    assert page["total"] == 3
    assert {e["details"]["name"] for e in page["entries"]} == {"one", "two", "three"}
    assert all(e["action"] == "TEAM_CREATED" for e in page["entries"])
    empty = log(admin, action="NO_SUCH_ACTION")
    assert empty["entries"] == [] and empty["total"] == 0
    for bad in ("A\x00B", "TEAM CREATED", "x" * 65):
        assert_error(admin.get("/api/v1/audit-log", params={"action": bad}), 400, "VALIDATION_ERROR")


def test_date_filters(admin: TestClient) -> None:
    for i in range(4):
        assert admin.put("/api/v1/settings", json={"customCounter": str(i)}).status_code == 200
    everything = log(admin, limit=100)
    assert everything["total"] >= 5
    newest, oldest = everything["entries"][0], everything["entries"][-1]

    assert log(admin, **{"from": "2000-01-01T00:00:00Z"})["total"] == everything["total"]
    assert log(admin, **{"from": "2000-01-01"})["total"] == everything["total"]
    assert log(admin, to="2999-01-01T00:00:00+00:00")["total"] == everything["total"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert log(admin, **{"from": future})["total"] == 0
    assert log(admin, to="2000-01-01T00:00:00Z")["total"] == 0

    # Bounds are inclusive, and any offset is understood.
    pivot = everything["entries"][2]["createdAt"]
    later = log(admin, limit=100, **{"from": pivot})
    assert later["total"] >= 3
    assert all(e["createdAt"] >= pivot for e in later["entries"])
    earlier = log(admin, limit=100, to=pivot)
    assert all(e["createdAt"] <= pivot for e in earlier["entries"])
    assert later["total"] + earlier["total"] >= everything["total"] + 1
    pivot_plus_two = datetime.fromisoformat(pivot).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert log(admin, limit=100, **{"from": pivot_plus_two})["total"] == later["total"]
    # A naive timestamp is read as UTC.
    naive = datetime.fromisoformat(pivot).replace(tzinfo=None).isoformat()
    assert log(admin, limit=100, **{"from": naive})["total"] == later["total"]

    window = log(admin, limit=100, **{"from": oldest["createdAt"], "to": newest["createdAt"]})
    assert window["total"] == everything["total"]
    only = log(admin, action="SETTINGS_UPDATED", **{"from": pivot})
    assert all(e["action"] == "SETTINGS_UPDATED" for e in only["entries"])

    for bad in ({"from": "yesterday"}, {"to": "2024-13-45"}, {"from": ""}):
        assert_error(admin.get("/api/v1/audit-log", params=bad), 400, "VALIDATION_ERROR")


def test_paging(admin: TestClient) -> None:
    for i in range(55):
        assert admin.put("/api/v1/settings", json={"customCounter": str(i)}).status_code == 200
    first = log(admin)
    total = first["total"]
    assert total >= 56  # 55 settings changes + the admin's login and password change
    assert first["page"] == 1
    assert first["limit"] == 50
    assert len(first["entries"]) == 50

    everything = log(admin, limit=100)["entries"]
    assert len(everything) == min(total, 100)
    ids = [e["id"] for e in everything]
    assert len(set(ids)) == len(ids)
    pages = [log(admin, page=p, limit=7) for p in (1, 2, 3)]
    for p, body in enumerate(pages, start=1):
        assert body["page"] == p and body["limit"] == 7 and body["total"] == total
    assert [e["id"] for body in pages for e in body["entries"]] == ids[:21]
    assert log(admin, page=1000, limit=100)["entries"] == []
    last_page = (total - 1) // 50 + 1
    assert len(log(admin, page=last_page)["entries"]) == total - 50 * (last_page - 1)

    for bad in ({"limit": 101}, {"limit": 0}, {"limit": -1}, {"page": 0}, {"limit": "ten"}, {"page": "x"}):
        err = assert_error(admin.get("/api/v1/audit-log", params=bad), 400, "VALIDATION_ERROR")
        assert next(iter(bad)) in err["details"], (bad, err)
