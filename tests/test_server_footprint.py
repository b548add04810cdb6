"""The server process's footprint: building the app must not load the tools' heavy libraries.

Issue 3 caps the idle server at 150 MB RSS (bench/resize_bench.py prints it). The server imports every
tool module at start-up, so one tool importing Pillow or pikepdf at module top level costs every
deployment that memory, although only worker processes ever run tools.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Libraries the server process must not load. It only needs each tool's settings model and metadata
# (routes, validation, OpenAPI); libraries are imported where the work happens, inside run functions,
# in worker processes. (pyvips is not here: the tool modules' `import pyvips` binds a stand-in in the
# server, app.engine.media.lazy_vips; tests/test_startup_imports.py checks libvips stays unloaded.)
SERVER_FORBIDDEN = frozenset(
    {
        "PIL",
        "segno",
        "zxingcpp",
        "vtracer",
        "pikepdf",
        "reportlab",
        "openpyxl",
        "docx",
        "pptx",
        "weasyprint",
        "matplotlib",
        "playwright",
        "markdown_it",
        "numpy",
        "cv2",
        "onnxruntime",
        "defusedxml",
        "lxml",
        "pdfminer",  # redact-pdf's glyph reader (with charset_normalizer and cryptography: about 14 MB)
        "cryptography",
    }
)

# TEMPORARY: modules still imported at top level by code being written elsewhere. Each entry says who
# loads it; delete the entry when that import moves into the run function (the test fails on an entry
# that is no longer needed, so this list can't silently outlive its reason).
PENDING: dict[str, str] = {}

# RSS after create_app(): measured 115.9-116.5 MB over runs on Python 3.11 / x86-64 once the PDF tools
# imported pikepdf lazily; with pikepdf still loaded it was 120.6-121.2 MB on the same machine (a 4.7 MB
# saving), and before the image tools' imports were made lazy it was ~5 MB more again. The ~3.5 MB of
# headroom is less than any one library above costs (Pillow 5 MB, segno 7 MB, pikepdf 5-13 MB), so a
# new top-level import of a heavy library not on the list shows up here too.
# Since then the catalog grew to 242 tools (83 conversion presets) and the app gained webhooks,
# automations, two-factor, single sign-on, preferences and the workers panel: 120.2 MB once redact-pdf's
# pdfminer import moved into its run function (134 MB with it), so the bound moved to 126 MB.
# Then libvips stayed out of the server (a stand-in pyvips), the tool settings models were built on first
# use (pydantic's defer_build) and the ~500 per-tool routes became three: 78-80 MB.
MAX_RSS_MB = 90

PROBE = """
import json, sys
from app.main import create_app
create_app()
rss_kb = None
try:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
except OSError:
    pass
print(json.dumps({"modules": sorted({name.split(".")[0] for name in sys.modules}), "rss_kb": rss_kb}))
"""


@pytest.fixture(scope="module")
def server_process(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], int | None]:
    """What a fresh interpreter holds after create_app(): its top-level modules and its RSS in kB."""
    env = {**os.environ, "DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    env.pop("TOOL_MODULES", None)  # test-only tool modules are not part of the server
    # sys.executable is the project's .venv/bin/python when the suite runs from the venv.
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    return set(probe["modules"]), probe["rss_kb"]


def test_server_does_not_load_tool_libraries(server_process: tuple[set[str], int | None]) -> None:
    loaded = SERVER_FORBIDDEN & server_process[0]
    unexpected = sorted(loaded - PENDING.keys())
    assert not unexpected, (
        f"the server process loaded {unexpected} while building the app; import them inside the tool's run "
        "function (type hints: `if TYPE_CHECKING:`). Find the culprit with: "
        "grep -rnE '^(import|from) (" + "|".join(unexpected) + ")' app/"
    )
    stale = sorted(PENDING.keys() - loaded)
    assert not stale, f"{stale} no longer loaded by the server: delete them from PENDING and lower MAX_RSS_MB"


def test_server_memory_after_create_app(server_process: tuple[set[str], int | None]) -> None:
    rss_kb = server_process[1]
    if rss_kb is None:
        pytest.skip("RSS is read from /proc (Linux only)")
    rss_mb = rss_kb / 1024
    assert rss_mb < MAX_RSS_MB, f"server process holds {rss_mb:.1f} MB after create_app() (bound {MAX_RSS_MB} MB)"
