"""Storage quotas an admin sets per user and per team (/api/v1/admin/quotas), over storageQuotaMb."""

from __future__ import annotations

import os

from fastapi.testclient import TestClient

from app.models import StorageQuota
from tests.assertions import assert_error, database
from tests.engine.conftest import StartApp
from tests.files.helpers import user_client

MB = 1024 * 1024


def _user_id(admin: TestClient, username: str) -> str:
    return next(u["id"] for u in admin.get("/api/auth/users").json()["users"] if u["username"] == username)


def _upload(c: TestClient, size: int):  # type: ignore[no-untyped-def]
    return c.post("/api/v1/files/upload", files={"file": ("blob.bin", os.urandom(size), "application/octet-stream")})


def test_a_users_own_quota_wins_over_their_teams_and_the_default(tools_client: TestClient) -> None:
    admin = tools_client
    olga, pia = user_client(admin, "olga"), user_client(admin, "pia")
    olga_id, pia_id = _user_id(admin, "olga"), _user_id(admin, "pia")
    team = admin.post("/api/v1/teams", json={"name": "small"}).json()
    for name in ("olga", "pia"):
        r = admin.put(f"/api/auth/users/{_user_id(admin, name)}", json={"team": "small"})
        assert r.status_code == 200, r.text

    r = admin.put(f"/api/v1/admin/quotas/teams/{team['id']}", json={"storageQuotaMb": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "teamId": team["id"], "storageQuotaMb": 1}
    r = admin.put(f"/api/v1/admin/quotas/users/{pia_id}", json={"storageQuotaMb": 0})  # pia: unlimited
    assert r.status_code == 200, r.text

    assert _upload(olga, 600_000).status_code == 201
    body = assert_error(_upload(olga, 600_000), 413, "STORAGE_QUOTA_EXCEEDED")
    assert body["details"]["quotaBytes"] == MB
    # Declared bytes of a resumable session count before a byte is sent.
    r = olga.post("/api/v1/uploads", json={"filename": "big.bin", "size": 500_000})
    assert_error(r, 413, "STORAGE_QUOTA_EXCEEDED")
    for _ in range(2):
        assert _upload(pia, 600_000).status_code == 201
    assert _upload(admin, 600_000).status_code == 201  # no team, no quota of their own: the default (none)

    listed = admin.get("/api/v1/admin/quotas").json()
    assert listed["defaultStorageQuotaMb"] == 0
    assert listed["teams"] == [{"id": team["id"], "name": "small", "storageQuotaMb": 1}]
    assert listed["users"] == [{"id": pia_id, "username": "pia", "storageQuotaMb": 0}]

    # null removes an override: olga's own quota of 2 MB, then back to the team's.
    assert admin.put(f"/api/v1/admin/quotas/users/{olga_id}", json={"storageQuotaMb": 2}).status_code == 200
    assert _upload(olga, 600_000).status_code == 201
    assert admin.put(f"/api/v1/admin/quotas/users/{olga_id}", json={"storageQuotaMb": None}).status_code == 200
    assert_error(_upload(olga, 1000), 413, "STORAGE_QUOTA_EXCEEDED")


def test_only_admins_set_quotas_and_bad_values_are_400(tools_client: TestClient) -> None:
    admin = tools_client
    olga = user_client(admin, "olga")
    olga_id = _user_id(admin, "olga")
    assert_error(olga.put(f"/api/v1/admin/quotas/users/{olga_id}", json={"storageQuotaMb": 0}), 403)
    assert_error(olga.get("/api/v1/admin/quotas"), 403)
    for bad in (-1, "lots", 1.5, 10**12):
        r = admin.put(f"/api/v1/admin/quotas/users/{olga_id}", json={"storageQuotaMb": bad})
        assert_error(r, 400, "VALIDATION_ERROR")
    assert_error(admin.put("/api/v1/admin/quotas/users/nobody", json={"storageQuotaMb": 1}), 404)
    assert_error(admin.put("/api/v1/admin/quotas/teams/nobody", json={"storageQuotaMb": 1}), 404)


def _quota_rows() -> set[tuple[str, str]]:
    with database() as db:
        return {(q.subject_type, q.subject_id) for q in db.query(StorageQuota)}


def test_quotas_go_with_their_user_or_team(tools_client: TestClient) -> None:
    admin = tools_client
    user_client(admin, "quinn")
    quinn_id = _user_id(admin, "quinn")
    team = admin.post("/api/v1/teams", json={"name": "brief"}).json()
    assert admin.put(f"/api/v1/admin/quotas/users/{quinn_id}", json={"storageQuotaMb": 5}).status_code == 200
    assert admin.put(f"/api/v1/admin/quotas/teams/{team['id']}", json={"storageQuotaMb": 7}).status_code == 200
    assert _quota_rows() == {("user", quinn_id), ("team", team["id"])}

    assert admin.delete(f"/api/auth/users/{quinn_id}").status_code == 200
    assert admin.delete(f"/api/v1/teams/{team['id']}").status_code == 200
    assert _quota_rows() == set()
    listed = admin.get("/api/v1/admin/quotas").json()
    assert listed["users"] == [] and listed["teams"] == []


def test_start_up_removes_quotas_of_users_and_teams_already_gone(start_app: StartApp) -> None:
    first = start_app()
    user_client(first, "rita")
    rita_id = _user_id(first, "rita")
    assert first.put(f"/api/v1/admin/quotas/users/{rita_id}", json={"storageQuotaMb": 3}).status_code == 200
    # What an earlier version left: quota rows of a user and a team deleted without them.
    with database() as db:
        db.add(StorageQuota(subject_type="user", subject_id="gone-user", quota_mb=1))
        db.add(StorageQuota(subject_type="team", subject_id="gone-team", quota_mb=2))
    first.__exit__(None, None, None)

    second = start_app(first_start=False)
    assert _quota_rows() == {("user", rita_id)}
    assert [u["id"] for u in second.get("/api/v1/admin/quotas").json()["users"]] == [rita_id]
