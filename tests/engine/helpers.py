"""Media, upload and event-stream helpers shared by the engine tests."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error

# The test-only tools (tests/engine_tools.py and tests/engine/extra_tools.py), loaded by server and workers.
TOOL_MODULES = "tests.engine_tools,tests.engine.extra_tools"
TEXT = b"just some plain text, certainly not an image\n" * 4


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + list(colour)).cast("uchar")
    return image.write_to_buffer(".png")


def jpeg(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (20, 120, 220)) -> bytes:
    # Noise, so the entropy-coded data is long enough for a half file to really lack pixels.
    noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40)
    image = (noise.bandjoin([noise, noise]) + list(colour)).cast("uchar")
    return image.write_to_buffer(".jpg", Q=90)


def garbage(size: int = 2048, seed: int = 7) -> bytes:
    import random

    data = random.Random(seed).randbytes(size)
    # Make sure no magic number is hit by chance.
    return b"\x01\x02garbage" + data


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


FileArg = tuple[str, bytes] | tuple[str, str, bytes]


def multipart_files(files: list[FileArg], field: str = "file") -> list[tuple[str, tuple[str, bytes, str]]]:
    out = []
    for item in files:
        if len(item) == 2:
            name, data = item  # type: ignore[misc]
            part = field
        else:
            part, name, data = item  # type: ignore[misc]
        out.append((part, (name, data, "application/octet-stream")))
    return out


def post_tool(
    client: TestClient,
    tool_path: str,
    files: list[FileArg],
    settings: dict[str, Any] | str | None = None,
    *,
    field: str = "file",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POSTs files (and settings as a JSON string) to /api/v1/tools/<tool_path> as multipart."""
    data = {}
    if settings is not None:
        data["settings"] = settings if isinstance(settings, str) else json.dumps(settings)
    return client.post(f"/api/v1/tools/{tool_path}", files=multipart_files(files, field), data=data, headers=headers)


def read_events(
    client: TestClient, job_id: str, headers: dict[str, str] | None = None, on_event: Any = None
) -> list[dict[str, Any]]:
    """Reads a job's SSE stream until the server closes it; returns the decoded `data:` frames."""
    events: list[dict[str, Any]] = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", headers=headers) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                events.append(event)
                if on_event is not None:
                    on_event(event)
    return events


def assert_rejected(r: httpx.Response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """A 4xx with the shared error shape (and the given status/code when named)."""
    assert 400 <= r.status_code < 500, f"expected a 4xx, got {r.status_code}: {r.text[:300]}"
    return assert_error(r, status if status is not None else r.status_code, code)


def asgi_request(
    client: TestClient, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, bytes, int]:
    """Sends a request body chunk by chunk straight to the running app, as a server would.

    TestClient reads a request body whole before the app sees it; this shows how much of the body
    the app really pulled. Returns (status, response body, chunks pulled).
    """
    pulled = 0
    sent: list[dict[str, Any]] = []
    all_headers = {**{k: v for k, v in client.headers.items()}, **headers}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = asgi_scope(method, path, all_headers)
    client.portal.call(client.app, scope, receive, send)  # type: ignore[union-attr]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, pulled


def asgi_scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """An HTTP scope as a server builds it, for calling the app's ASGI stack directly."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
