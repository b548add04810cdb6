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
# Building the app imports the tool catalog, never the optional engines; its image tools' `import pyvips`
# binds a stand-in (app.engine.media.lazy_vips), and libvips loads only when a worker runs a tool.
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
vips_at_create = "pyvips.vimage" in sys.modules
# A library upload reads image dimensions from the header, without libvips.
from pathlib import Path
from app.files.service import describe
png = Path(sys.argv[1])
info = describe(png)
print(json.dumps({
    "import": at_import, "create": at_create, "vips_at_create": vips_at_create,
    "described": [info.kind, info.width, info.height], "vips_after_upload": "pyvips.vimage" in sys.modules,
}))
"""


# A 3 x 2 PNG: signature, IHDR (width 3, height 2, 8-bit RGB), IDAT, IEND.
PNG_3X2 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000030000000208020000001216f14d"
    "0000001049444154789c63f8cfc000410c70160041d205fb87f0b9480000000049454e44ae426082"
)


def test_importing_and_building_the_app_leaves_heavy_modules_unloaded(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    png = tmp_path / "small.png"
    png.write_bytes(PNG_3X2)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(png)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "app" in loaded["import"] and "fastapi" in loaded["import"]
    assert sorted(set(NOT_AT_IMPORT) & set(loaded["import"])) == []
    assert sorted(set(NOT_AT_CREATE) & set(loaded["create"])) == []
    assert loaded["vips_at_create"] is False
    assert loaded["described"] == ["png", 3, 2]
    assert loaded["vips_after_upload"] is False


STAND_IN = """
import json, sys, threading
from app.engine.media import lazy_vips
lazy_vips.defer()
import pyvips  # what a tool module does at import: binds the stand-in
before = "pyvips.vimage" in sys.modules
widths, errors = [], []
def first_use():
    try:
        widths.append(pyvips.Image.black(5, 4).width)  # several threads make the first access at once
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
import pyvips as again
print(json.dumps({"before": before, "widths": widths, "errors": errors,
                  "error_class": pyvips.Error is again.Error, "loaded": lazy_vips.loaded()}))
"""


def test_the_pyvips_stand_in_loads_the_library_on_first_use_from_any_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STAND_IN],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": False, "widths": [5] * 8, "errors": [], "error_class": True, "loaded": True}
