"""Pipelines through the HTTP API: execute, batch, validation before running, save/list/delete."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.conftest import auth, create_user, make_client
from tests.engine.conftest import sign_in_admin


@pytest.fixture
def pclient(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """Admin client on an app whose catalog includes the engine's test tools."""
    monkeypatch.setenv("TOOL_MODULES", "tests.engine_tools")
    monkeypatch.setenv("MAX_PIPELINE_STEPS", "4")
    with make_client() as c:
        sign_in_admin(c)
        yield c


def png(width: int = 80, height: int = 60) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + [200, 30, 30]).cast("uchar")
    return image.copy(interpretation="srgb").write_to_buffer(".png")


def run(c: TestClient, steps: list[dict], data: bytes | None = None, name: str = "photo.png"):
    return c.post(
        "/api/v1/pipeline/execute",
        files={"file": (name, data if data is not None else png(), "image/png")},
        data={"pipeline": json.dumps({"steps": steps})},
    )


def test_steps_chain_and_report(pclient: TestClient) -> None:
    steps = [
        {"toolId": "resize", "settings": {"width": 40}},
        {"toolId": "rotate", "settings": {"angle": 90}},
    ]
    r = run(pclient, steps, png(80, 60))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stepsCompleted"] == 2
    assert [s["toolId"] for s in body["steps"]] == ["resize", "rotate"]
    assert [s["step"] for s in body["steps"]] == [1, 2]
    out = pclient.get(body["downloadUrl"])
    assert out.status_code == 200
    image = pyvips.Image.new_from_buffer(out.content, "")
    # 80x60 resized to width 40 is 40x30; turned 90 degrees it is 30x40.
    assert (image.width, image.height) == (30, 40)
    assert body["steps"][-1]["size"] == body["processedSize"] == len(out.content)


def test_every_step_is_validated_before_anything_runs(pclient: TestClient) -> None:
    steps = [
        {"toolId": "test-sleep", "settings": {"seconds": 30}},
        {"toolId": "resize", "settings": {"width": -5}},
    ]
    r = run(pclient, steps)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["error"].startswith("Step 2 (resize): ")
    assert "width" in body["details"]
    # Nothing ran: the 30 s first step would otherwise still be sleeping in a worker.
    assert pclient.app.state.runner.stats()["active"] == 0


@pytest.mark.parametrize(
    ("pipeline", "code"),
    [
        ('{"steps": []}', "VALIDATION_ERROR"),
        ("not json", "INVALID_PIPELINE"),
        ('{"steps": [{"toolId": "no-such-tool"}]}', "UNKNOWN_TOOL"),
        ('{"steps": [{"toolId": "resize", "settings": {"colour": 1}}]}', "VALIDATION_ERROR"),
        (json.dumps({"steps": [{"toolId": "test-copy"}] * 5}), "TOO_MANY_STEPS"),
    ],
)
def test_bad_definitions(pclient: TestClient, pipeline: str, code: str) -> None:
    r = pclient.post("/api/v1/pipeline/execute", files={"file": ("a.png", png())}, data={"pipeline": pipeline})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code


def test_missing_pipeline_and_file(pclient: TestClient) -> None:
    r = pclient.post("/api/v1/pipeline/execute", files={"file": ("a.png", png())})
    assert (r.status_code, r.json()["code"]) == (400, "NO_PIPELINE")
    r = pclient.post(
        "/api/v1/pipeline/execute", files={"other": ("x", b"")}, data={"pipeline": '{"steps":[{"toolId":"test-copy"}]}'}
    )
    assert r.status_code == 400


