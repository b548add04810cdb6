"""The OpenAPI document and the catalog say which tools answer 202 (a job) and which 200 (the result)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.engine import registry
from tests.engine.helpers import png, post_tool


def test_openapi_declares_202_with_job_id_for_every_async_tool(tools_client: TestClient) -> None:
    doc = tools_client.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    accepted = schemas["JobAccepted"]
    assert set(accepted["required"]) == {"jobId", "async"} and accepted["properties"]["async"]["const"] is True
    tools = registry.all_tools()
    assert any(t.long for t in tools) and any(not t.long for t in tools)
    for tool in tools:
        responses = doc["paths"][tool.path]["post"]["responses"]
        if tool.long:
            assert "200" not in responses, tool.id
            schema = responses["202"]["content"]["application/json"]["schema"]
            assert schema["$ref"] == "#/components/schemas/JobAccepted", tool.id
        else:
            assert "202" not in responses, tool.id
            assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ToolAnswer")
    pipeline = doc["paths"]["/api/v1/pipeline/execute"]["post"]["responses"]
    assert {"200", "202"} <= set(pipeline)


def test_catalog_says_async_and_the_routes_answer_accordingly(tools_client: TestClient) -> None:
    catalog = {t["id"]: t for t in tools_client.get("/api/v1/tools").json()["tools"]}
    assert all(t["async"] is registry.get(i).long for i, t in catalog.items())
    assert tools_client.get("/api/v1/tools/files/test-sleep").json()["async"] is True
    assert catalog["test-copy"]["async"] is False
    r = post_tool(tools_client, "files/test-sleep", [("a.png", png())], {"seconds": 0.1, "steps": 1})
    assert r.status_code == 202 and set(r.json()) == {"jobId", "async"} and r.json()["async"] is True
    r = post_tool(tools_client, "files/test-copy", [("a.png", png())])
    assert r.status_code == 200 and "downloadUrl" in r.json()
