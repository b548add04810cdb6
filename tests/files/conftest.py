"""File library tests run an app with the test-only tools, signed in as admin (the engine fixtures)."""

from __future__ import annotations

from tests.engine.conftest import engine_env, start_app, tools_client

__all__ = ["engine_env", "start_app", "tools_client"]
