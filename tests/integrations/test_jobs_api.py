"""Jobs to poll and list, progress streams that resume, and batches followed while they run."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from app.models import Job
from tests.assertions import assert_error, database
from tests.conftest import auth, create_user
from tests.engine.helpers import garbage, multipart_files, png

COPY = "/api/v1/tools/files/test-copy"
SLEEP = "/api/v1/tools/files/test-sleep"


def run_copy(c: TestClient, colour: int = 1) -> dict[str, Any]:
    r = c.post(COPY, files={"file": ("a.png", png(colour=(colour, 2, 3)), "image/png")})
    assert r.status_code == 200, r.text
    return r.json()


def frames(c: TestClient, job_id: str, headers: dict[str, str] | None = None, query: str = "") -> list[dict[str, Any]]:
    """The stream's frames as {id, event, data}, read until the server ends it."""
    out: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with c.stream("GET", f"/api/v1/jobs/{job_id}/progress{query}", headers=headers) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("id: "):
                current["id"] = int(line[4:])
            elif line.startswith("event: "):
                current["event"] = line[7:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                out.append(current)
                current = {}
    return out


def latest(bus: Any, job_id: str) -> dict[str, Any] | None:
    """The in-process bus's latest frame, read from the test's thread (the bus's `latest` is a coroutine)."""
    return asyncio.run(bus.latest(job_id))


def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_get_a_job_in_the_streams_states(tools_client: TestClient) -> None:
    c = tools_client
    done = run_copy(c)
    r = c.get(f"/api/v1/jobs/{done['jobId']}")
    assert r.status_code == 200
    job = r.json()
    assert (job["jobId"], job["status"], job["progress"], job["tool"]) == (done["jobId"], "completed", 100, "test-copy")
    assert job["result"]["downloadUrl"] == done["downloadUrl"] and job["error"] is None
    assert job["createdAt"] <= job["startedAt"] <= job["finishedAt"]
    assert job["processedSize"] == done["processedSize"]

    failed = c.post("/api/v1/tools/files/test-fail", files={"file": ("a.png", png(), "image/png")})
    assert failed.status_code == 422
    job_id = c.get("/api/v1/jobs?tool=test-fail").json()["jobs"][0]["jobId"]
    job = c.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "failed" and "no pixels worth keeping" in job["error"] and job["result"] is None
    # The final frame of its stream says the same.
    (last,) = frames(c, job_id)
    assert (last["data"]["status"], last["data"]["error"]) == ("failed", job["error"])

    # A running job: processing, with the progress the stream shows.
    r = c.post(SLEEP, files={"file": ("a.png", png(), "image/png")}, data={"settings": '{"seconds": 1.5}'})
    running = r.json()["jobId"]
    wait_until(lambda: c.get(f"/api/v1/jobs/{running}").json()["progress"] > 0)
    job = c.get(f"/api/v1/jobs/{running}").json()
    assert job["status"] == "processing" and 0 < job["progress"] < 100 and job["message"].startswith("step ")
    wait_until(lambda: c.get(f"/api/v1/jobs/{running}").json()["status"] == "completed")
    assert_error(c.get("/api/v1/jobs/no-such-job"), 404, "NOT_FOUND")


def test_list_jobs_newest_first_with_a_cursor(tools_client: TestClient) -> None:
    c = tools_client
    ids = [run_copy(c, i)["jobId"] for i in range(3)]
    token = create_user(c, "nina")
    nina = TestClient(c.app, base_url="http://testserver", headers=auth(token))
    theirs = run_copy(nina)["jobId"]

    first = c.get("/api/v1/jobs?limit=2").json()
    assert [j["jobId"] for j in first["jobs"]] == [ids[2], ids[1]] and first["nextCursor"]
    second = c.get(f"/api/v1/jobs?limit=2&cursor={first['nextCursor']}").json()
    assert [j["jobId"] for j in second["jobs"]] == [ids[0]] and second["nextCursor"] is None
    assert {j["status"] for j in first["jobs"] + second["jobs"]} == {"completed"}
    assert c.get("/api/v1/jobs?status=failed").json()["jobs"] == []
    assert len(c.get("/api/v1/jobs?tool=test-copy&status=completed").json()["jobs"]) == 3
    # Only the caller's own jobs, unless all=true with audit:read.
    assert [j["jobId"] for j in nina.get("/api/v1/jobs").json()["jobs"]] == [theirs]
    assert_error(nina.get("/api/v1/jobs?all=true"), 403, "FORBIDDEN")
    everyone = c.get("/api/v1/jobs?all=true").json()["jobs"]
    assert theirs in [j["jobId"] for j in everyone]
    assert_error(nina.get(f"/api/v1/jobs/{ids[0]}"), 404, "NOT_FOUND")
    assert_error(c.get("/api/v1/jobs?cursor=%%%bad"), 400, "INVALID_CURSOR")
    assert_error(c.get("/api/v1/jobs?status=sleeping"), 400, "VALIDATION_ERROR")
    assert_error(c.get("/api/v1/jobs?limit=101"), 400, "VALIDATION_ERROR")


def test_sse_frames_have_ids_and_a_reconnect_resumes_without_repeating(tools_client: TestClient) -> None:
    c = tools_client
    r = c.post(SLEEP, files={"file": ("a.png", png(), "image/png")}, data={"settings": '{"seconds": 2, "steps": 8}'})
    job_id = r.json()["jobId"]
    bus = c.app.state.jobs.bus
    wait_until(lambda: (latest(bus, job_id) or {}).get("progress", 0) >= 25)
    seen = latest(bus, job_id)["seq"]
    # Resuming after the frame already seen: only newer frames, each id greater than the last.
    resumed = frames(c, job_id, headers={"Last-Event-ID": str(seen)})
    ids = [f["id"] for f in resumed]
    assert ids and ids[0] > seen and ids == sorted(set(ids))
    assert all("event" not in f for f in resumed)  # unnamed by default (onmessage)
    assert resumed[-1]["data"]["status"] == "completed"
    assert "seq" not in resumed[-1]["data"]
    final = resumed[-1]["id"]
    # After the job ended: the final frame again, with the same id, to a client that missed it ...
    (again,) = frames(c, job_id, headers={"Last-Event-ID": str(ids[0])})
    assert again["id"] == final and again["data"] == resumed[-1]["data"]
    # ... and nothing (204, which ends an EventSource) to one that saw it.
    r = c.get(f"/api/v1/jobs/{job_id}/progress", headers={"Last-Event-ID": str(final)})
    assert r.status_code == 204 and r.content == b""
    # ?events=named names each frame.
    (named,) = frames(c, job_id, query="?events=named")
    assert named["event"] == "completed" and named["id"] == final
    assert_error(c.get(f"/api/v1/jobs/{job_id}/progress?events=loud"), 400, "VALIDATION_ERROR")


def test_a_batch_is_followed_while_it_runs(tools_client: TestClient) -> None:
    c = tools_client
    files = [("a.png", png(colour=(1, 1, 1))), ("bad.png", garbage()), ("c.png", png(colour=(3, 3, 3)))]
    answer: dict[str, Any] = {}

    def post() -> None:
        answer["r"] = c.post(
            "/api/v1/tools/files/test-sleep/batch",
            files=multipart_files(files, "files"),
            data={"clientJobId": "my-batch_1", "settings": '{"seconds": 0.6, "steps": 3}'},
        )

    thread = threading.Thread(target=post)
    thread.start()
    wait_until(lambda: c.get("/api/v1/jobs/my-batch_1").status_code == 200)
    # The listing shows a running job from the bus's latest frame, as the single-job route does.
    listed = c.get("/api/v1/jobs")
    assert listed.status_code == 200, listed.text
    assert "my-batch_1" in {j["jobId"] for j in listed.json()["jobs"]}
    seen = frames(c, "my-batch_1")
    thread.join(30)
    r = answer["r"]
    assert r.status_code == 200, r.text
    assert r.headers["x-job-id"] == "my-batch_1"
    assert json.loads(unquote(r.headers["x-file-results"])) == {"0": "a.png", "2": "c.png"}
    data = [f["data"] for f in seen]
    assert all(d["type"] == "batch" and d["jobId"] == "my-batch_1" for d in data)
    assert data[-1]["status"] == "completed"
    progress = [(d["completedFiles"], d["failedFiles"]) for d in data if d["status"] == "processing"]
    # Every file's frame arrives (the stream opened before the first file finished), in order.
    assert progress[-3:] == sorted(progress[-3:]) and progress[-1] == (2, 1)
    running = [d for d in data if d["status"] == "processing" and d["completedFiles"] + d["failedFiles"]]
    assert {d["currentFile"] for d in running} == {"a.png", "bad.png", "c.png"}
    last = data[-1]
    assert (last["totalFiles"], last["completedFiles"], last["failedFiles"]) == (3, 2, 1)
    # Answered from the database after the batch ended: the same counts.
    (late,) = frames(c, "my-batch_1")
    assert late["data"] == last and late["id"] == seen[-1]["id"]
    job = c.get("/api/v1/jobs/my-batch_1").json()
    assert (job["status"], job["totalFiles"], job["completedFiles"], job["failedFiles"]) == ("completed", 3, 2, 1)

    # The id is now taken; a malformed one is refused before anything runs.
    again = c.post(
        "/api/v1/tools/files/test-copy/batch",
        files=multipart_files(files[:1], "files"),
        data={"clientJobId": "my-batch_1"},
    )
    assert_error(again, 409, "JOB_ID_TAKEN")
    for bad in ("has space", "x" * 65, "dots.are.out", ""):
        r = c.post(
            "/api/v1/tools/files/test-copy/batch", files=multipart_files(files[:1], "files"), data={"clientJobId": bad}
        )
        assert_error(r, 400, "VALIDATION_ERROR")


def test_a_refused_batch_ends_its_job_failed(tools_client: TestClient) -> None:
    r = tools_client.post(
        "/api/v1/tools/files/test-copy/batch",
        files=multipart_files([("a.png", png())], "files"),
        data={"clientJobId": "doomed", "settings": "{not json"},
    )
    assert_error(r, 400, "INVALID_SETTINGS")
    job = tools_client.get("/api/v1/jobs/doomed").json()
    assert (
        job["status"] == "failed"
        and job["error"] == "Settings must be valid JSON"
        and job["code"] == "INVALID_SETTINGS"
    )


@pytest.mark.parametrize("path", ["/api/v1/tools/files/test-copy/batch", "/api/v1/pipeline/batch"])
def test_async_batch_answers_202_and_its_zip_is_the_result(tools_client: TestClient, path: str) -> None:
    c = tools_client
    pictures = [("a.png", png(colour=(5, 5, 5))), ("b.png", png(colour=(6, 6, 6)))]
    data = {"clientJobId": "later-1"}
    if "pipeline" in path:
        data["pipeline"] = json.dumps({"steps": [{"toolId": "test-copy", "settings": {}}]})
    r = c.post(path + "?async=true", files=multipart_files(pictures, "files"), data=data)
    assert r.status_code == 202, r.text
    assert r.json()["jobId"] == "later-1"
    wait_until(lambda: c.get("/api/v1/jobs/later-1").json()["status"] == "completed")
    job = c.get("/api/v1/jobs/later-1").json()
    assert job["result"]["fileResults"] == {"0": "a.png", "1": "b.png"}
    z = c.get(job["result"]["downloadUrl"])
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        assert archive.read("a.png") == pictures[0][1] and archive.read("b.png") == pictures[1][1]
    assert job["result"]["processedSize"] == len(z.content)


def stream_request(client: TestClient, path: str, headers: dict[str, str], chunks: AsyncIterator[bytes]) -> int:
    """Sends a body chunk by chunk straight to the running app (TestClient sends it whole first)."""
    done = asyncio.Event()
    statuses: list[int] = []
    ended: list[bool] = []

    async def receive() -> dict[str, Any]:
        if ended:  # the body is over: a client waits for the whole answer, then hangs up
            await done.wait()
            return {"type": "http.disconnect"}
        chunk = await anext(chunks, None)
        if chunk is not None:
            return {"type": "http.request", "body": chunk, "more_body": True}
        ended.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    all_headers = {**client.headers, **headers}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in all_headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    client.portal.call(client.app, scope, receive, send)  # type: ignore[union-attr]
    return statuses[0]


def test_the_batch_job_exists_while_its_files_still_upload(tools_client: TestClient) -> None:
    boundary = "lutraboundary"
    field = f'--{boundary}\r\nContent-Disposition: form-data; name="clientJobId"\r\n\r\nearly-bird\r\n'.encode()
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'.encode()
    seen: dict[str, Any] = {}

    async def body() -> AsyncIterator[bytes]:  # runs on the app's event loop, between its reads
        yield field + head  # a part ends where the next boundary starts
        # The server has read the id but not one byte of the file: the job is there already.
        with database() as db:
            job = db.get(Job, "early-bird")
            seen["row"] = (job.status, job.kind) if job else None
        seen["latest"] = await tools_client.app.state.jobs.bus.latest("early-bird")
        yield png()
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    assert stream_request(tools_client, "/api/v1/tools/files/test-copy/batch", headers, body()) == 200
    assert seen["row"] == ("queued", "batch")
    assert seen["latest"]["type"] == "batch" and seen["latest"]["message"] == "Receiving files"
    assert tools_client.get("/api/v1/jobs/early-bird").json()["status"] == "completed"
