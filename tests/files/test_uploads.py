"""Resumable uploads over HTTP: parts out of order and re-sent, checksum mismatch, expiry, ownership, limits."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.config import get_settings
from app.db import session_scope
from app.models import UploadSession
from app.uploads import service as upload_service
from app.uploads.service import cleanup_expired
from tests.assertions import assert_error
from tests.files.helpers import user_client


def start(c: TestClient, data: bytes, name: str = "movie.bin", **extra: object) -> dict:
    r = c.post("/api/v1/uploads", json={"filename": name, "size": len(data), **extra})
    assert r.status_code == 201, r.text
    return r.json()


def put(c: TestClient, upload_id: str, number: int, data: bytes) -> dict:
    r = c.put(f"/api/v1/uploads/{upload_id}/parts/{number}", content=data)
    assert r.status_code == 200, r.text
    return r.json()


def test_resumed_upload_out_of_order_with_a_resent_part(tools_client: TestClient, app_env: Path) -> None:
    c = tools_client
    ps = 16 * 1024 * 1024
    data = os.urandom(2 * ps + 1000)
    chunks = [data[0:ps], data[ps : 2 * ps], data[2 * ps :]]
    session = start(c, data, sha256=hashlib.sha256(data).hexdigest(), contentType="video/mp4")
    upload_id = session["uploadId"]
    assert session["partSize"] == ps and session["partCount"] == 3 and session["parts"] == [] and session["expiresAt"]

    part3 = put(c, upload_id, 3, chunks[2])
    assert part3 == {"partNumber": 3, "size": 1000, "etag": hashlib.md5(chunks[2]).hexdigest()}
    put(c, upload_id, 1, b"x" * ps)  # a damaged first try ...
    # ... the connection breaks; the client asks what arrived, and resumes.
    listed = c.get(f"/api/v1/uploads/{upload_id}").json()
    assert [p["partNumber"] for p in listed["parts"]] == [1, 3] and listed["receivedBytes"] == ps + 1000
    assert_error(c.post(f"/api/v1/uploads/{upload_id}/complete"), 400, "UPLOAD_INCOMPLETE")

    r = c.put(f"/api/v1/uploads/{upload_id}/parts/1", content=chunks[0])  # re-sent: replaces the first try
    assert r.headers["etag"] == f'"{hashlib.md5(chunks[0]).hexdigest()}"'
    put(c, upload_id, 2, chunks[1])
    # Part numbers stop at partCount (before: part 4 was stored, and the upload could never complete) ...
    assert_error(c.put(f"/api/v1/uploads/{upload_id}/parts/4", content=b"extra"), 400, "INVALID_PART_NUMBER")
    # ... and every part has its declared size: partSize, the last one the rest.
    assert_error(c.put(f"/api/v1/uploads/{upload_id}/parts/3", content=b"e" * 1001), 413, "PART_TOO_LARGE")
    assert_error(c.put(f"/api/v1/uploads/{upload_id}/parts/2", content=b"short"), 400, "PART_SIZE_MISMATCH")
    etags = [
        {"partNumber": p["partNumber"], "etag": p["etag"]}
        for p in c.get(f"/api/v1/uploads/{upload_id}").json()["parts"]
    ]

    r = c.post(f"/api/v1/uploads/{upload_id}/complete", json={"parts": etags})
    assert r.status_code == 201, r.text
    file = r.json()["file"]
    assert (
        file["size"] == 2 * ps + 1000
        and file["originalName"] == "movie.bin"
        and file["sha256"] == hashlib.sha256(data).hexdigest()
    )
    assert c.get(f"/api/v1/files/{file['id']}/download").content == data
    # The session is gone, parts and all.
    assert_error(c.get(f"/api/v1/uploads/{upload_id}"), 404, "UPLOAD_NOT_FOUND")
    assert not (app_env / "uploads" / upload_id).exists()


def test_checksum_mismatch_keeps_nothing(tools_client: TestClient, app_env: Path) -> None:
    c = tools_client
    data = b"a" * 2048
    session = start(c, data, sha256=hashlib.sha256(b"something else").hexdigest())
    put(c, session["uploadId"], 1, data)
    body = assert_error(c.post(f"/api/v1/uploads/{session['uploadId']}/complete"), 400, "CHECKSUM_MISMATCH")
    assert body["details"]["actual"] == hashlib.sha256(data).hexdigest()
    assert_error(c.get(f"/api/v1/uploads/{session['uploadId']}"), 404)
    assert not (app_env / "uploads" / session["uploadId"]).exists()
    assert c.get("/api/v1/files").json()["total"] == 0
    assert not [p for p in (app_env / "files").rglob("*") if p.is_file()]


def test_expired_session_and_abort(tools_client: TestClient, app_env: Path) -> None:
    c = tools_client
    old = start(c, b"12345")
    put(c, old["uploadId"], 1, b"12345")
    with session_scope() as db:
        db.execute(
            update(UploadSession)
            .where(UploadSession.id == old["uploadId"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    live = start(c, b"12345")
    # The periodic task (run once here) removes the expired session and its parts, not the live one.
    assert cleanup_expired(get_settings()) == 1
    assert not (app_env / "uploads" / old["uploadId"]).exists()
    assert_error(c.put(f"/api/v1/uploads/{old['uploadId']}/parts/2", content=b"45"), 404)
    assert c.get(f"/api/v1/uploads/{live['uploadId']}").status_code == 200

    # An expired session answers 404 even before the clean-up ran.
    with session_scope() as db:
        db.execute(update(UploadSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert_error(c.get(f"/api/v1/uploads/{live['uploadId']}"), 404, "UPLOAD_EXPIRED")

    aborted = start(c, b"abc")
    put(c, aborted["uploadId"], 1, b"abc")
    r = c.post(f"/api/v1/uploads/{aborted['uploadId']}/abort")
    assert r.json() == {"aborted": True, "uploadId": aborted["uploadId"]}
    assert not (app_env / "uploads" / aborted["uploadId"]).exists()


def test_limits_and_ownership(tools_client: TestClient) -> None:
    c = tools_client
    r = c.post("/api/v1/uploads", json={"filename": "huge.mkv", "size": 10 * 1024**3 + 1})
    assert_error(r, 413, "UPLOAD_TOO_LARGE")
    assert_error(c.post("/api/v1/uploads", json={"filename": "x", "size": 5, "sha256": "zz"}), 400, "VALIDATION_ERROR")
    assert_error(c.post("/api/v1/uploads", json={"filename": "x", "size": 0}), 400)
    mine = start(c, b"12345")
    assert_error(c.put(f"/api/v1/uploads/{mine['uploadId']}/parts/0", content=b"1"), 400, "INVALID_PART_NUMBER")
    assert_error(c.put(f"/api/v1/uploads/{mine['uploadId']}/parts/1", content=b""), 400, "EMPTY_PART")
    other = user_client(c, "mallory")
    for method, path in (
        ("GET", ""),
        ("PUT", "/parts/1"),
        ("POST", "/complete"),
        ("POST", "/abort"),
    ):
        body = b"1" if method == "PUT" else None
        assert_error(other.request(method, f"/api/v1/uploads/{mine['uploadId']}{path}", content=body), 404)
    # The quota is checked when the session starts (and again at completion).
    assert c.put("/api/v1/settings", json={"storageQuotaMb": 1}).status_code == 200
    assert_error(
        c.post("/api/v1/uploads", json={"filename": "x", "size": 2 * 1024 * 1024}), 413, "STORAGE_QUOTA_EXCEEDED"
    )


def test_open_sessions_and_declared_bytes_are_capped_per_user(
    tools_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: 30 sessions declaring 10 GB each were accepted from one user."""
    c = tools_client
    monkeypatch.setenv("MAX_RESUMABLE_SESSIONS_PER_USER", "3")
    monkeypatch.setenv("MAX_RESUMABLE_BYTES_PER_USER_GB", "15")
    get_settings.cache_clear()
    gb = 1024**3
    assert c.post("/api/v1/uploads", json={"filename": "a.bin", "size": 10 * gb}).status_code == 201
    r = c.post("/api/v1/uploads", json={"filename": "b.bin", "size": 6 * gb})
    assert "MAX_RESUMABLE_BYTES_PER_USER_GB" in assert_error(r, 413, "UPLOAD_TOO_LARGE")["error"]
    for name in ("c.bin", "d.bin"):
        assert c.post("/api/v1/uploads", json={"filename": name, "size": 1000}).status_code == 201
    r = c.post("/api/v1/uploads", json={"filename": "e.bin", "size": 1000})
    assert "MAX_RESUMABLE_SESSIONS_PER_USER" in assert_error(r, 429, "TOO_MANY_REQUESTS")["error"]
    assert r.headers["Retry-After"]
    # Another user has their own budget.
    other = user_client(c, "olga")
    assert other.post("/api/v1/uploads", json={"filename": "a.bin", "size": 10 * gb}).status_code == 201


