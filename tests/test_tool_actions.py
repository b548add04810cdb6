"""Tool sub-routes (actions) and tools whose upload is optional."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.conftest import make_client
from tests.engine.conftest import sign_in_admin


@pytest.fixture
def tclient(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOOL_MODULES", "tests.engine_tools")
    with make_client() as c:
        sign_in_admin(c)
        yield c


def png() -> bytes:
    return pyvips.Image.black(30, 20).write_to_buffer(".png")


def test_json_action_answers_data(tclient: TestClient) -> None:
    data = png()
    r = tclient.post("/api/v1/tools/files/test-copy/inspect", files={"file": ("a.png", data)})
    assert r.status_code == 200, r.text
    assert r.json() == {"sizes": [len(data)], "kinds": ["png"]}


def test_file_action_answers_the_file_with_headers(tclient: TestClient) -> None:
    data = png()
    r = tclient.post("/api/v1/tools/files/test-copy/preview", files={"file": ("a.png", data)})
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-original-size"] == str(len(data))


def test_actions_are_listed_and_checked_like_the_tool(tclient: TestClient) -> None:
    tool = tclient.get("/api/v1/tools/files/test-copy").json()
    assert {a["name"] for a in tool["actions"]} == {"inspect", "preview"}
    r = tclient.post("/api/v1/tools/files/test-copy/inspect", files={"file": ("a.png", b"not an image")})
    assert r.status_code == 415
    tclient.put("/api/v1/settings", json={"disabledTools": ["test-copy"]})
    r = tclient.post("/api/v1/tools/files/test-copy/inspect", files={"file": ("a.png", png())})
    assert r.status_code == 404


def test_optional_upload_takes_json_or_multipart(tclient: TestClient) -> None:
    r = tclient.post("/api/v1/tools/files/test-optional", json={"text": "hi"})
    assert r.status_code == 200, r.text
    assert tclient.get(r.json()["downloadUrl"]).text == "hi:0"
    r = tclient.post(
        "/api/v1/tools/files/test-optional", files={"file": ("a.png", png())}, data={"settings": '{"text": "yo"}'}
    )
    assert r.status_code == 200, r.text
    assert tclient.get(r.json()["downloadUrl"]).text == "yo:1"
    r = tclient.post("/api/v1/tools/files/test-optional", json={"text": "x" * 101})
    assert r.status_code == 400 and "text" in r.json()["details"]
