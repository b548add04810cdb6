"""POST /api/v1/tools/<section>/<id>/batch: one ZIP, per-file results and errors, limits, flat memory."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from urllib.parse import unquote

import psutil
from fastapi.testclient import TestClient

from app.models import Job
from tests.assertions import assert_error, database
from tests.engine.conftest import StartApp
from tests.engine.helpers import TEXT, garbage, multipart_files, png, read_events

BATCH = "/api/v1/tools/files/test-copy/batch"


def post_batch(client: TestClient, files: list[tuple[str, bytes]], path: str = BATCH):
    return client.post(path, files=multipart_files(files, "files"))


def test_batch_answers_one_zip_with_per_file_results(tools_client: TestClient) -> None:
    first, second, third = png(colour=(1, 1, 1)), png(colour=(2, 2, 2)), png(colour=(3, 3, 3))
    files = [("same.png", first), ("noise.png", garbage()), ("same.png", second), ("other.png", third)]
    r = post_batch(tools_client, files)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="batch-test-copy-')
    assert int(r.headers["content-length"]) == len(r.content)
    job_id = r.headers["x-job-id"]
    results = json.loads(unquote(r.headers["x-file-results"]))
    errors = json.loads(unquote(r.headers["x-file-errors"]))
    assert results == {"0": "same.png", "2": "same_1.png", "3": "other.png"}
    assert list(errors) == ["1"]
    assert errors["1"]["filename"] == "noise.png"
    assert "noise.png" in errors["1"]["error"]
    for header in ("X-Job-Id", "X-File-Results", "X-File-Errors"):
        assert header in r.headers["access-control-expose-headers"]

    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert sorted(names) == ["other.png", "same.png", "same_1.png"]
        assert len(set(names)) == len(names)
        assert z.read("same.png") == first
        assert z.read("same_1.png") == second
        assert z.read("other.png") == third

    with database() as db:
        job = db.get(Job, job_id)
        assert job is not None
        assert (job.kind, job.status, job.tool_id) == ("batch", "completed", "test-copy")
        assert job.result["fileResults"] == results
        assert job.result["failedFiles"] == 1
    events = read_events(tools_client, job_id)
    assert events[-1]["status"] == "completed"


def test_batch_limits_and_total_failure(start_app: StartApp) -> None:
    client = start_app(MAX_BATCH_SIZE="2")
    three = [(f"{i}.png", png(colour=(i, 0, 0))) for i in range(3)]
    body = assert_error(post_batch(client, three), 400, "TOO_MANY_FILES")
    assert "2" in body["error"]
    two = three[:2]
    r = post_batch(client, two)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert {n: z.read(n) for n in z.namelist()} == dict(two)

    body = assert_error(post_batch(client, [("a.txt", TEXT), ("b.png", b"")]), 422, "BATCH_FAILED")
    assert {e["filename"] for e in body["details"]["errors"]} == {"a.txt", "b.png"}
    # Failures in the tool itself are reported the same way.
    body = assert_error(post_batch(client, [("a.png", png())], "/api/v1/tools/files/test-fail/batch"), 422)
    assert body["details"]["errors"][0]["error"] == "this input has no pixels worth keeping"
    assert_error(client.post(BATCH, files=[]), 400)


def test_batch_of_many_images_keeps_memory_flat(start_app: StartApp) -> None:
    """500 images through one batch: the server's resident memory must not grow with the batch."""
    client = start_app()
    count = 500
    files = [(f"img{i % 50}.png", png(width=16, height=16, colour=(i % 256, i // 256, 7))) for i in range(count)]
    post_batch(client, files[:4])  # warm up workers and code paths before measuring
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    r = post_batch(client, files)
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    assert r.status_code == 200, r.text[:300]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert len(names) == len(set(names)) == count
        assert z.read("img3.png") == files[3][1]
        assert z.read("img3_9.png") == files[453][1]
    growth_mb = (peak[0] - baseline) / 2**20
    # The request body and the ZIP themselves are ~0.1 MB each here: anything near the bound would
    # mean per-file state piling up.
    print(f"batch of {count}: {elapsed:.1f} s, peak RSS growth {growth_mb:.1f} MB")
    assert growth_mb < 100, f"resident memory grew {growth_mb:.0f} MB over a {count}-file batch"
    assert elapsed < 90, f"a {count}-file batch took {elapsed:.0f} s"


def test_a_batch_cancelled_before_any_file_finished_ends_canceled(start_app: StartApp) -> None:
    client = start_app(CONCURRENT_JOBS="1")
    files = multipart_files([(f"p{i}.png", png(colour=(i, i, i))) for i in range(4)], "files")
    r = client.post(
        "/api/v1/tools/files/test-sleep/batch?async=true",
        files=files,
        data={"settings": json.dumps({"seconds": 20, "steps": 100})},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    deadline = time.monotonic() + 15
    while client.app.state.runner.stats()["active"] == 0:  # the first file is running
        assert time.monotonic() < deadline, "the batch's first file never started"
        time.sleep(0.1)
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
    final = read_events(client, job_id)[-1]
    assert (final["status"], final["error"]) == ("canceled", "Canceled"), final
    assert final["totalFiles"] == 4 and final["failedFiles"] == 4
    with database() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.status == "canceled"
        assert {e["error"] for e in job.result["errors"].values()} == {"Canceled"}
