"""/api/v1/health keeps answering at once while every job slot is busy, more jobs queue and uploads
stream: it never waits on the job pool, the request threads or the database pool.

Not a benchmark: the bound is loose (the test box's two cores run the client too); the printed
figures are what was measured.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from bench.load_uploads import ordinary_user, server
from tests.test_load import _database_url, _multipart_slowly

pytestmark = pytest.mark.timeout(300)
HEALTH_LIMIT_S = 2.0
SLOTS = 2
JOBS = 8  # four times the slots: every slot busy, the rest queued
UPLOADS = 4


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


async def _saturate_and_probe(base: str, token: str) -> tuple[list[int], list[float], dict[str, int], list[int]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        settings = json.dumps({"seconds": 4, "steps": 4})
        jobs = [
            (
                await client.post(
                    "/api/v1/tools/files/test-sleep",
                    files={"file": (f"{i}.png", _png(), "image/png")},
                    data={"settings": settings},
                )
            )
            for i in range(JOBS)
        ]
        assert [r.status_code for r in jobs] == [202] * JOBS, [r.text for r in jobs]
        boundary = "lutrahealthboundary"
        ctype = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        uploads = [
            asyncio.create_task(
                client.post("/api/v1/files/upload", content=_multipart_slowly(boundary, 200_000, 0.3), headers=ctype)
            )
            for _ in range(UPLOADS)
        ]
        await asyncio.sleep(0.5)  # the uploads are mid-body, the slots busy
        statuses, waits, queued = [], [], []
        async with httpx.AsyncClient(base_url=base, timeout=30) as probe:  # no credentials, like an orchestrator
            for _ in range(20):
                started = time.perf_counter()
                r = await probe.get("/api/v1/health")
                waits.append(time.perf_counter() - started)
                statuses.append(r.status_code)
                queued.append(r.json().get("queued") or 0)
                await asyncio.sleep(0.1)
        stats = {"queued": max(queued)}
        upload_statuses = [r.status_code for r in await asyncio.gather(*uploads)]
        return statuses, waits, stats, upload_statuses


def test_health_answers_at_once_while_the_job_pool_is_saturated(app_env: Path) -> None:
    env = {
        "TOOL_MODULES": "tests.engine_tools",
        "CONCURRENT_JOBS": str(SLOTS),
        "MAX_QUEUED_JOBS_PER_USER": "50",
        "MAX_QUEUED_JOBS": "50",
        "MAX_CONCURRENT_UPLOADS_PER_USER": "10",
        "DB_POOL_SIZE": "2",
    }
    with server(app_env, _database_url(), **env) as base:
        token = ordinary_user(base)
        statuses, waits, stats, uploads = asyncio.run(_saturate_and_probe(base, token))
    ms = sorted(w * 1000 for w in waits)
    print(
        f"health x{len(ms)} under {SLOTS} running jobs + {stats['queued']} queued + {UPLOADS} uploads: "
        f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"
    )
    assert stats["queued"] >= JOBS - SLOTS - 1  # every slot was busy, with jobs waiting, while health was asked
    assert statuses == [200] * len(statuses)
    assert max(waits) < HEALTH_LIMIT_S, ms
    assert uploads == [201] * UPLOADS
