"""Signed download URLs: what an answer hands out opens without credentials; nothing else does."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from app.auth.signed_urls import KEY_FILE, sign_download_url, verify_download
from app.config import get_settings
from tests.assertions import AUTH_REQUIRED, assert_error
from tests.engine.helpers import png, post_tool


def anonymous(client: TestClient) -> TestClient:
    """A client of the same running app with no Authorization header and no cookie."""
    return TestClient(client.app, base_url="http://testserver")


def test_answer_urls_open_without_credentials(tools_client: TestClient) -> None:
    a, b = png(colour=(200, 0, 0)), png(colour=(0, 0, 200))
    r = post_tool(tools_client, "files/test-copy", [("a.png", a), ("b.png", b)], field="files")
    assert r.status_code == 200, r.text
    body = r.json()
    query = parse_qs(urlsplit(body["downloadUrl"]).query)
    assert set(query) == {"exp", "sig"}
    # Valid as long as the workspace lives: FILE_MAX_AGE_HOURS (72 by default).
    assert abs(int(query["exp"][0]) - (time.time() + 72 * 3600)) < 60
    bare = anonymous(tools_client)
    got = {d["filename"]: bare.get(d["downloadUrl"]) for d in body["downloads"]}
    assert {n: (x.status_code, x.content) for n, x in got.items()} == {"a.png": (200, a), "b.png": (200, b)}
    assert bare.get(body["downloadUrl"], headers={"Range": "bytes=0-9"}).content == a[:10]

    # Without the signature the route still needs credentials.
    assert_error(bare.get(urlsplit(body["downloadUrl"]).path), 401, AUTH_REQUIRED["code"])
    assert tools_client.get(urlsplit(body["downloadUrl"]).path).content == a


def test_a_signature_opens_only_its_own_file(tools_client: TestClient) -> None:
    first = post_tool(tools_client, "files/test-copy", [("one.png", png())]).json()
    second = post_tool(tools_client, "files/test-copy", [("two.png", png(colour=(1, 2, 3)))]).json()
    bare = anonymous(tools_client)
    sig_query = urlsplit(first["downloadUrl"]).query
    other = urlsplit(second["downloadUrl"]).path
    # Another job's file, another name in the same job, a tampered expiry, a mangled signature.
    exp = parse_qs(sig_query)["exp"][0]
    sig = parse_qs(sig_query)["sig"][0]
    for url in (
        f"{other}?{sig_query}",
        f"/api/v1/download/{first['jobId']}/other.png?{sig_query}",
        f"{urlsplit(first['downloadUrl']).path}?exp={int(exp) + 1}&sig={sig}",
        f"{urlsplit(first['downloadUrl']).path}?exp={exp}&sig={sig[:-2]}AA",
        f"{urlsplit(first['downloadUrl']).path}?exp=abc&sig={sig}",
    ):
        r = bare.get(url)
        assert_error(r, 401, "INVALID_DOWNLOAD_LINK")
        assert "invalid or expired" in r.json()["error"]


def test_an_expired_link_is_refused_but_credentials_still_work(tools_client: TestClient) -> None:
    image = png(colour=(9, 9, 9))
    job_id = post_tool(tools_client, "files/test-copy", [("e.png", image)]).json()["jobId"]
    settings = get_settings()
    expired = sign_download_url(job_id, "e.png", ttl_s=-5, settings=settings)
    assert_error(anonymous(tools_client).get(expired), 401, "INVALID_DOWNLOAD_LINK")
    assert tools_client.get(expired).content == image  # a signed-in caller is not held to the link
    short = sign_download_url(job_id, "e.png", ttl_s=60, settings=settings)
    assert anonymous(tools_client).get(short).content == image


def test_the_key_lives_in_the_data_folder(tools_client: TestClient) -> None:
    settings = get_settings()
    key = Path(settings.data_dir) / KEY_FILE
    url = sign_download_url("job-1", "x.png", settings=settings)
    assert key.is_file() and key.stat().st_mode & 0o077 == 0  # readable by the server's user only
    q = parse_qs(urlsplit(url).query)
    assert verify_download("job-1", "x.png", q["exp"][0], q["sig"][0], settings)
    assert not verify_download("job-1", "x.png", q["exp"][0], None, settings)
    assert not verify_download("job-2", "x.png", q["exp"][0], q["sig"][0], settings)
