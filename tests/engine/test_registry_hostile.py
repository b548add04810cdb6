"""Every registered tool against hostile input: zero-byte, truncated, garbage, mislabelled and oversized
files (and broken JSON bodies for tools without uploads) get a 4xx with the error shape, never a 5xx.

Parametrized over the whole registry, so a new tool module is covered the moment it exists. One app
per backend serves the whole module (MAX_UPLOAD_SIZE_MB=1, experimental tools on).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine import registry
from app.engine.media.sniff import accepts
from app.engine.tool import Tool
from tests.assertions import assert_error
from tests.catalog_settings import example_settings
from tests.conftest import _empty_postgres, module_app
from tests.engine.helpers import TOOL_MODULES, assert_rejected, garbage, jpeg, png, read_events, zip_bytes

# The catalog as the test apps see it: the real tools plus the engine's test tools.
with pytest.MonkeyPatch.context() as _mp:
    _mp.setenv("TOOL_MODULES", TOOL_MODULES)
    registry.load_all()
    ALL_TOOLS = registry.all_tools()
registry.load_all()  # and back to this process's own configuration
FILE_TOOLS = [t for t in ALL_TOOLS if t.inputs.takes_files]
JSON_TOOLS = [t for t in ALL_TOOLS if not t.inputs.takes_files]
# The engine's own fakes don't read their input (test-copy copies a truncated file as it is,
# test-hang never ends): the truncated and mislabelled cases only apply to tools that decode.
FAKES = {t.id for t in ALL_TOOLS if t.run.__module__.startswith("tests.")}
MB = 1024 * 1024
# Audio and video are streams: cut one in half and what is left is often a shorter, playable file
# (ffmpeg reads to the cut), so processing it is fair. Images, PDFs and archives cut short are broken.
STREAM_EXTS = {"wav", "mp3", "ogg", "flac", "m4a", "mp4", "webm", "mkv", "mov", "avi"}


# How a tool treats a hostile file doesn't depend on the database; the other engine tests cover both.
@pytest.fixture(scope="module", params=["sqlite"])
def catalog_client(
    request: pytest.FixtureRequest, postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    env = {"TOOL_MODULES": TOOL_MODULES, "MAX_UPLOAD_SIZE_MB": "1"}
    if request.param == "postgres":
        assert postgres_url is not None
        _empty_postgres(postgres_url)
        env["DATABASE_URL"] = postgres_url
    with module_app(tmp_path_factory.mktemp("hostile") / "data", **env) as client:
        r = client.put("/api/v1/settings", json={"enableExperimentalTools": "true"})
        assert r.status_code == 200, r.text
        yield client


# -- valid samples, to cut in half ----------------------------------------------------------------


def _pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = b"0 0 1 rg 20 20 160 160 re f\n" * 40
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * 64)
    return buf.getvalue()


def _ffmpeg(ext: str, args: list[str]) -> bytes | None:
    if shutil.which("ffmpeg") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"sample.{ext}"
        cmd = ["ffmpeg", "-v", "error", "-y", *args, str(out)]
        if subprocess.run(cmd, capture_output=True, timeout=60).returncode != 0:
            return None
        return out.read_bytes()


_VIDEO = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1"]
_AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
_SAMPLES: dict[str, Any] = {
    "jpeg": lambda: jpeg(96, 64),
    "png": lambda: png(64, 48),
    "pdf": _pdf,
    "zip": lambda: zip_bytes({"a.txt": b"hello " * 200, "b.bin": bytes(range(256)) * 8}),
    "wav": _wav,
    "mp4": lambda: _ffmpeg("mp4", [*_VIDEO, "-pix_fmt", "yuv420p"]),
    "webm": lambda: _ffmpeg("webm", _VIDEO),
    "mp3": lambda: _ffmpeg("mp3", _AUDIO),
    "ogg": lambda: _ffmpeg("ogg", _AUDIO),
    "flac": lambda: _ffmpeg("flac", _AUDIO),
}
_EXT = {"jpeg": "jpg"}


@cache
def sample(kind: str) -> bytes | None:
    make = _SAMPLES.get(kind)
    return make() if make else None


def samples_for(kinds: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """Valid files (as name, bytes) of kinds the tool accepts; a PNG when none can be made here."""
    found = [(f"sample.{_EXT.get(k, k)}", data) for k in _SAMPLES if accepts(kinds, k) and (data := sample(k))]
    return found or [("sample.png", png(64, 48))]


# -- requests ---------------------------------------------------------------------------------------


def post_files(client: TestClient, tool: Tool, name: str, data: bytes) -> httpx.Response:
    """Sends `data` as every main file the tool needs (min_files copies), valid files for its extra parts."""
    parts = [("file", (name, data, "application/octet-stream")) for _ in range(max(1, tool.inputs.min_files))]
    for extra in tool.inputs.extra:
        extra_name, extra_data = samples_for(extra.kinds)[0]
        parts.append((extra.name, (extra_name, extra_data, "application/octet-stream")))
    settings = example_settings(tool) or {}
    return client.post(tool.path, files=parts, data={"settings": json.dumps(settings)})


def assert_refused(client: TestClient, tool: Tool, r: httpx.Response, case: str) -> None:
    """A 4xx with the error shape, or for a long tool a 202 whose job then fails (not completes)."""
    if r.status_code == 202 and tool.long:
        events = read_events(client, r.json()["jobId"])
        assert events[-1]["status"] == "failed", f"{tool.id} / {case}: {events[-1]}"
        assert events[-1]["error"] and "Traceback" not in events[-1]["error"]
        return
    assert 400 <= r.status_code < 500, f"{tool.id} / {case}: {r.status_code} {r.text[:300]}"
    body = assert_rejected(r)
    if example_settings(tool) is not None:
        assert body["code"] != "VALIDATION_ERROR", f"{tool.id} / {case}: settings refused, file not judged: {body}"


def assert_no_server_error(client: TestClient, tool: Tool, r: httpx.Response, case: str) -> None:
    """For streams cut short: a 4xx, or a result, or a job that ends either way; never a 5xx or a hang."""
    assert r.status_code < 500, f"{tool.id} / {case}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert_rejected(r)
    elif r.status_code == 202:
        events = read_events(client, r.json()["jobId"])
        assert events[-1]["status"] in ("completed", "failed"), f"{tool.id} / {case}: {events[-1]}"
        assert "Traceback" not in str(events[-1].get("error"))


@pytest.mark.parametrize("tool", FILE_TOOLS, ids=lambda t: t.id)
def test_every_tool_refuses_hostile_files(catalog_client: TestClient, tool: Tool) -> None:
    client = catalog_client
    valid = samples_for(tool.inputs.kinds)
    name, first = valid[0]

    r = post_files(client, tool, name, b"")
    if r.status_code == 501 and tool.feature is not None:
        # An AI tool whose model is a download this server lacks answers 501 before reading any upload.
        assert_error(r, 501, "FEATURE_NOT_INSTALLED")
        return
    assert_refused(client, tool, r, "zero bytes")
    assert r.json()["code"] == "EMPTY_FILE"

    r = post_files(client, tool, name, garbage())
    assert_refused(client, tool, r, "garbage")
    assert r.status_code == 415

    # Over MAX_UPLOAD_SIZE_MB (1 here), starting like a valid file: refused while streaming.
    r = post_files(client, tool, name, first + b"\0" * (2 * MB))
    assert_refused(client, tool, r, "oversized")
    assert r.status_code == 413

    if tool.id in FAKES:
        return
    streams_cut = 0
    for sample_name, data in valid[:2]:
        is_stream = Path(sample_name).suffix[1:] in STREAM_EXTS
        streams_cut += is_stream
        # One stream cut in half per tool is enough to show it neither crashes nor hangs.
        for cut in (len(data) // 2, 24) if streams_cut <= 1 or not is_stream else (24,):
            r = post_files(client, tool, sample_name, data[:cut])
            case = f"{sample_name} cut to {cut} of {len(data)} bytes"
            if is_stream:
                assert_no_server_error(client, tool, r, case)
            else:
                assert_refused(client, tool, r, case)
    # Mislabelled: the name lies about the content. Whatever the tool makes of it, no 5xx.
    r = post_files(client, tool, "document.pdf" if not accepts(tool.inputs.kinds, "pdf") else "photo.png", first)
    assert r.status_code < 500, f"{tool.id} / mislabelled: {r.status_code} {r.text[:300]}"


@pytest.mark.parametrize("tool", JSON_TOOLS, ids=lambda t: t.id)
def test_every_json_tool_refuses_broken_bodies(catalog_client: TestClient, tool: Tool) -> None:
    client = catalog_client
    json_type = {"Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2, 3]", b'"text"', b"\xff\xfe{}", b"{" + b" " * (70 * 1024) + b"}"):
        r = client.post(tool.path, content=body, headers=json_type)
        assert_rejected(r, 400)
    r = client.post(tool.path, files=[("file", ("a.png", png(), "image/png"))])
    assert_rejected(r, 400)


@pytest.mark.parametrize("tool", FILE_TOOLS, ids=lambda t: t.id)
def test_hostile_files_through_batch_and_pipeline(catalog_client: TestClient, tool: Tool) -> None:
    """The same corpus through /batch (each bad file reported on its own) and /pipeline/execute: no 5xx."""
    client = catalog_client
    name, first = samples_for(tool.inputs.kinds)[0]
    settings = json.dumps(example_settings(tool) or {})
    hostile = [("empty" + Path(name).suffix, b""), ("noise.bin", garbage()), (name, first[:24])]
    parts = [("files", (n, data, "application/octet-stream")) for n, data in hostile]
    for extra in tool.inputs.extra:
        extra_name, extra_data = samples_for(extra.kinds)[0]
        parts.append((extra.name, (extra_name, extra_data, "application/octet-stream")))
    r = client.post(tool.path + "/batch", files=parts, data={"settings": settings})
    if r.status_code == 501 and tool.feature is not None:
        assert_error(r, 501, "FEATURE_NOT_INSTALLED")
        return
    assert r.status_code < 500, f"{tool.id} / batch: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert_rejected(r)
    else:
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        errors = json.loads(unquote(r.headers["x-file-errors"]))
        # The empty and the garbage file can never be processed; each is named in the report.
        assert {"0", "1"} <= set(errors), f"{tool.id} / batch: {errors}"
        assert all("Traceback" not in e["error"] for e in errors.values())

    pipeline = json.dumps({"steps": [{"toolId": tool.id, "settings": json.loads(settings)}]})
    for n, data in hostile:
        r = client.post(
            "/api/v1/pipeline/execute",
            files={"file": (n, data, "application/octet-stream")},
            data={"pipeline": pipeline},
        )
        assert r.status_code < 500, f"{tool.id} / pipeline / {n}: {r.status_code} {r.text[:300]}"
        if r.status_code >= 400:
            assert_rejected(r)
        elif r.status_code == 202:
            assert read_events(client, r.json()["jobId"])[-1]["status"] == "failed", f"{tool.id} / pipeline / {n}"
