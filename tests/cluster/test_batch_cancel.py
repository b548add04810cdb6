"""Cancelling a batch through another API node stops its fan-out: two `lutra serve` nodes and one
`lutra worker` as real OS processes, sharing a redis-server started here and real PostgreSQL.

The worker serves only the `gpu` queue, so the batch's items (not AI tools: the `default` queue) stay
in Redis where the test can count them: every item the fanning-out node queued is there to see.

Needs TEST_DATABASE_URL (CI sets it): the scaled mode shares one database between processes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
import redis

from tests.cluster.helpers import (
    NEEDS_POSTGRES,
    Cluster,
    RedisServer,
    jpeg,
    postgres_database,
    sse_events,
    wait_until,
)
from tests.engine.helpers import TOOL_MODULES

pytestmark = [
    NEEDS_POSTGRES,
    pytest.mark.timeout(300),
]
FILES = 10


@pytest.fixture(scope="module")
def cluster(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("batch-cancel")
    with postgres_database(os.environ["TEST_DATABASE_URL"]) as db_url:
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_server.url,
            "DATA_DIR": str(tmp / "data"),
            "TOOL_MODULES": TOOL_MODULES,
            "AUTH_ENABLED": "true",
            "RATE_LIMIT_PER_MIN": "10000",
        }
        logs = tmp / "logs"
        logs.mkdir()
        c = Cluster(env, logs)
        try:
            first = c.start_api()
            c.start_worker("--concurrency", "1", "--queues", "gpu")
            c.start_api()
            c.sign_in(first)
            wait_until(lambda: c.workers_online(first) == 1, 90, "the worker online")
            yield c
        finally:
            c.close()


def test_cancelling_a_batch_through_the_other_node_stops_its_remaining_files(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    queue = redis.Redis.from_url(redis_server.url)
    (_, a_base), (_, b_base) = cluster.apis
    with cluster.client(a_base) as a, cluster.client(b_base) as b:
        files = [("files", (f"p{i}.jpg", jpeg(), "image/jpeg")) for i in range(FILES)]
        r = a.post(
            "/api/v1/tools/files/test-sleep/batch?async=true",
            files=files,
            data={"settings": json.dumps({"seconds": 0.1, "steps": 1})},
        )
        assert r.status_code == 202, r.text
        batch_id = r.json()["jobId"]
        # Node A feeds the queue as many items at a time as the workers online run at once (at least 2).
        wait_until(lambda: queue.llen("default") == 2, 30, "node A to queue the first items")
        assert b.post(f"/api/v1/jobs/{batch_id}/cancel").json() == {"canceled": True}
        final = None
        for event in sse_events(b, batch_id, limit=120):
            if event["status"] in ("completed", "failed", "canceled"):
                final = event
                break
        assert final is not None
        # Nothing more was queued after the cancel: the two items already sent are all there is.
        assert queue.llen("default") == 2
        assert final["status"] == "canceled" and final["error"] == "Canceled", final
        assert final["totalFiles"] == FILES and final["failedFiles"] == FILES, final
        job = a.get(f"/api/v1/jobs/{batch_id}").json()
        assert job["status"] == "canceled" and job["failedFiles"] == FILES, job
    queue.close()
