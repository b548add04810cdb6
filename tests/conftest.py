"""Test fixtures: the real app over HTTP (in-process ASGI), on SQLite and, when TEST_DATABASE_URL is
set, on PostgreSQL too. Every test gets a fresh data folder and an empty, migrated database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth.principal_cache import principals
from app.auth.throttle import api_limiter, login_failures
from app.auth.tokens import verified_keys
from app.config import get_settings
from app.migrate import upgrade
from app.models import Base

ADMIN_PASSWORD = "admin-password-1"
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str | None]:
    """One database per xdist worker, created on the server named by TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    url = make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"lutra_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(test_url)
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app_env(backend: str, postgres_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment for one app instance; returns its DATA_DIR. Tests may set more env vars first."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    if backend == "postgres":
        assert postgres_url is not None
        _empty_postgres(postgres_url)
        monkeypatch.setenv("DATABASE_URL", postgres_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    for var in ("AUTH_ENABLED", "RATE_LIMIT_PER_MIN", "DEFAULT_USERNAME", "DEFAULT_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    login_failures.clear()
    api_limiter.clear()
    verified_keys.clear()
    principals.clear()
    yield data_dir
    get_settings.cache_clear()


def make_client(**env: str) -> TestClient:
    """Builds the app after applying extra settings (call inside a test that uses app_env)."""
    for key, value in env.items():
        os.environ[key] = value
    get_settings.cache_clear()
    from app.main import create_app

    return TestClient(create_app(), base_url="http://testserver")


@pytest.fixture
def client(app_env: Path) -> Iterator[TestClient]:
    """An anonymous client against a fresh app (first-start admin/admin exists)."""
    with make_client() as c:
        yield c


def login(client: TestClient, username: str, password: str) -> str:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_token(client: TestClient) -> str:
    """The first-start admin, past its forced password change."""
    token = login(client, "admin", "admin")
    r = client.post(
        "/api/auth/change-password",
        json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return token


@pytest.fixture
def admin(client: TestClient, admin_token: str) -> TestClient:
    """The client, authenticated as admin through the Authorization header."""
    client.headers.update(auth(admin_token))
    return client


def create_user(admin_client: TestClient, username: str, password: str = "user-password-1", role: str = "user") -> str:
    """Registers a user and completes its first-login password change; returns a session token."""
    r = admin_client.post("/api/auth/register", json={"username": username, "password": password, "role": role})
    assert r.status_code == 201, r.text
    fresh = password + "-new"
    # No `with`: the app is already running; a second lifespan would reset the shared engine.
    other = TestClient(admin_client.app, base_url="http://testserver")
    token = login(other, username, password)
    r = other.post(
        "/api/auth/change-password",
        json={"currentPassword": password, "newPassword": fresh},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    return token


def sign_in_admin(client: TestClient, first_start: bool = True) -> str:
    """Signs in the first-start admin (doing its forced password change once) and returns the token."""
    if first_start:
        token = login(client, "admin", "admin")
        r = client.post(
            "/api/auth/change-password",
            json={"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
            headers=auth(token),
        )
        assert r.status_code == 200, r.text
    token = login(client, "admin", ADMIN_PASSWORD)
    client.cookies.clear()
    client.headers.update(auth(token))
    return token


# Settings an app shared by a test module must not inherit from the developer's shell or earlier tests.
MODULE_APP_RESET = (
    "DATABASE_URL",
    "AUTH_ENABLED",
    "RATE_LIMIT_PER_MIN",
    "DEFAULT_USERNAME",
    "DEFAULT_PASSWORD",
    "TOOL_MODULES",
    "MAX_VIDEO_DURATION_S",
    "MAX_MEGAPIXELS",
    "MAX_BATCH_SIZE",
    "HW_ACCEL",
    "JOB_TIMEOUT_S",
    "CONCURRENT_JOBS",
    "FILE_MAX_AGE_HOURS",
    "MAX_UPLOAD_SIZE_MB",
    "AI_MANIFEST",
    "MODELS_DIR",
)


@contextmanager
def module_app(data_dir: Path, **env: str) -> Iterator[TestClient]:
    """One running app for a whole test module (SQLite under data_dir, plus `env`), signed in as admin.

    Tool tests share one app per module: starting an app costs a migration and an argon2 login."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_DIR", str(data_dir))
        for var in MODULE_APP_RESET:
            mp.delenv(var, raising=False)
        for key, value in env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        login_failures.clear()
        api_limiter.clear()
        verified_keys.clear()
        principals.clear()
        try:
            with make_client() as client:
                sign_in_admin(client)
                yield client
        finally:
            get_settings.cache_clear()
