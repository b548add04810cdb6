"""Library files carry a signed downloadUrl (24 hours) that opens without credentials."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from app.auth.signed_urls import sign_library_url
from app.config import get_settings
from tests.assertions import assert_error
from tests.engine.helpers import png
from tests.files.helpers import upload, user_client


def test_library_links_open_for_24_hours(tools_client: TestClient) -> None:
    data = png(12, 8)
    file = upload(tools_client, data, "lib.png")
    url = file["downloadUrl"]
    assert urlsplit(url).path == f"/api/v1/files/{file['id']}/download"
    exp = int(parse_qs(urlsplit(url).query)["exp"][0])
    assert abs(exp - (time.time() + 24 * 3600)) < 60
    bare = TestClient(tools_client.app, base_url="http://testserver")
    r = bare.get(url)
    assert (r.status_code, r.content) == (200, data)
    # Listings and details hand out links too.
    listed = tools_client.get("/api/v1/files").json()["files"][0]
    assert bare.get(listed["downloadUrl"]).content == data
    detail = tools_client.get(f"/api/v1/files/{file['id']}").json()
    assert bare.get(detail["versions"][0]["downloadUrl"]).content == data

    assert_error(bare.get(urlsplit(url).path), 401, "AUTH_REQUIRED")
    other = upload(tools_client, png(3, 3), "other.png")
    assert_error(bare.get(f"/api/v1/files/{other['id']}/download?{urlsplit(url).query}"), 401, "INVALID_DOWNLOAD_LINK")
    stale = sign_library_url(file["id"], ttl_s=-1, settings=get_settings())
    assert_error(bare.get(stale), 401, "INVALID_DOWNLOAD_LINK")


def test_someone_elses_file_still_needs_the_link(tools_client: TestClient) -> None:
    file = upload(tools_client, png(5, 5), "admins.png")
    mallory = user_client(tools_client, "mallory")
    assert_error(mallory.get(urlsplit(file["downloadUrl"]).path), 404, "FILE_NOT_FOUND")
    # The link is a capability: whoever it was handed to may fetch the file.
    assert mallory.get(file["downloadUrl"]).status_code == 200
    tools_client.request("DELETE", "/api/v1/files", json={"ids": [file["id"]]})
    assert_error(mallory.get(file["downloadUrl"]), 404, "FILE_NOT_FOUND")
