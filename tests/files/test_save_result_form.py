"""POST /api/v1/files/save-result with SnapOtter's multipart form (file, parentId, toolId) beside the JSON."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.engine.helpers import png
from tests.files.helpers import upload, user_client

SAVE = "/api/v1/files/save-result"


def test_multipart_saves_the_sent_file_as_the_next_version(tools_client: TestClient) -> None:
    c = tools_client
    v1 = upload(c, png(20, 10), "photo.png")
    edited = png(8, 4, colour=(0, 200, 0))
    r = c.post(
        SAVE, files={"file": ("photo-edited.png", edited, "image/png")}, data={"parentId": v1["id"], "toolId": "crop"}
    )
    assert r.status_code == 201, r.text
    v2 = r.json()["file"]
    assert (v2["version"], v2["parentId"], v2["toolChain"]) == (2, v1["id"], ["crop"])
    # A version keeps its chain's name (only the extension follows the new file).
    assert (v2["originalName"], v2["width"], v2["height"], v2["size"]) == ("photo.png", 8, 4, len(edited))
    stored = c.get(f"/api/v1/files/{v2['id']}/download").content
    assert stored == edited and pyvips.Image.new_from_buffer(stored, "").getpoint(0, 0)[:3] == [0, 200, 0]
    assert [v["toolId"] for v in c.get(f"/api/v1/files/{v2['id']}").json()["versions"]] == [None, "crop"]

    # The same body shape as the JSON variant's answer.
    job = c.post("/api/v1/tools/files/test-copy", files={"file": ("x.png", png(), "image/png")}).json()["jobId"]
    from_json = c.post(SAVE, json={"jobId": job, "parentId": v2["id"]})
    assert from_json.status_code == 201, from_json.text
    assert set(from_json.json()) == set(r.json()) == {"file"}
    assert set(from_json.json()["file"]) == set(v2)
    assert from_json.json()["file"]["version"] == 3

    # Without parentId (and toolId): a new file of its own.
    r = c.post(SAVE, files={"file": ("new.png", png(3, 3), "image/png")})
    assert r.status_code == 201, r.text
    assert (r.json()["file"]["version"], r.json()["file"]["parentId"], r.json()["file"]["toolChain"]) == (1, None, [])


def test_multipart_refusals(tools_client: TestClient) -> None:
    c = tools_client
    r = c.post(SAVE, data={"parentId": "x"}, files={"other": (None, "text")})
    body = assert_error(r, 400, "NO_FILE")
    assert "No file" in body["error"]
    missing = "00000000-0000-0000-0000-000000000000"
    r = c.post(SAVE, files={"file": ("a.png", png(), "image/png")}, data={"parentId": missing})
    assert_error(r, 404, "FILE_NOT_FOUND")
    r = c.post(SAVE, files={"file": ("a.png", png(), "image/png")}, data={"toolId": "../evil"})
    assert_error(r, 400, "VALIDATION_ERROR")
    # Someone else's file is unknown to you, as everywhere.
    theirs = upload(user_client(c, "alice"), png(), "alice.png")
    bob = user_client(c, "bob")
    r = bob.post(SAVE, files={"file": ("a.png", png(), "image/png")}, data={"parentId": theirs["id"]})
    assert_error(r, 404, "FILE_NOT_FOUND")
    assert c.get("/api/v1/files").json()["total"] == 1  # nothing was stored by the refused requests
    # The JSON variant still checks its body.
    assert_error(c.post(SAVE, json={"filename": "x"}), 400, "VALIDATION_ERROR")
