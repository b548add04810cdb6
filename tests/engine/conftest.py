"""Engine test fixtures: apps with the test-only tools loaded (TOOL_MODULES), signed in as admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_client, sign_in_admin
from tests.engine.helpers import TOOL_MODULES

# Settings the engine tests change; each is registered with monkeypatch so it is restored afterwards
# (make_client writes os.environ directly).
ENGINE_VARS = (
    "TOOL_MODULES",
    "MAX_UPLOAD_SIZE_MB",
    "MAX_MEGAPIXELS",
    "JOB_TIMEOUT_S",
    "MAX_BATCH_SIZE",
    "CONCURRENT_JOBS",
    "FILE_MAX_AGE_HOURS",
)

StartApp = Callable[..., TestClient]


@pytest.fixture
def engine_env(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ENGINE_VARS:
        monkeypatch.setenv(var, "")  # recorded, so the original value (or absence) comes back
        monkeypatch.delenv(var)
    monkeypatch.setenv("TOOL_MODULES", TOOL_MODULES)
    return app_env


@pytest.fixture
def start_app(engine_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartApp]:
    """Starts an app (running lifespan) with extra settings, signed in as admin; stopped at teardown.

    Only one app may run at a time (the database engine is process-wide): stop one with
    `client.__exit__(None, None, None)` before starting the next on the same data folder.
    """
    started: list[TestClient] = []

    def start(first_start: bool = True, **env: str) -> TestClient:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        client = make_client()
        client.__enter__()
        started.append(client)
        sign_in_admin(client, first_start)
        return client

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


@pytest.fixture
def tools_client(start_app: StartApp) -> TestClient:
    """A fresh app with the test-only tools, signed in as admin."""
    return start_app()
