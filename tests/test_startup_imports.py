"""Start-up stays light: importing app.main and building the app load nothing the first request
does not need (the job queue, single sign-on, the MCP SDK, PDF/office engines, AI runtimes...)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loaded on first use only: each is either optional (scaled mode, SSO, MCP, AI) or needed by a few routes.
NOT_AT_IMPORT = (
    "celery",
    "kombu",
    "redis",
    "authlib",
    "joserfc",
    "mcp",
    "watchfiles",
    "pikepdf",
    "reportlab",
    "weasyprint",
    "playwright",
    "onnxruntime",
    "numpy",
    "pyvips",
    "httpx",
    "yaml",
    "pyotp",
    "pwdlib",
    "argon2",
    "standardwebhooks",
    "croniter",
    "uvicorn",
)
# Building the app imports the tool catalog (whose image tools use pyvips), never the optional engines.
NOT_AT_CREATE = (
    "celery",
    "redis",
    "authlib",
    "mcp",
    "watchfiles",
    "pikepdf",
    "reportlab",
    "weasyprint",
    "playwright",
    "onnxruntime",
)

PROBE = """
import json, sys
import app.main
at_import = sorted({m.split(".")[0] for m in sys.modules})
app.main.create_app()
at_create = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"import": at_import, "create": at_create}))
"""


def test_importing_and_building_the_app_leaves_heavy_modules_unloaded(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "app" in loaded["import"] and "fastapi" in loaded["import"]
    assert sorted(set(NOT_AT_IMPORT) & set(loaded["import"])) == []
    assert sorted(set(NOT_AT_CREATE) & set(loaded["create"])) == []
