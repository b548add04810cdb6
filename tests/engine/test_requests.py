"""POST /api/v1/tools/<section>/<id>: answers, settings validation, input checks and limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyvips
from fastapi.testclient import TestClient

from app.jobs.uploads import OFF_LOOP_BATCH
from app.models import Job
from tests.assertions import assert_error, database
from tests.engine.conftest import StartApp
from tests.engine.helpers import TEXT, asgi_request, garbage, jpeg, png, post_tool, read_events

COPY = "files/test-copy"
SLEEP = "files/test-sleep"


def job_folders(data_dir: Path) -> list[str]:
    jobs = data_dir / "jobs"
    return sorted(p.name for p in jobs.iterdir()) if jobs.is_dir() else []


def test_fast_tool_answers_200_with_the_result(tools_client: TestClient, engine_env: Path) -> None:
    image = png(colour=(10, 20, 30))
    r = post_tool(tools_client, COPY, [("holiday photo.png", image)])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"jobId", "downloadUrl", "originalSize", "processedSize", "copied"}
    assert body["downloadUrl"].split("?")[0] == f"/api/v1/download/{body['jobId']}/holiday%20photo.png"
    assert body["originalSize"] == body["processedSize"] == len(image)
    assert body["copied"] == 1
    download = tools_client.get(body["downloadUrl"])
    assert download.status_code == 200
    assert download.content == image
    with database() as db:
        row = db.get(Job, body["jobId"])
        assert row is not None
        assert (row.status, row.tool_id, row.section, row.progress) == ("completed", "test-copy", "files", 100)
        assert (row.bytes_in, row.bytes_out) == (len(image), len(image))
        assert row.started_at is not None and row.finished_at is not None
        assert row.result == body


def test_several_outputs_come_with_downloads(tools_client: TestClient) -> None:
    images = {"a.png": png(colour=(1, 0, 0)), "b.png": png(colour=(0, 1, 0)), "c.jpg": jpeg()}
    r = post_tool(tools_client, COPY, list(images.items()), field="files")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["copied"] == 3
    assert body["originalSize"] == body["processedSize"] == sum(len(v) for v in images.values())
    assert [d["filename"] for d in body["downloads"]] == list(images)
    assert body["downloadUrl"] == body["downloads"][0]["downloadUrl"]
    for entry in body["downloads"]:
        assert entry["size"] == len(images[entry["filename"]])
        assert tools_client.get(entry["downloadUrl"]).content == images[entry["filename"]]


def test_long_tool_answers_202_and_finishes_in_the_background(tools_client: TestClient) -> None:
    image = png(colour=(5, 5, 5))
    r = post_tool(tools_client, SLEEP, [("slow.png", image)], {"seconds": 0.3, "steps": 3})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body == {"jobId": body["jobId"], "async": True}
    events = read_events(tools_client, body["jobId"])
    assert events[-1]["status"] == "completed"
    assert tools_client.get(events[-1]["result"]["downloadUrl"]).content == image


def test_invalid_settings_name_the_field(tools_client: TestClient) -> None:
    cases = [
        ({"seconds": -1}, "seconds"),
        ({"seconds": "soon"}, "seconds"),
        ({"steps": 1000}, "steps"),
        ({"seconds": 1, "bogus": True}, "bogus"),  # unknown keys are refused, so typos surface
    ]
    for settings, field in cases:
        body = assert_error(post_tool(tools_client, SLEEP, [("a.png", png())], settings), 400, "VALIDATION_ERROR")
        assert field in body["details"], body
        assert field in body["error"], body


def test_settings_must_be_a_small_json_object(tools_client: TestClient) -> None:
    body = assert_error(post_tool(tools_client, SLEEP, [("a.png", png())], "{seconds: 1"), 400, "INVALID_SETTINGS")
    assert "settings" in body["details"]
    assert_error(post_tool(tools_client, SLEEP, [("a.png", png())], "[1, 2]"), 400, "INVALID_SETTINGS")
    huge = json.dumps({"seconds": 1, "pad": "x" * 70_000})
    body = assert_error(post_tool(tools_client, SLEEP, [("a.png", png())], huge), 400)
    assert "64 KB" in body["error"]
    # Empty settings mean the defaults.
    r = post_tool(tools_client, COPY, [("a.png", png())], "")
    assert r.status_code == 200, r.text


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "lutra-test-boundary") -> tuple[bytes, str]:
    out = bytearray()
    for name, filename, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"Content-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def test_missing_and_extra_files(tools_client: TestClient, engine_env: Path) -> None:
    body, ctype = _multipart([("settings", None, b"{}")])
    r = tools_client.post(f"/api/v1/tools/{COPY}", content=body, headers={"Content-Type": ctype})
    assert_error(r, 400, "NO_FILE")
    # JSON without a library fileId: the tool needs a file, and the answer says how to send one.
    r = tools_client.post(f"/api/v1/tools/{COPY}", json={"settings": {}})
    assert "fileId" in assert_error(r, 400, "NO_FILE")["error"]
    r = tools_client.post(f"/api/v1/tools/{COPY}", content=b"plain", headers={"Content-Type": "text/plain"})
    assert_error(r, 400, "INVALID_MULTIPART")
    four = [(f"{i}.png", png(colour=(i, i, i))) for i in range(4)]
    assert_error(post_tool(tools_client, COPY, four, field="files"), 400, "TOO_MANY_FILES")
    r = post_tool(tools_client, COPY, [("other", "a.png", png())])
    assert_error(r, 400, "UNEXPECTED_FIELD")
    # Refused uploads leave nothing behind.
    assert job_folders(engine_env) == []


def test_content_is_decided_from_the_bytes(tools_client: TestClient) -> None:
    image = png(colour=(9, 9, 9))
    r = post_tool(tools_client, COPY, [("report.pdf", image)])
    assert r.status_code == 200, r.text
    download = tools_client.get(r.json()["downloadUrl"])
    assert download.content == image
    assert download.headers["content-type"] == "image/png"

    body = assert_error(post_tool(tools_client, COPY, [("photo.png", TEXT)]), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "photo.png" in body["error"]
    # A real PDF is something test-copy takes, but test-fail only takes images.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    body = assert_error(post_tool(tools_client, "files/test-fail", [("doc.pdf", pdf)]), 415, "UNSUPPORTED_MEDIA_TYPE")
    # The message names what the tool does take (its "image" group, expanded).
    assert "is pdf; accepted: jpeg, png, webp" in body["error"]


def test_hostile_files_get_a_4xx(tools_client: TestClient, engine_env: Path) -> None:
    assert_error(post_tool(tools_client, COPY, [("empty.png", b"")]), 400, "EMPTY_FILE")
    assert_error(post_tool(tools_client, COPY, [("noise.png", garbage())]), 415, "UNSUPPORTED_MEDIA_TYPE")
    # Cut inside the header: the magic number says PNG/JPEG, but no header can be read.
    for name, data in (("cut.png", png()[:20]), ("cut.jpg", jpeg()[:12])):
        assert_error(post_tool(tools_client, COPY, [(name, data)]), 415, "UNSUPPORTED_MEDIA_TYPE")
    # One bad file in a multi-file request refuses the request (the batch route reports per file).
    r = post_tool(tools_client, COPY, [("good.png", png()), ("empty.png", b"")], field="files")
    assert_error(r, 400, "EMPTY_FILE")
    assert job_folders(engine_env) == []


def test_tool_failure_is_422_with_a_short_reason(tools_client: TestClient) -> None:
    r = post_tool(tools_client, "files/test-fail", [("a.png", png())])
    body = assert_error(r, 422, "PROCESSING_FAILED")
    assert body["error"] == "Processing failed: this input has no pixels worth keeping"
    assert body["details"] == {"reason": "this input has no pixels worth keeping"}


def test_json_body_tools(tools_client: TestClient) -> None:
    r = tools_client.post("/api/v1/tools/files/test-echo", json={"text": "grüße"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["originalSize"] == 0
    assert body["length"] == 5
    assert body["processedSize"] == len("grüße".encode())
    assert tools_client.get(body["downloadUrl"]).content == "grüße".encode()

    echo = "/api/v1/tools/files/test-echo"
    r = tools_client.post(echo, content=b"{text: ", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_SETTINGS")
    assert "text" in assert_error(tools_client.post(echo, json={}), 400, "VALIDATION_ERROR")["details"]
    assert_error(tools_client.post(echo, json=["text"]), 400, "INVALID_SETTINGS")
    r = tools_client.post(echo, content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "SETTINGS_TOO_LARGE")


def _upload_chunks(size: int, chunk: int = 64 * 1024) -> tuple[Iterator[bytes], str]:
    """A multipart body of one `size`-byte PNG-looking file, produced in 64 KB chunks."""
    boundary = "lutra-stream-boundary"

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        first = png()
        yield first + b"\0" * (chunk - len(first))
        for _ in range(size // chunk - 1):
            yield b"\0" * chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    return body(), f"multipart/form-data; boundary={boundary}"


def test_upload_limit_is_enforced_while_streaming(start_app: StartApp, engine_env: Path) -> None:
    client = start_app(MAX_UPLOAD_SIZE_MB="1")
    two_mb = png() + b"\0" * (2 * 1024 * 1024)
    body = assert_error(post_tool(client, COPY, [("big.png", two_mb)]), 413, "PAYLOAD_TOO_LARGE")
    assert "MB" in body["error"]
    # Without a Content-Length the body is read only until the limit is crossed: 1 MB is 16 chunks
    # of 64 KB (plus the part header), and 128 were on offer; chunks are parsed in batches of
    # OFF_LOOP_BATCH, so at most one batch more is read.
    chunks, ctype = _upload_chunks(8 * 1024 * 1024)
    status, raw, pulled = asgi_request(client, "POST", f"/api/v1/tools/{COPY}", {"Content-Type": ctype}, chunks)
    assert status == 413, raw
    assert json.loads(raw)["code"] == "PAYLOAD_TOO_LARGE"
    assert 17 <= pulled <= 19 + OFF_LOOP_BATCH // (64 * 1024), pulled
    # A Content-Length that can't fit is refused before a byte of the body is read.
    chunks, ctype = _upload_chunks(8 * 1024 * 1024)
    headers = {"Content-Type": ctype, "Content-Length": str(50 * 1024 * 1024)}
    status, raw, pulled = asgi_request(client, "POST", f"/api/v1/tools/{SLEEP}", headers, chunks)
    assert (status, json.loads(raw)["code"], pulled) == (413, "PAYLOAD_TOO_LARGE", 0)
    # Just under the limit is fine.
    under = png() + b"\0" * (1024 * 1024 - 100 - len(png()))
    r = post_tool(client, COPY, [("ok.png", under)])
    assert r.status_code == 200, r.text
    assert client.get(r.json()["downloadUrl"]).content == under
    assert job_folders(engine_env) == [r.json()["jobId"]]


def test_megapixel_limit_reads_the_header_only(start_app: StartApp) -> None:
    client = start_app(MAX_MEGAPIXELS="1")
    wide = pyvips.Image.black(2000, 1000).write_to_buffer(".png")
    body = assert_error(post_tool(client, COPY, [("wide.png", wide)]), 400, "IMAGE_TOO_LARGE")
    assert "2.0 megapixels" in body["error"] and "MAX_MEGAPIXELS" in body["error"]
    # Only the header is read: a file cut right after it is refused for its size, not as unreadable.
    assert_error(post_tool(client, COPY, [("wide.png", wide[:64])]), 400, "IMAGE_TOO_LARGE")
    square = pyvips.Image.black(1000, 1000).write_to_buffer(".png")
    r = post_tool(client, COPY, [("square.png", square)])
    assert r.status_code == 200, r.text
    assert client.get(r.json()["downloadUrl"]).content == square
