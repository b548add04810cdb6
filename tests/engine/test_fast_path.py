"""The fast-job hot path: one job-row write per request, and no image header check in the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pyvips
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.db import get_engine
from app.jobs import service as job_service
from tests.assertions import assert_error
from tests.engine.helpers import png, post_tool

COPY = "files/test-copy"
_JOB_WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE)\s+jobs\b", re.IGNORECASE)


@contextmanager
def job_row_writes() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _JOB_WRITE.match(statement):
            seen.append(statement.split("(")[0].strip())

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_fast_job_writes_its_row_once_and_it_is_readable_at_once(tools_client: TestClient) -> None:
    image = png(colour=(40, 50, 60))
    with job_row_writes() as writes:
        r = post_tool(tools_client, COPY, [("a.png", image)])
    assert r.status_code == 200, r.text
    assert len(writes) == 1 and writes[0].upper().startswith("INSERT"), writes
    job = tools_client.get(f"/api/v1/jobs/{r.json()['jobId']}")
    assert job.status_code == 200, job.text
    assert job.json()["status"] == "completed"
    assert tools_client.get(r.json()["downloadUrl"]).content == image


def test_an_input_refused_by_the_worker_leaves_no_job_behind(start_app: Any, engine_env: Path) -> None:
    client = start_app(MAX_MEGAPIXELS="1")
    wide = pyvips.Image.black(2000, 1000).write_to_buffer(".png")
    with job_row_writes() as writes:
        body = assert_error(post_tool(client, COPY, [("wide.png", wide)]), 400, "IMAGE_TOO_LARGE")
    assert "2.0 megapixels" in body["error"]
    assert writes == []
    assert client.get("/api/v1/jobs").json()["jobs"] == []
    jobs = engine_env / "jobs"
    assert not jobs.is_dir() or list(jobs.iterdir()) == []


def test_the_server_process_leaves_the_header_check_to_the_worker(
    start_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(*_: Any, **__: Any) -> None:
        raise AssertionError("the server process read the image header")

    monkeypatch.setattr(job_service, "check_input", not_here)
    client = start_app(MAX_MEGAPIXELS="1")
    wide = pyvips.Image.black(2000, 1000).write_to_buffer(".png")
    # The worker process still refuses the oversized image (from its header) with the same 4xx.
    assert_error(post_tool(client, COPY, [("wide.png", wide[:64])]), 400, "IMAGE_TOO_LARGE")
    square = pyvips.Image.black(100, 100).write_to_buffer(".png")
    r = post_tool(client, COPY, [("square.png", square)])
    assert r.status_code == 200, r.text
    assert client.get(r.json()["downloadUrl"]).content == square
