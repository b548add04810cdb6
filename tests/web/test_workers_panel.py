"""The Workers panel of Settings > System, in a real browser: the embedded server's own pool as one
worker, and (with TEST_DATABASE_URL) a real scaled set-up, one API node and two `lutra worker`
processes on a redis-server of their own, each worker shown with its pid and its running job."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.cluster.helpers import Cluster, RedisServer, free_port, postgres_database, wait_until
from tests.engine.helpers import TOOL_MODULES
from tests.web.conftest import PageErrors, Server, screenshot, sign_in

NewPage = Callable[..., Page]
HEADERS = ["Worker", "Host", "PID", "Queues", "Concurrency", "Running jobs", "Last heartbeat"]


def worker_rows(page: Page) -> list[dict[str, str]]:
    """The panel's table as one dict per worker (header -> cell text)."""
    panel = page.get_by_role("region", name="Workers")
    expect(panel.locator("thead th")).to_have_text(HEADERS)
    cells = panel.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
    return [dict(zip(HEADERS, row, strict=True)) for row in cells]


def test_the_embedded_server_shows_its_own_pool_as_one_worker(new_page: NewPage, server: Server) -> None:
    page = sign_in(new_page(), then="/settings/system")
    panel = page.get_by_role("region", name="Workers")
    expect(panel.locator(".workers-mode")).to_have_text(
        "Embedded mode: this server runs every job in its own process pool."
    )
    expect(panel.locator("tbody tr")).to_have_count(1)
    [row] = worker_rows(page)
    # `lutra serve` serves in the process the test started: that pid is the embedded worker's.
    assert row["Worker"] == "embedded" and row["PID"] == str(server.process.pid)
    assert row["Queues"] == "local" and row["Concurrency"] == "2"  # CONCURRENT_JOBS=2 (start_server)
    assert row["Running jobs"] == "idle" and row["Last heartbeat"].endswith(" ago")
    expect(panel.locator(".workers-queues")).to_have_text("Jobs waiting: local: 0")
    screenshot(page, "settings-system-workers-embedded")


@pytest.fixture
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the scaled mode needs PostgreSQL shared by several processes: set TEST_DATABASE_URL")
    tmp = tmp_path_factory.mktemp("scaled-web")
    redis_server = RedisServer(free_port())
    redis_server.start()
    logs = tmp / "logs"
    logs.mkdir()
    try:
        with postgres_database(os.environ["TEST_DATABASE_URL"]) as db_url:
            env = {
                "DATABASE_URL": db_url,
                "REDIS_URL": redis_server.url,
                "DATA_DIR": str(tmp / "data"),
                "TOOL_MODULES": TOOL_MODULES,
                "AUTH_ENABLED": "true",
            }
            cluster = Cluster(env, logs)
            try:
                base = cluster.start_api()
                cluster.start_worker("--concurrency", "1")
                cluster.start_worker("--concurrency", "2", "--queues", "default,gpu")
                cluster.sign_in(base)
                wait_until(lambda: cluster.workers_online(base) == 2, 90, "two workers online")
                yield cluster
            finally:
                cluster.close()
    finally:
        redis_server.stop()


def test_the_scaled_mode_lists_every_worker_with_its_running_job(browser: Browser, scaled: Cluster) -> None:
    base = scaled.apis[0][1]
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    watcher = PageErrors(page := context.new_page())
    try:
        with scaled.client(base) as api:
            r = api.post(
                "/api/v1/tools/files/test-sleep",
                files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                data={"settings": json.dumps({"seconds": 60, "steps": 60})},
            )
            assert r.status_code == 202, r.text
            job_id = r.json()["jobId"]
            listed = wait_until(
                lambda: [w for w in api.get("/api/v1/admin/workers").json()["workers"] if job_id in w["runningJobs"]],
                60,
                "a worker to take the job",
            )
            sign_in(page, password="admin-password-1", then="/settings/system")
            panel = page.get_by_role("region", name="Workers")
            expect(panel.locator(".workers-mode")).to_have_text("Scaled mode: 2 workers online.")
            expect(panel.locator("tbody tr")).to_have_count(2)
            rows = {row["PID"]: row for row in worker_rows(page)}
            assert set(rows) == {str(p.pid) for p in scaled.workers}
            by_concurrency = {row["Concurrency"]: row for row in rows.values()}
            assert by_concurrency["1"]["Queues"] == "default"
            assert by_concurrency["2"]["Queues"] == "default, gpu"
            runner = rows[str(listed[0]["pid"])]
            assert runner["Running jobs"] == job_id
            assert all(r["Running jobs"] == "idle" for pid, r in rows.items() if r is not runner)
            expect(panel.locator(".workers-queues")).to_have_text("Jobs waiting: default: 0, gpu: 0")
            screenshot(page, "settings-system-workers-scaled")
            assert api.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
            # The panel follows the workers by itself (their entries are at most a few seconds old).
            expect(panel.locator("tbody tr").filter(has_text=job_id)).to_have_count(0)
            expect(panel.locator("tbody tr")).to_have_count(2)
    finally:
        context.close()
    assert not watcher.errors, watcher.errors