def test_first_step_decides_accepted_input(pclient: TestClient) -> None:
    r = run(pclient, [{"toolId": "resize", "settings": {"width": 10}}], b"%PDF-1.4 not an image", "doc.pdf")
    assert r.status_code == 415
    assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_long_step_makes_pipeline_async_with_step_progress(pclient: TestClient) -> None:
    steps = [{"toolId": "test-copy"}, {"toolId": "test-sleep", "settings": {"seconds": 0.4, "steps": 4}}]
    r = run(pclient, steps)
    assert r.status_code == 202
    job_id = r.json()["jobId"]
    frames = []
    with pclient.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
    assert frames[-1]["status"] == "completed"
    assert frames[-1]["result"]["stepsCompleted"] == 2
    stages = [f["message"] for f in frames if f["status"] == "processing" and f["message"]]
    assert any(s.startswith("Step 2 (test-sleep)") for s in stages), stages
    percents = [f["progress"] for f in frames]
    assert percents == sorted(percents) and percents[-1] == 100


def test_failing_step_names_the_step(pclient: TestClient) -> None:
    r = run(pclient, [{"toolId": "test-copy"}, {"toolId": "test-fail"}])
    assert r.status_code == 422
    assert r.json()["error"].startswith("Processing failed: Step 2 (test-fail): ")


def test_batch_returns_zip_of_every_file(pclient: TestClient) -> None:
    steps = [{"toolId": "resize", "settings": {"width": 20}}]
    files = [("files", ("a.png", png(40, 40))), ("files", ("a.png", png(60, 30))), ("files", ("c.png", b"junk"))]
    r = pclient.post("/api/v1/pipeline/batch", files=files, data={"pipeline": json.dumps({"steps": steps})})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    results = json.loads(unquote(r.headers["x-file-results"]))
    errors = json.loads(unquote(r.headers["x-file-errors"]))
    assert set(results) == {"0", "1"} and set(errors) == {"2"}
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(results.values()) and len(set(names)) == 2
        sizes = sorted(pyvips.Image.new_from_buffer(archive.read(n), "").height for n in names)
    assert sizes == [10, 20]


def test_saved_pipelines_belong_to_their_owner(pclient: TestClient) -> None:
    steps = [{"toolId": "resize", "settings": {"width": 100}}]
    r = pclient.post("/api/v1/pipeline/save", json={"name": "Thumbs", "description": "small", "steps": steps})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["steps"] == steps and saved["name"] == "Thumbs"
    r = pclient.post(
        "/api/v1/pipeline/save", json={"name": "Bad", "steps": [{"toolId": "resize", "settings": {"fit": "nope"}}]}
    )
    assert r.status_code == 400 and "fit" in r.json()["details"]

    user = create_user(pclient, "pipeuser")
    mine = pclient.post("/api/v1/pipeline/save", json={"name": "Mine", "steps": steps}, headers=auth(user)).json()
    listed = pclient.get("/api/v1/pipeline/list", headers=auth(user)).json()["pipelines"]
    assert [p["name"] for p in listed] == ["Mine"]
    # The admin holds pipelines:all and sees both.
    assert {p["name"] for p in pclient.get("/api/v1/pipeline/list").json()["pipelines"]} == {"Thumbs", "Mine"}
    r = pclient.delete(f"/api/v1/pipeline/{saved['id']}", headers=auth(user))
    assert r.status_code == 404
    assert pclient.delete(f"/api/v1/pipeline/{mine['id']}").json() == {"ok": True}
    assert pclient.get("/api/v1/pipeline/list", headers=auth(user)).json()["pipelines"] == []


def test_pipeline_tools_lists_chainable_tools(pclient: TestClient) -> None:
    ids = pclient.get("/api/v1/pipeline/tools").json()["toolIds"]
    assert {"resize", "rotate", "crop", "test-copy"} <= set(ids)
    pclient.put("/api/v1/settings", json={"disabledTools": ["rotate"]})
    assert "rotate" not in pclient.get("/api/v1/pipeline/tools").json()["toolIds"]
    r = run(pclient, [{"toolId": "rotate", "settings": {"angle": 90}}])
    assert r.status_code == 400 and r.json()["code"] == "UNKNOWN_TOOL"
