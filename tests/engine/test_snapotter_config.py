"""SnapOtter's configuration variables, honoured: 0 = unlimited, MAX_USERS, SKIP_MUST_CHANGE_PASSWORD,
CLEANUP_INTERVAL_MINUTES with FILE_MAX_AGE_HOURS, PROCESSING_TIMEOUT_S."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.assertions import assert_error
from tests.conftest import auth, login, make_client
from tests.engine.conftest import StartApp
from tests.engine.helpers import png, post_tool, read_events

COPY = "files/test-copy"


@pytest.fixture(scope="module")
def noisy_png() -> bytes:
    """1200 x 1000 = 1.2 megapixels of noise: over MAX_MEGAPIXELS=1 and, as PNG, over MAX_UPLOAD_SIZE_MB=1."""
    import pyvips

    image = (pyvips.Image.gaussnoise(1200, 1000, mean=128, sigma=60).cast("uchar")).bandjoin([0, 0])
    return image.pngsave_buffer(compression=0)


def test_zero_means_unlimited_for_upload_size_and_megapixels(start_app: StartApp, noisy_png: bytes) -> None:
    assert len(noisy_png) > 1024 * 1024
    limited = start_app(MAX_UPLOAD_SIZE_MB="1")
    assert_error(post_tool(limited, COPY, [("big.png", noisy_png)]), 413, "PAYLOAD_TOO_LARGE")
    limited.__exit__(None, None, None)
    limited = start_app(first_start=False, MAX_UPLOAD_SIZE_MB="10", MAX_MEGAPIXELS="1")
    assert_error(post_tool(limited, COPY, [("big.png", noisy_png)]), 400, "IMAGE_TOO_LARGE")
    limited.__exit__(None, None, None)
    # 0 used to stop the server from starting; now it lifts the limit.
    open_ended = start_app(first_start=False, MAX_UPLOAD_SIZE_MB="0", MAX_MEGAPIXELS="0", MAX_BATCH_SIZE="0")
    r = post_tool(open_ended, COPY, [("big.png", noisy_png)])
    assert r.status_code == 200, r.text
    assert open_ended.get(r.json()["downloadUrl"]).content == noisy_png


def test_max_users_refuses_one_more_account(start_app: StartApp) -> None:
    admin = start_app(MAX_USERS="2")
    body = {"username": "second", "password": "second-password-1"}
    assert admin.post("/api/auth/register", json=body).status_code == 201
    r = admin.post("/api/auth/register", json={"username": "third", "password": "third-password-1"})
    err = assert_error(r, 403, "USER_LIMIT_REACHED")
    assert "MAX_USERS" in err["error"]
    assert [u["username"] for u in admin.get("/api/auth/users").json()["users"]] == ["admin", "second"]


def test_skip_must_change_password(engine_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIP_MUST_CHANGE_PASSWORD", "true")
    with make_client() as client:
        r = client.post("/api/auth/login", json={"username": "admin", "password": "admin"})
        assert r.json()["user"]["mustChangePassword"] is False
        admin = auth(r.json()["token"])
        # No forced password change: the first-start admin works at once, and so do new accounts.
        assert client.get("/api/auth/users", headers=admin).status_code == 200
        body = {"username": "bob", "password": "bob-password-1"}
        assert client.post("/api/auth/register", json=body, headers=admin).status_code == 201
        bob = login(client, "bob", "bob-password-1")
        assert client.get("/api/v1/api-keys", headers=auth(bob)).status_code == 200


def _aged_folder(root: Path, name: str, hours: float) -> Path:
    folder = root / "jobs" / name
    folder.mkdir(parents=True)
    (folder / "output.bin").write_bytes(b"x")
    then = time.time() - hours * 3600
    os.utime(folder, (then, then))
    return folder


def test_cleanup_interval_and_file_max_age(start_app: StartApp, engine_env: Path) -> None:
    # 0.01 minutes: the sweep runs every 0.6 s instead of every 10 minutes.
    start_app(CLEANUP_INTERVAL_MINUTES="0.01", FILE_MAX_AGE_HOURS="1")
    old = _aged_folder(engine_env, "old-workspace", hours=2)
    recent = _aged_folder(engine_env, "recent-workspace", hours=0.5)
    deadline = time.monotonic() + 10
    while old.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not old.exists()
    assert recent.exists()


def test_file_max_age_zero_keeps_workspaces(start_app: StartApp, engine_env: Path) -> None:
    start_app(CLEANUP_INTERVAL_MINUTES="0.01", FILE_MAX_AGE_HOURS="0")
    old = _aged_folder(engine_env, "very-old-workspace", hours=5000)
    time.sleep(1.5)  # two sweeps or more
    assert old.exists()


def test_processing_timeout_is_the_job_time_limit(start_app: StartApp) -> None:
    client = start_app(PROCESSING_TIMEOUT_S="2")
    r = post_tool(client, "files/test-sleep", [("a.png", png())], {"seconds": 10, "steps": 20})
    assert r.status_code == 202, r.text
    events = read_events(client, r.json()["jobId"])
    assert events[-1]["status"] == "failed" and events[-1]["code"] == "TIMEOUT"
    assert "Timed out after 2 s" in events[-1]["error"]
