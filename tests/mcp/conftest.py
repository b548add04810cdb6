"""MCP tests drive a real `lutra serve` subprocess (the browser tests' `server` fixture) with the
official MCP client SDK."""

from __future__ import annotations

import pytest

from tests.web.conftest import Server, server

__all__ = ["server"]  # the fixture, re-exported for this folder's tests


@pytest.fixture(scope="module")
def admin_key(server: Server) -> str:
    r = server.api().post("/api/v1/api-keys", json={"name": "mcp"})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])
