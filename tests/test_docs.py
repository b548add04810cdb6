"""API docs: interactive page, OpenAPI (YAML and JSON), llms.txt and llms-full.txt, all public."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi.testclient import TestClient

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a safe loader: the C one when available


PLATFORM_OPERATIONS = [
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/session"),
    ("post", "/api/auth/change-password"),
    ("get", "/api/auth/users"),
    ("post", "/api/auth/register"),
    ("put", "/api/auth/users/{user_id}"),
    ("delete", "/api/auth/users/{user_id}"),
    ("post", "/api/auth/users/{user_id}/reset-password"),
    ("get", "/api/v1/config/auth"),
    ("post", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{key_id}"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("put", "/api/v1/teams/{team_id}"),
    ("delete", "/api/v1/teams/{team_id}"),
    ("get", "/api/v1/settings"),
    ("put", "/api/v1/settings"),
    ("get", "/api/v1/settings/{key}"),
    ("get", "/api/v1/roles"),
    ("post", "/api/v1/roles"),
    ("put", "/api/v1/roles/{role_id}"),
    ("delete", "/api/v1/roles/{role_id}"),
    ("get", "/api/v1/audit-log"),
    ("get", "/api/v1/health"),
    ("get", "/api/v1/admin/health"),
    ("get", "/api/v1/config/analytics"),
    ("put", "/api/v1/user/analytics"),
]


def test_interactive_docs_are_public_html(client: TestClient) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in r.text.lower()
    assert "/api/v1/openapi.json" in r.text
    # The document the page loads is public too, and is the same as the YAML one.
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json() == load_yaml(client.get("/api/v1/openapi.yaml").text)


def test_openapi_yaml_describes_the_platform(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.yaml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/yaml")
    spec = load_yaml(r.text)
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "Lutra"
    assert spec["info"]["version"]
    for method, path in PLATFORM_OPERATIONS:
        assert path in spec["paths"], path
        op = spec["paths"][path].get(method)
        assert op is not None, (method, path)
        assert op.get("summary"), (method, path)
    # Documentation routes themselves are not API operations.
    assert "/llms.txt" not in spec["paths"]
    # Query parameters of the audit log are documented.
    params = {p["name"] for p in spec["paths"]["/api/v1/audit-log"]["get"]["parameters"]}
    assert params >= {"page", "limit", "action", "from", "to"}


def test_llms_txt_lists_the_endpoints(client: TestClient) -> None:
    r = client.get("/llms.txt")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert text.startswith("# Lutra")
    for method, path in PLATFORM_OPERATIONS:
        assert f"- {method.upper()} {path}:" in text, (method, path)


def test_llms_full_txt_adds_parameters_and_schemas(client: TestClient) -> None:
    short = client.get("/llms.txt").text
    r = client.get("/llms-full.txt")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    full = r.text
    assert len(full) > len(short)
    for method, path in PLATFORM_OPERATIONS:
        assert f"- {method.upper()} {path}:" in full, (method, path)
    assert "## Schemas" in full
    assert "query `limit`" in full
    assert "body (application/json)" in full


def test_docs_need_no_credentials_even_with_a_bad_one(client: TestClient) -> None:
    bad = {"Authorization": "Bearer nonsense"}
    for path in ("/api/docs", "/api/v1/openapi.yaml", "/api/v1/openapi.json", "/llms.txt", "/llms-full.txt"):
        assert client.get(path).status_code == 200, path
        assert client.get(path, headers=bad).status_code == 200, path


def test_docs_load_their_assets_from_this_server(client: TestClient) -> None:
    """Self-hosted servers often have no internet: the docs page must not need a CDN."""
    page = client.get("/api/docs").text
    assert "cdn." not in page and "https://" not in page
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css"):
        assert asset in page
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 10_000