def test_the_quota_counts_bytes_declared_by_open_sessions(tools_client: TestClient) -> None:
    c = tools_client
    assert c.put("/api/v1/settings", json={"storageQuotaMb": 3}).status_code == 200
    mb = 1024 * 1024
    assert c.post("/api/v1/uploads", json={"filename": "a.bin", "size": 2 * mb}).status_code == 201
    # 2 MB declared and not yet sent still count: a second 2 MB session would pass the 3 MB quota.
    r = c.post("/api/v1/uploads", json={"filename": "b.bin", "size": 2 * mb})
    assert assert_error(r, 413, "STORAGE_QUOTA_EXCEEDED")["details"]["requestedBytes"] == 4 * mb
    assert c.post("/api/v1/uploads", json={"filename": "c.bin", "size": mb // 2}).status_code == 201


def test_parts_sent_in_order_are_hashed_on_arrival_not_read_again(
    tools_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = tools_client
    ps = 16 * 1024 * 1024
    data = os.urandom(2 * ps + 4321)
    session = start(c, data, sha256=hashlib.sha256(data).hexdigest())
    upload_id = session["uploadId"]
    for number, offset in enumerate(range(0, len(data), ps), start=1):
        put(c, upload_id, number, data[offset : offset + ps])

    def read_again(*_: object) -> None:
        raise AssertionError("completion read a part again to hash it")

    # Every part came in order: completion uses the hash taken while they streamed in.
    monkeypatch.setattr(upload_service, "_hash_file", read_again)
    r = c.post(f"/api/v1/uploads/{upload_id}/complete")
    assert r.status_code == 201, r.text
    file = r.json()["file"]
    assert file["size"] == len(data) and file["sha256"] == hashlib.sha256(data).hexdigest()
    assert c.get(f"/api/v1/files/{file['id']}/download").content == data


def test_a_part_resent_after_it_was_hashed_still_gives_the_right_checksum(tools_client: TestClient) -> None:
    c = tools_client
    ps = 16 * 1024 * 1024
    data = os.urandom(ps + 10)
    session = start(c, data)
    upload_id = session["uploadId"]
    put(c, upload_id, 1, b"z" * ps)  # hashed on arrival, then replaced: that hash must not be used
    put(c, upload_id, 2, data[ps:])
    put(c, upload_id, 1, data[:ps])
    r = c.post(f"/api/v1/uploads/{upload_id}/complete")
    assert r.status_code == 201, r.text
    assert r.json()["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert c.get(f"/api/v1/files/{r.json()['file']['id']}/download").content == data


def test_a_part_found_too_large_after_many_batches_leaves_nothing_behind(
    tools_client: TestClient, app_env: Path
) -> None:
    # The overflow shows only in the body's last bytes, after 16 batches went to the hashing thread:
    # the refusal waits for the batch in flight, removes the temporary file and keeps the part's slot free.
    c = tools_client
    ps = 16 * 1024 * 1024
    data = os.urandom(ps + 100)
    session = start(c, data)
    upload_id = session["uploadId"]
    too_long = data[:ps] + b"!"
    assert_error(c.put(f"/api/v1/uploads/{upload_id}/parts/1", content=too_long), 413, "PART_TOO_LARGE")
    folder = app_env / "uploads" / upload_id
    assert not folder.exists() or list(folder.iterdir()) == []  # no temporary file left
    first = put(c, upload_id, 1, data[:ps])
    assert first["etag"] == hashlib.md5(data[:ps], usedforsecurity=False).hexdigest()
    put(c, upload_id, 2, data[ps:])
    r = c.post(f"/api/v1/uploads/{upload_id}/complete")
    assert r.status_code == 201, r.text
    assert r.json()["file"]["sha256"] == hashlib.sha256(data).hexdigest()
