"""A tool writes into a hidden work folder that takes the output folder's name only when the job
completed: while it writes, and after it fails or its process dies mid-write, nothing half-written lies
under an output's real name."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine.execute import partial_dir
from tests.engine.conftest import StartApp
from tests.engine.helpers import png, post_tool

FULL = b"\x1a\x45\xdf\xa3 first half second half"


def _wait_for(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _status(client: TestClient, job_id: str) -> str:
    return str(client.get(f"/api/v1/jobs/{job_id}").json()["status"])


@pytest.mark.parametrize("then", ["finish", "fail", "crash"])
def test_outputs_appear_only_complete(start_app: StartApp, tmp_path: Path, then: str) -> None:
    c = start_app()
    gate = tmp_path / "gate"
    r = post_tool(c, "files/test-half-write", [("a.png", png())], {"then": then, "gate": str(gate)})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    out = c.app.state.jobs.output_dir(job_id)
    work = partial_dir(out)

    # Half the file is written: it exists only in the hidden work folder, never under its real name.
    _wait_for(lambda: (work / "result.webm").is_file(), "the first half")
    assert not (out / "result.webm").exists()
    assert c.get(f"/api/v1/download/{job_id}/result.webm").status_code in (404, 409)

    gate.touch()
    _wait_for(lambda: _status(c, job_id) in ("completed", "failed"), "the job to end")
    assert not work.exists()  # removed in every case, even when the worker died mid-write
    if then == "finish":
        assert _status(c, job_id) == "completed"
        assert (out / "result.webm").read_bytes() == FULL
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        assert c.get(job["result"]["downloadUrl"]).content == FULL
    else:
        assert _status(c, job_id) == "failed"
        assert not (out / "result.webm").exists()
        assert c.get(f"/api/v1/download/{job_id}/result.webm").status_code in (404, 409)


def test_a_pipeline_publishes_only_its_last_step(start_app: StartApp) -> None:
    c = start_app()
    pipeline = '{"steps": [{"toolId": "test-copy", "settings": {}}, {"toolId": "test-copy", "settings": {}}]}'
    image = png(6, 6)
    r = c.post("/api/v1/pipeline/execute", files={"file": ("p.png", image, "image/png")}, data={"pipeline": pipeline})
    assert r.status_code == 200, r.text
    out = c.app.state.jobs.output_dir(r.json()["jobId"])
    assert sorted(p.name for p in out.iterdir()) == ["p.png"] and (out / "p.png").read_bytes() == image
    assert not partial_dir(out).exists()
