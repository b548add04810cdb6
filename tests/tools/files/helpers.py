"""Calls through the HTTP API for the `files` tool tests, and small generated inputs."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.assertions import assert_error

Upload = tuple[str, bytes] | tuple[str, str, bytes]  # (name, data) or (field, name, data)


def post(client: TestClient, tool: str, files: list[Upload], settings: dict[str, Any] | None = None) -> httpx.Response:
    parts = []
    for item in files:
        field, name, data = item if len(item) == 3 else ("file", *item)  # type: ignore[misc]
        parts.append((field, (name, data, "application/octet-stream")))
    return client.post(f"/api/v1/tools/files/{tool}", files=parts, data={"settings": json.dumps(settings or {})})


def run(client: TestClient, tool: str, files: list[Upload], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fast tool's 200 answer."""
    r = post(client, tool, files, settings)
    assert r.status_code == 200, r.text
    return r.json()


def wait(client: TestClient, job_id: str) -> dict[str, Any]:
    """Reads the job's SSE stream to its terminal frame."""
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["status"] in ("completed", "failed", "canceled"):
                    return event
    raise AssertionError("the progress stream ended without a terminal event")


def run_long(client: TestClient, tool: str, files: list[Upload], settings: dict[str, Any] | None = None) -> dict:
    """A long tool: 202, then the completed SSE frame's result."""
    r = post(client, tool, files, settings)
    assert r.status_code == 202, r.text
    final = wait(client, r.json()["jobId"])
    assert final["status"] == "completed", final
    return final["result"]


def fail_long(client: TestClient, tool: str, files: list[Upload], settings: dict[str, Any] | None = None) -> dict:
    r = post(client, tool, files, settings)
    if r.status_code != 202:
        return assert_error(r, r.status_code)
    final = wait(client, r.json()["jobId"])
    assert final["status"] == "failed", final
    return final


def fetch(client: TestClient, body: dict[str, Any], url: str | None = None) -> bytes:
    r = client.get(url or body["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


def refused(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    return assert_error(r, status, code)


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def xlsx(rows: list[list[Any]], *more_sheets: tuple[str, list[list[Any]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "First"
    for row in rows:
        sheet.append(row)
    for title, sheet_rows in more_sheets:
        extra = book.create_sheet(title)
        for row in sheet_rows:
            extra.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
