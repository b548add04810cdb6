"""The usage report counts what the user asked for: batches with their ZIP's bytes out, pipelines under a
"pipeline" section, and never the UI's own look-ups (a PDF page preview, a file's info)."""

from __future__ import annotations

import io
import json
import time
import zipfile

from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas

from tests.engine.helpers import png
from tests.files.helpers import user_client


def _pdf(pages: int = 2) -> bytes:
    out = io.BytesIO()
    doc = canvas.Canvas(out, pagesize=(200, 200))
    for n in range(pages):
        doc.drawString(20, 100, f"page {n + 1}")
        doc.showPage()
    doc.save()
    return out.getvalue()


def test_batches_pipelines_and_lookups(tools_client: TestClient) -> None:
    alice = user_client(tools_client, "alice")
    image = png(12, 12)

    # A batch of three: one job whose bytes out are the ZIP it answered.
    files = [("files", (f"{n}.png", image, "image/png")) for n in "abc"]
    r = alice.post("/api/v1/tools/files/test-copy/batch", files=files)
    assert r.status_code == 200, r.text
    assert len(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == 3
    zip_size = len(r.content)

    # A pipeline on one file: counted under "pipeline", not under an empty section.
    pipeline = json.dumps({"steps": [{"toolId": "test-copy", "settings": {}}]})
    r = alice.post(
        "/api/v1/pipeline/execute", files={"file": ("p.png", image, "image/png")}, data={"pipeline": pipeline}
    )
    assert r.status_code == 200, r.text

    # The UI's previews of a PDF's pages and its page count are look-ups, not jobs the user ran.
    pdf = _pdf()
    for page in (1, 2):
        r = alice.post(
            "/api/v1/tools/pdf/pdf-to-image/preview",
            files={"file": ("d.pdf", pdf, "application/pdf")},
            data={"settings": json.dumps({"page": page, "dpi": 36})},
        )
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG", r.text[:200]
    r = alice.post("/api/v1/tools/pdf/pdf-to-image/info", files={"file": ("d.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text

    report = alice.get("/api/v1/usage").json()
    assert report["jobs"] == {"total": 2, "succeeded": 2, "failed": 0, "canceled": 0}
    sections = {s["section"]: s for s in report["bySection"]}
    assert set(sections) == {"files", "pipeline"}
    assert (sections["files"]["total"], sections["files"]["bytesIn"]) == (1, 3 * len(image))
    assert sections["files"]["bytesOut"] == zip_size > 0
    assert (sections["pipeline"]["total"], sections["pipeline"]["bytesIn"]) == (1, len(image))
    assert sections["pipeline"]["bytesOut"] == len(image)  # test-copy's output is the input, unchanged
    assert report["bytesOut"] == zip_size + len(image)
    assert {(t["section"], t["toolId"]) for t in report["byTool"]} == {("files", "test-copy"), ("pipeline", "pipeline")}

    # The look-ups still ran (they are in the job list), they just are not usage.
    jobs = alice.get("/api/v1/jobs", params={"limit": 50}).json()["jobs"]
    assert sum(1 for j in jobs if j["kind"] == "lookup" and j["tool"] == "pdf-to-image") == 3


def test_an_async_pipeline_batch_counts_its_zip(tools_client: TestClient) -> None:
    alice = tools_client  # the client that runs the app: its background tasks outlive the request
    image = png(10, 10)
    pipeline = json.dumps({"steps": [{"toolId": "test-copy", "settings": {}}]})
    files = [("files", (f"{n}.png", image, "image/png")) for n in "ab"]
    r = alice.post("/api/v1/pipeline/batch", files=files, data={"pipeline": pipeline}, params={"async": "true"})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    deadline = time.monotonic() + 60
    while (job := alice.get(f"/api/v1/jobs/{job_id}").json())["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "completed", job
    zipped = alice.get(job["result"]["downloadUrl"])
    assert zipped.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()) == 2

    report = alice.get("/api/v1/usage").json()
    assert report["jobs"]["total"] == 1 and [s["section"] for s in report["bySection"]] == ["pipeline"]
    assert report["bytesIn"] == 2 * len(image) and report["bytesOut"] == len(zipped.content)
