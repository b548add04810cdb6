"""Admins see each library file's owner and can filter the library by owner; plain users cannot."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.engine.helpers import png
from tests.files.helpers import upload, user_client


def test_owner_column_and_filter(tools_client: TestClient) -> None:
    admin = tools_client
    alice, bob = user_client(admin, "alice"), user_client(admin, "bob")
    a1 = upload(alice, png(8, 8), "a1.png")
    a2 = upload(alice, png(9, 9), "a2.png")
    b1 = upload(bob, png(10, 10), "b1.png")
    mine = upload(admin, png(11, 11), "admin.png")
    alice_id = alice.get("/api/auth/session").json()["user"]["id"]

    listing = admin.get("/api/v1/files").json()
    owners = {f["originalName"]: f["owner"] for f in listing["files"]}
    assert owners["a1.png"] == {"id": alice_id, "username": "alice"}
    assert owners["b1.png"]["username"] == "bob" and owners["admin.png"]["username"] == "admin"

    # By username or by id: the same files, only that user's.
    by_name = admin.get("/api/v1/files", params={"owner": "alice"}).json()
    assert {f["id"] for f in by_name["files"]} == {a1["id"], a2["id"]} and by_name["total"] == 2
    by_id = admin.get("/api/v1/files", params={"owner": alice_id}).json()
    assert {f["id"] for f in by_id["files"]} == {a1["id"], a2["id"]}
    assert [f["id"] for f in admin.get("/api/v1/files", params={"owner": "bob", "search": "b1"}).json()["files"]] == [
        b1["id"]
    ]
    nobody = admin.get("/api/v1/files", params={"owner": "no-such-user"}).json()
    assert nobody["files"] == [] and nobody["total"] == 0
    assert admin.get(f"/api/v1/files/{a1['id']}").json()["file"]["owner"]["username"] == "alice"
    assert mine["id"] in {f["id"] for f in admin.get("/api/v1/files", params={"owner": "admin"}).json()["files"]}

    # A plain user sees only their own files, with no owner, and may not filter by owner.
    own = alice.get("/api/v1/files").json()
    assert {f["id"] for f in own["files"]} == {a1["id"], a2["id"]}
    assert all(f["owner"] is None for f in own["files"])
    assert alice.get(f"/api/v1/files/{a1['id']}").json()["file"]["owner"] is None
    assert_error(alice.get("/api/v1/files", params={"owner": "bob"}), 403)
    assert_error(alice.get("/api/v1/files", params={"owner": alice_id}), 403)
