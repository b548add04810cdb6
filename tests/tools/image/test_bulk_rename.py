"""bulk-rename through the HTTP API: names from the pattern, bytes untouched, ZIP out, file counts."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, marked, solid
from tests.tools.image.multi_helpers import post_files, zip_members


def uploads(count: int) -> list[tuple[str, bytes]]:
    return [
        (f"holiday {i}.JPG" if i % 2 else f"scan{i}.png", encode(solid(8, 8, (i, i, i)), ".jpg" if i % 2 else ".png"))
        for i in range(count)
    ]


def test_bulk_rename_pattern_padding_and_start(admin: TestClient) -> None:
    files = uploads(3)
    r = post_files(admin, "bulk-rename", files, {"pattern": "trip-{n}-{original}", "startIndex": 7, "padding": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].split("?")[0].endswith("/renamed.zip") and body["count"] == 3
    members = zip_members(download(admin, body))
    assert sorted(members) == ["trip-007-scan0.png", "trip-008-holiday 1.jpg", "trip-009-scan2.png"]
    assert members["trip-008-holiday 1.jpg"] == files[1][1]  # the bytes are untouched
    assert body["files"][0] == {"original": "scan0.png", "renamed": "trip-007-scan0.png"}


def test_bulk_rename_date_defaults_and_duplicates(admin: TestClient) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    r = post_files(admin, "bulk-rename", uploads(2), {"pattern": "{date}"})
    names = sorted(zip_members(download(admin, r.json())))
    assert names == [f"{today}.jpg", f"{today}.png"]
    same = [("a.png", encode(marked(10, 10), ".png"))] * 3
    r = post_files(admin, "bulk-rename", same, {"pattern": "x/../photo", "padding": 0})
    assert sorted(zip_members(download(admin, r.json()))) == ["x_.._photo-2.png", "x_.._photo-3.png", "x_.._photo.png"]
    r = post_files(admin, "bulk-rename", uploads(2), {})
    assert sorted(zip_members(download(admin, r.json()))) == ["image-001.png", "image-002.jpg"]


def test_bulk_rename_rejects_bad_patterns_and_counts(admin: TestClient) -> None:
    r = post_files(admin, "bulk-rename", uploads(1), {"pattern": "{name}-{n}"})
    assert "pattern" in assert_error(r, 400, "VALIDATION_ERROR")["error"]
    r = post_files(admin, "bulk-rename", uploads(1), {"padding": 11})
    assert "padding" in assert_error(r, 400, "VALIDATION_ERROR")["error"]
    tiny = encode(solid(2, 2), ".png")
    assert_error(post_files(admin, "bulk-rename", [(f"{i}.png", tiny) for i in range(501)], {}), 400, "TOO_MANY_FILES")
    assert_error(admin.post("/api/v1/tools/image/bulk-rename", data={"settings": "{}"}), 400)
    tool = admin.get("/api/v1/tools/image/bulk-rename").json()
    assert (tool["inputs"]["minFiles"], tool["inputs"]["maxFiles"]) == (1, 500)
