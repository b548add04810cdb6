"""The mode switch: without REDIS_URL nothing of the scaled mode loads; with an unreachable Redis
both `lutra serve` and `lutra worker` stop at once with one line naming REDIS_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cluster.helpers import ROOT, RedisServer, free_port

EMBEDDED_PROBE = """
import sys
from fastapi.testclient import TestClient
from app.main import create_app
with TestClient(create_app()) as client:
    assert client.get("/api/v1/health").json()["workers"] == 1
    r = client.post("/api/v1/tools/files/test-echo", json={"text": "hi"})
    assert r.status_code == 200, r.text
    assert client.get(r.json()["downloadUrl"]).text == "hi"
scaled = ("celery", "kombu", "redis")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in scaled or m.startswith("app.cluster"))
print("LOADED", loaded)
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT), TOOL_MODULES="tests.engine.extra_tools", **extra)
    return env


def test_embedded_mode_never_imports_celery_or_redis(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", EMBEDDED_PROBE],
        env=_env(tmp_path, AUTH_ENABLED="false"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LOADED []" in out.stdout, out.stdout


def test_serve_and_worker_fail_fast_naming_redis_url_when_redis_is_down(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            env=_env(tmp_path, REDIS_URL=url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 1, (command, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert lines[0].startswith(f"Lutra cannot reach Redis at REDIS_URL={url} ("), lines[0]


def test_ai_tools_go_to_the_gpu_queue_only_when_a_gpu_worker_is_online() -> None:
    from app.cluster.executor import pick_queue
    from app.engine import registry

    registry.load_all()
    ai_tool = next(t.id for t in registry.all_tools() if t.feature)
    cpu = {"queues": ["default"]}
    gpu = {"queues": ["gpu"]}
    assert pick_queue([ai_tool], [cpu, gpu]) == "gpu"
    assert pick_queue(["resize", ai_tool], [gpu]) == "gpu"  # a pipeline with an AI step
    assert pick_queue([ai_tool], [cpu]) == "default"
    assert pick_queue(["resize"], [cpu, gpu]) == "default"


def test_a_worker_without_its_database_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    server = RedisServer(free_port())
    server.start()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", "worker"],
            env=_env(
                tmp_path,
                REDIS_URL=server.url,
                DATABASE_URL=f"postgresql://lutra@127.0.0.1:{free_port()}/lutra",  # nothing listens there
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lutra worker cannot read the database at DATABASE_URL ("), lines
