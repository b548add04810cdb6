"""The committed openapi.yaml is the document the app serves."""

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_matches_served(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.yaml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/yaml")
    served = yaml.safe_load(r.text)
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert committed == served, "openapi.yaml is stale: run `.venv/bin/lutra export-openapi`"
    assert served["openapi"].startswith("3.1")
    assert "/api/auth/login" in served["paths"]
