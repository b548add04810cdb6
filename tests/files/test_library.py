"""The file library over HTTP: uploads, versions (by save-result and by settings.fileId), listing, ownership,
downloads, thumbnails, deletion, quota, the workspace upload and previews."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyvips
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas

from tests.assertions import assert_error
from tests.engine.helpers import jpeg, png
from tests.files.helpers import upload, user_client

# The seed's fields, plus `kind` (the detected content type, which the UI's pickers filter on) and
# `downloadUrl` (a signed link, valid 24 hours).
FIELDS = {
    "id",
    "originalName",
    "mimeType",
    "kind",
    "size",
    "width",
    "height",
    "version",
    "parentId",
    "toolChain",
    "createdAt",
    "downloadUrl",
}


def test_upload_list_show_download(tools_client: TestClient) -> None:
    c = tools_client
    data = png(40, 30)
    r = c.post(
        "/api/v1/files/upload",
        files=[("files", ("../../etc/Ünïcode name.png", data, "image/png")), ("files", ("b.jpg", jpeg(), "x/y"))],
    )
    assert r.status_code == 201, r.text
    first, second = r.json()["files"]
    assert set(first) == FIELDS
    assert first["originalName"] == "Ünïcode name.png"  # path parts dropped
    assert (first["mimeType"], first["size"], first["width"], first["height"]) == ("image/png", len(data), 40, 30)
    assert (first["version"], first["parentId"], first["toolChain"]) == (1, None, [])
    assert second["mimeType"] == "image/jpeg"

    listing = c.get("/api/v1/files").json()
    assert listing["total"] == 2 and listing["limit"] == 50 and listing["offset"] == 0
    assert c.get("/api/v1/files", params={"search": "CODE N"}).json()["total"] == 1
    assert c.get("/api/v1/files", params={"search": "%"}).json()["total"] == 0  # LIKE wildcards are literal
    page = c.get("/api/v1/files", params={"limit": 1, "offset": 1}).json()
    assert len(page["files"]) == 1 and page["total"] == 2
    # Numbers past what the database holds are a 400, not a 500 (before: 2**63 overflowed the driver).
    for offset in (2**63, 10**30, -1):
        assert_error(c.get("/api/v1/files", params={"offset": offset}), 400, "VALIDATION_ERROR")

    r = c.get(f"/api/v1/files/{first['id']}/download")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''%C3%9Cn%C3%AFcode%20name.png" in r.headers["content-disposition"]
    r = c.get(f"/api/v1/files/{first['id']}/download", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]

    detail = c.get(f"/api/v1/files/{first['id']}").json()
    assert detail["file"]["id"] == first["id"] and [v["version"] for v in detail["versions"]] == [1]

    assert_error(c.post("/api/v1/files/upload", files={"file": ("e.png", b"", "image/png")}), 400, "EMPTY_FILE")
    assert_error(c.get("/api/v1/files/not-a-file"), 404, "FILE_NOT_FOUND")


def test_version_chain_of_three(tools_client: TestClient, app_env: Path) -> None:
    """v1 uploaded, v2 from save-result, v3 from a tool run with settings.fileId (saved automatically)."""
    c = tools_client
    v1 = upload(c, png(16, 16))
    r = c.post("/api/v1/tools/files/test-copy", files={"file": ("x.png", png(16, 16), "image/png")})
    assert r.status_code == 200, r.text
    r = c.post("/api/v1/files/save-result", json={"jobId": r.json()["jobId"], "parentId": v1["id"]})
    assert r.status_code == 201, r.text
    v2 = r.json()["file"]
    assert (v2["version"], v2["parentId"], v2["toolChain"]) == (2, v1["id"], ["test-copy"])

    r = c.post("/api/v1/tools/files/test-copy", files={"settings": (None, json.dumps({"fileId": v2["id"]}))})
    assert r.status_code == 200, r.text
    saved = r.json()["savedFileId"]
    detail = c.get(f"/api/v1/files/{saved}").json()
    v3 = detail["file"]
    assert (v3["version"], v3["parentId"], v3["toolChain"]) == (3, v2["id"], ["test-copy", "test-copy"])
    assert [(v["version"], v["toolId"]) for v in detail["versions"]] == [(1, None), (2, "test-copy"), (3, "test-copy")]
    # Every version keeps the file's name (not the tool's output name).
    assert [v["originalName"] for v in detail["versions"]] == ["photo.png"] * 3
    assert c.get(f"/api/v1/files/{saved}/download").content == c.get(f"/api/v1/files/{v1['id']}/download").content

    listing = c.get("/api/v1/files").json()
    assert listing["total"] == 1 and listing["files"][0]["id"] == saved  # the newest version stands for the chain

    # Unknown fileId: 404, and no job runs.
    r = c.post("/api/v1/tools/files/test-copy", files={"settings": (None, json.dumps({"fileId": "nope"}))})
    assert_error(r, 404, "FILE_NOT_FOUND")

    # A plain JSON body works too, and makes the next version; without fileId a file tool says so.
    r = c.post("/api/v1/tools/files/test-copy", json={"fileId": saved})
    assert r.status_code == 200, r.text
    assert c.get(f"/api/v1/files/{r.json()['savedFileId']}").json()["file"]["version"] == 4
    assert_error(c.post("/api/v1/tools/files/test-copy", json={}), 400, "NO_FILE")

    r = c.request("DELETE", "/api/v1/files", json={"ids": [v1["id"]]})
    assert r.status_code == 200 and r.json()["count"] == 4
    assert c.get("/api/v1/files").json()["total"] == 0
    assert not any((app_env / "files").glob("*/*/*.png"))


def test_ownership(tools_client: TestClient) -> None:
    admin = tools_client
    alice = user_client(admin, "alice")
    bob = user_client(admin, "bob")
    mine = upload(alice, png())
    upload(bob, png())
    assert [f["id"] for f in alice.get("/api/v1/files").json()["files"]] == [mine["id"]]
    for path in ("", "/download", "/thumbnail"):
        assert_error(bob.get(f"/api/v1/files/{mine['id']}{path}"), 404, "FILE_NOT_FOUND")
    assert_error(bob.request("DELETE", "/api/v1/files", json={"ids": [mine["id"]]}), 404)
    r = bob.post("/api/v1/tools/files/test-copy", files={"settings": (None, json.dumps({"fileId": mine["id"]}))})
    assert_error(r, 404, "FILE_NOT_FOUND")
    job = bob.post("/api/v1/tools/files/test-copy", files={"file": ("x.png", png(), "image/png")}).json()["jobId"]
    assert_error(bob.post("/api/v1/files/save-result", json={"jobId": job, "parentId": mine["id"]}), 404)
    # An admin holds files:all: sees both.
    assert admin.get("/api/v1/files").json()["total"] == 2
    assert admin.get(f"/api/v1/files/{mine['id']}/download").status_code == 200
    assert alice.get(f"/api/v1/files/{mine['id']}").status_code == 200


def test_quota(tools_client: TestClient) -> None:
    c = tools_client
    r = c.put("/api/v1/settings", json={"storageQuotaMb": "abc"})
    assert_error(r, 400, "VALIDATION_ERROR")
    assert c.put("/api/v1/settings", json={"storageQuotaMb": 1}).status_code == 200
    upload(c, b"%PDF-" + b"x" * 600_000, "a.pdf")
    r = c.post("/api/v1/files/upload", files={"file": ("b.pdf", b"%PDF-" + b"x" * 600_000, "application/pdf")})
    body = assert_error(r, 413, "STORAGE_QUOTA_EXCEEDED")
    assert body["details"]["quotaBytes"] == 1024 * 1024
    assert c.get("/api/v1/files").json()["total"] == 1


def test_thumbnails(tools_client: TestClient, tmp_path: Path) -> None:
    c = tools_client
    image = upload(c, jpeg(900, 600), "big.jpg")
    r = c.get(f"/api/v1/files/{image['id']}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    thumb = pyvips.Image.new_from_buffer(r.content, "")
    assert (thumb.width, thumb.height) == (300, 200)
    assert c.get(f"/api/v1/files/{image['id']}/thumbnail").content == r.content  # cached

    pdf = tmp_path / "doc.pdf"
    page = canvas.Canvas(str(pdf), pagesize=(200, 400))
    page.drawString(20, 200, "page one")
    page.showPage()
    page.save()
    document = upload(c, pdf.read_bytes(), "doc.pdf")
    r = c.get(f"/api/v1/files/{document['id']}/thumbnail")
    assert r.status_code == 200, r.text
    assert pyvips.Image.new_from_buffer(r.content, "").height == 300
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=5",
            "-t",
            "1",
            str(tmp_path / "v.mp4"),
        ],
        check=True,
    )
    video = upload(c, (tmp_path / "v.mp4").read_bytes(), "clip.mp4")
    r = c.get(f"/api/v1/files/{video['id']}/thumbnail")
    assert r.status_code == 200, r.text
    assert pyvips.Image.new_from_buffer(r.content, "").width == 300

    text = upload(c, b"plain text, no thumbnail", "notes.txt")
    assert_error(c.get(f"/api/v1/files/{text['id']}/thumbnail"), 415, "NO_THUMBNAIL")


def test_workspace_upload_and_preview(tools_client: TestClient) -> None:
    c = tools_client
    data = png(20, 10)
    small = png(5, 5)
    r = c.post("/api/v1/upload", files=[("files", ("a.png", data, "image/png")), ("files", ("a.png", small, "x/y"))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["files"] == [
        {"name": "a.png", "size": len(data), "format": "png"},
        {"name": "a_1.png", "size": len(small), "format": "png"},  # same name twice: made unique
    ]
    assert c.get(f"/api/v1/download/{body['jobId']}/a.png").content == data
    # A workspace upload can be saved to the library like any job output.
    r = c.post("/api/v1/files/save-result", json={"jobId": body["jobId"], "filename": "a.png"})
    assert r.status_code == 201 and r.json()["file"]["toolChain"] == []

    tiff = (pyvips.Image.black(2400, 1600, bands=3) + [10, 200, 30]).cast("uchar").tiffsave_buffer()
    r = c.post("/api/v1/preview", files={"file": ("scan.tif", tiff, "image/tiff")})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/webp"
    assert (r.headers["x-original-width"], r.headers["x-original-height"]) == ("2400", "1600")
    preview = pyvips.Image.new_from_buffer(r.content, "")
    assert (preview.width, preview.height) == (1200, 800)
    assert_error(c.post("/api/v1/preview", files={"file": ("x.png", b"not an image", "image/png")}), 415)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    assert_error(c.post("/api/v1/preview", files={"file": ("x.svg", svg, "image/svg+xml")}), 415)


def test_a_version_in_another_format_keeps_the_name_with_the_new_extension(tools_client: TestClient) -> None:
    c = tools_client
    v1 = upload(c, png(16, 16), "Holiday photo.png")
    r = c.post(
        "/api/v1/tools/image/convert", files={"settings": (None, json.dumps({"fileId": v1["id"], "format": "webp"}))}
    )
    assert r.status_code == 200, r.text
    v2 = c.get(f"/api/v1/files/{r.json()['savedFileId']}").json()["file"]
    assert (v2["version"], v2["originalName"], v2["kind"]) == (2, "Holiday photo.webp", "webp")
