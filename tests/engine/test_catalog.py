"""GET /api/v1/tools and the per-tool routes' visibility: schema, disabledTools, experimental, auth."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.assertions import AUTH_REQUIRED, assert_error
from tests.conftest import auth, create_user
from tests.engine.helpers import png, post_tool


def listed(client: TestClient) -> dict[str, dict]:
    r = client.get("/api/v1/tools")
    assert r.status_code == 200, r.text
    return {t["id"]: t for t in r.json()["tools"]}


def test_catalog_lists_tools_with_inputs_and_settings_schema(tools_client: TestClient) -> None:
    tools = listed(tools_client)
    sleep = tools["test-sleep"]
    assert sleep["section"] == "files"
    assert sleep["title"] == "Sleep"
    assert sleep["description"] == "Waits, reporting progress."
    assert sleep["long"] is True
    assert sleep["endpoint"] == "/api/v1/tools/files/test-sleep"
    assert sleep["inputs"]["kinds"] == ["image", "pdf", "zip"]
    assert (sleep["inputs"]["minFiles"], sleep["inputs"]["maxFiles"]) == (1, 1)
    assert sleep["inputs"]["jsonBody"] is False
    schema = sleep["settingsSchema"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    seconds = schema["properties"]["seconds"]
    assert (seconds["type"], seconds["minimum"], seconds["maximum"], seconds["default"]) == ("number", 0, 60, 1.0)
    assert schema["properties"]["steps"]["type"] == "integer"

    copy = tools["test-copy"]
    assert copy["long"] is False
    assert copy["inputs"]["maxFiles"] == 3
    echo = tools["test-echo"]
    assert echo["inputs"]["jsonBody"] is True
    assert echo["settingsSchema"]["required"] == ["text"]
    # Every entry carries the same fields, real tools included.
    for entry in tools.values():
        assert {"id", "section", "title", "description", "inputs", "settingsSchema", "endpoint"} <= set(entry)
        assert entry["section"] in ("image", "video", "audio", "pdf", "files")
        assert entry["settingsSchema"]["type"] == "object"

    r = tools_client.get("/api/v1/tools/files/test-sleep")
    assert r.status_code == 200, r.text
    assert r.json() == sleep


def test_unknown_tool_and_wrong_section_are_404(tools_client: TestClient) -> None:
    for path in ("files/no-such-tool", "image/test-copy", "nosection/test-copy"):
        assert_error(tools_client.get(f"/api/v1/tools/{path}"), 404, "TOOL_NOT_FOUND")
        assert_error(post_tool(tools_client, path, [("a.png", png())]), 404, "TOOL_NOT_FOUND")
        assert_error(tools_client.post(f"/api/v1/tools/{path}/batch", files=[]), 404, "TOOL_NOT_FOUND")


def test_disabled_tools_are_hidden_and_answer_404(tools_client: TestClient) -> None:
    r = tools_client.put("/api/v1/settings", json={"disabledTools": ["test-copy"]})
    assert r.status_code == 200, r.text
    tools = listed(tools_client)
    assert "test-copy" not in tools
    assert "test-sleep" in tools
    assert_error(tools_client.get("/api/v1/tools/files/test-copy"), 404, "TOOL_NOT_FOUND")
    assert_error(post_tool(tools_client, "files/test-copy", [("a.png", png())]), 404, "TOOL_NOT_FOUND")
    assert_error(post_tool(tools_client, "files/test-copy/batch", [("a.png", png())], field="files"), 404)

    r = tools_client.put("/api/v1/settings", json={"disabledTools": []})
    assert r.status_code == 200, r.text
    assert "test-copy" in listed(tools_client)
    r = post_tool(tools_client, "files/test-copy", [("a.png", png())])
    assert r.status_code == 200, r.text


def test_experimental_tools_need_the_setting(tools_client: TestClient) -> None:
    assert "test-experimental" not in listed(tools_client)
    assert_error(tools_client.get("/api/v1/tools/files/test-experimental"), 404, "TOOL_NOT_FOUND")
    assert_error(post_tool(tools_client, "files/test-experimental", [("a.png", png())]), 404, "TOOL_NOT_FOUND")

    r = tools_client.put("/api/v1/settings", json={"enableExperimentalTools": "true"})
    assert r.status_code == 200, r.text
    assert listed(tools_client)["test-experimental"]["experimental"] is True
    image = png(colour=(1, 2, 3))
    r = post_tool(tools_client, "files/test-experimental", [("a.png", image)])
    assert r.status_code == 200, r.text
    assert tools_client.get(r.json()["downloadUrl"]).content == image


def test_tools_need_authentication(tools_client: TestClient) -> None:
    anonymous = TestClient(tools_client.app, base_url="http://testserver")
    assert_error(anonymous.get("/api/v1/tools"), 401, **AUTH_REQUIRED)
    assert_error(anonymous.get("/api/v1/tools/files/test-copy"), 401, "AUTH_REQUIRED")
    assert_error(post_tool(anonymous, "files/test-copy", [("a.png", png())]), 401, "AUTH_REQUIRED")
    assert_error(post_tool(anonymous, "files/test-copy/batch", [("a.png", png())], field="files"), 401)


def test_tools_need_the_tools_use_permission(tools_client: TestClient) -> None:
    r = tools_client.post("/api/v1/roles", json={"name": "viewer", "permissions": ["files:own", "settings:read"]})
    assert r.status_code == 201, r.text
    viewer = auth(create_user(tools_client, "vera", role="viewer"))
    assert_error(post_tool(tools_client, "files/test-copy", [("a.png", png())], headers=viewer), 403, "FORBIDDEN")
    r = tools_client.post(
        "/api/v1/tools/files/test-copy/batch",
        files=[("files", ("a.png", png(), "image/png"))],
        headers=viewer,
    )
    assert_error(r, 403, "FORBIDDEN")
    # A plain user holds tools:use.
    user = auth(create_user(tools_client, "ursula"))
    r = post_tool(tools_client, "files/test-copy", [("a.png", png())], headers=user)
    assert r.status_code == 200, r.text
