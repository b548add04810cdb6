"""AI bundles over HTTP: listing, installing from a (local) model server with resume and hash checks,
importing uploads, uninstalling, disk usage, 501 while a model is missing, and ONNX provider choice."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import onnx
import pytest
import pyvips
from fastapi.testclient import TestClient
from onnx import TensorProto, helper

from app.engine.ai import bundles
from app.engine.media import onnx as lutra_onnx
from tests.assertions import assert_error
from tests.conftest import auth, create_user, make_client
from tests.engine.conftest import sign_in_admin

# -- a tiny model and a local model server ---------------------------------------------------------


def double_model() -> bytes:
    """y = 2x on a [1,3] float tensor, named like the stand-in tool expects."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "double", [x], [y], [two])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


@dataclass
class ModelServer:
    files: dict[str, bytes]
    url: str = ""
    ranges: list[str] = field(default_factory=list)
    served: int = 0
    cut_after: int | None = None  # first full GET stops after this many bytes (a broken connection)
    missing: set[str] = field(default_factory=set)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    state = ModelServer(files={})

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            body = state.files.get(name)
            if body is None or name in state.missing:
                self.send_error(404)
                return
            start = 0
            header = self.headers.get("Range")
            if header:
                state.ranges.append(header)
                start = int(header.removeprefix("bytes=").split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            payload = body[start:]
            if state.cut_after is not None and not header:
                payload, state.cut_after = payload[: state.cut_after], None
                self.wfile.write(payload)
                state.served += len(payload)
                self.close_connection = True
                return
            self.wfile.write(payload)
            state.served += len(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def write_manifest(path: Path, files: dict[str, bytes], base_url: str, *, bad_hash: bool = False) -> Path:
    entries = []
    for name, body in files.items():
        digest = hashlib.sha256(body).hexdigest()
        if bad_hash:
            digest = "0" * 64
        entries.append({"name": name, "size": len(body), "sha256": digest, "url": f"{base_url}/{name}"})
    manifest = {
        "bundles": [
            {"id": "demo", "name": "Demo", "description": "Test bundle", "python": ["onnxruntime", "numpy"],
             "required": ["demo-model"]}
        ],
        "models": [{"id": "demo-model", "bundle": "demo", "description": "y = 2x", "license": "MIT", "files": entries}],
    }
    path.write_text(json.dumps(manifest))
    return path


@pytest.fixture
def demo_app(app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_server: ModelServer):
    """An app whose manifest has the demo bundle, served by the local model server; signed in as admin."""

    def start(files: dict[str, bytes] | None = None, bad_hash: bool = False) -> TestClient:
        model_server.files = files or {"demo.onnx": double_model()}
        manifest = write_manifest(tmp_path / "manifest.json", model_server.files, model_server.url, bad_hash=bad_hash)
        monkeypatch.setenv("AI_MANIFEST", str(manifest))
        monkeypatch.setenv("TOOL_MODULES", "tests.ai.stand_in_tools")
        monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
        client = make_client()
        client.__enter__()
        started.append(client)
        sign_in_admin(client, True)
        return client

    started: list[TestClient] = []
    yield start
    for client in started:
        client.__exit__(None, None, None)


def wait_job(client: TestClient, job_id: str) -> dict:
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as r:
        assert r.status_code == 200
        last: dict = {}
        for line in r.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])
                if last["status"] in ("completed", "failed", "canceled"):
                    return last
    raise AssertionError(f"stream ended without a terminal event: {last}")


def install(client: TestClient, bundle: str = "demo") -> dict:
    r = client.post(f"/api/v1/admin/features/{bundle}/install")
    assert r.status_code == 202, r.text
    return wait_job(client, r.json()["jobId"])


def png(path: Path, rgb: tuple[int, int, int]) -> Path:
    (pyvips.Image.black(8, 8, bands=3) + list(rgb)).cast("uchar").write_to_file(str(path))
    return path


def feature(client: TestClient, bundle_id: str) -> dict:
    r = client.get("/api/v1/features")
    assert r.status_code == 200, r.text
    return next(b for b in r.json()["bundles"] if b["id"] == bundle_id)


# -- listing ----------------------------------------------------------------------------------------


def test_features_list_bundles_with_packaged_models_installed(admin: TestClient) -> None:
    body = admin.get("/api/v1/features").json()
    by_id = {b["id"]: b for b in body["bundles"]}
    assert set(by_id) >= {
        "background-removal", "face-detection", "object-eraser-colorize", "upscale-enhance",
        "photo-restoration", "ocr", "transcription",
    }
    # Models shipped inside registry packages work right after set-up.
    for bundle_id in ("background-removal", "face-detection", "ocr", "transcription", "upscale-enhance"):
        assert by_id[bundle_id]["installed"] is True, by_id[bundle_id]
        assert by_id[bundle_id]["status"] == "installed"
    removal = by_id["background-removal"]
    u2netp = next(m for m in removal["models"] if m["id"] == "u2netp")
    assert u2netp == {**u2netp, "source": "package", "installed": True, "required": True}
    # Download-only models: not installed, and the bundle says how much an install fetches.
    eraser = by_id["object-eraser-colorize"]
    assert eraser["installed"] is False and eraser["status"] == "not_installed"
    sizes = {m["id"]: m["size"] for m in eraser["models"]}
    assert eraser["estimatedSize"] == sizes["lama"] + sizes["ddcolor"] > 300_000_000


def test_plain_users_see_features_but_cannot_manage_them(admin: TestClient) -> None:
    token = create_user(admin, "viewer", "viewer-password-1", role="user")
    assert admin.get("/api/v1/features", headers=auth(token)).status_code == 200
    for method, path in (
        ("POST", "/api/v1/admin/features/ocr/install"),
        ("POST", "/api/v1/admin/features/ocr/uninstall"),
        ("POST", "/api/v1/admin/features/ocr/import"),
        ("GET", "/api/v1/admin/features/disk-usage"),
    ):
        r = admin.request(method, path, headers=auth(token))
        assert_error(r, 403)


def test_unknown_bundle_is_404(admin: TestClient) -> None:
    assert_error(admin.post("/api/v1/admin/features/nope/install"), 404, "FEATURE_NOT_FOUND")


# -- install / uninstall ----------------------------------------------------------------------------


def test_tool_answers_501_until_its_model_is_installed_then_runs_it(demo_app, tmp_path: Path) -> None:
    client = demo_app()
    picture = png(tmp_path / "p.png", (10, 20, 30))
    r = client.post("/api/v1/tools/image/test-ai-double", files={"file": picture.open("rb")})
    assert_error(r, 501, "FEATURE_NOT_INSTALLED")
    size = len(double_model())
    assert r.json()["feature"] == "demo" and r.json()["featureName"] == "Demo"
    assert r.json()["estimatedSize"] == size
    tool = client.get("/api/v1/tools/image/test-ai-double").json()
    assert tool["feature"] == "demo" and tool["featureInstalled"] is False
    assert tool["featureDownloadSize"] == size  # what the UI shows as "needs the Demo model (N MB)"

    done = install(client)
    assert done["status"] == "completed", done
    assert done["result"]["installedModels"] == ["demo-model"]
    assert feature(client, "demo")["installed"] is True
    installed = client.get("/api/v1/tools/image/test-ai-double").json()
    assert installed["featureInstalled"] is True and installed["featureDownloadSize"] == 0

    r = client.post("/api/v1/tools/image/test-ai-double", files={"file": picture.open("rb")})
    assert r.status_code == 200, r.text
    assert r.json()["doubled"] == pytest.approx([20.0, 40.0, 60.0])
    assert "CPUExecutionProvider" in r.json()["providers"]

    usage = client.get("/api/v1/admin/features/disk-usage").json()
    assert usage["bundles"]["demo"] == size and usage["totalBytes"] == size

    gone = client.post("/api/v1/admin/features/demo/uninstall")
    assert gone.status_code == 200, gone.text
    assert gone.json()["freedBytes"] == size
    assert not (tmp_path / "models" / "demo").exists()
    assert feature(client, "demo")["installed"] is False
    assert client.get("/api/v1/admin/features/disk-usage").json()["totalBytes"] == 0
    r = client.post("/api/v1/tools/image/test-ai-double", files={"file": picture.open("rb")})
    assert_error(r, 501, "FEATURE_NOT_INSTALLED")


def test_broken_download_resumes_with_a_range_request(demo_app, model_server: ModelServer, tmp_path: Path) -> None:
    body = bytes(range(256)) * 4000  # ~1 MB, more than one read chunk
    model_server.cut_after = 300_000
    client = demo_app({"demo.onnx": body})
    model_server.cut_after = 300_000
    first = install(client)
    assert first["status"] == "failed" and "resume" in first["error"], first
    assert feature(client, "demo")["installed"] is False
    assert not (tmp_path / "models" / "demo" / "demo-model").exists()  # never half a model in place

    served_before = model_server.served
    second = install(client)
    assert second["status"] == "completed", second
    assert model_server.ranges == ["bytes=300000-"]
    assert model_server.served - served_before == len(body) - 300_000
    installed = tmp_path / "models" / "demo" / "demo-model" / "demo.onnx"
    assert installed.read_bytes() == body
    assert not list((tmp_path / "models").rglob("*.part"))


def test_hash_mismatch_fails_and_leaves_nothing(demo_app, tmp_path: Path) -> None:
    client = demo_app(bad_hash=True)
    done = install(client)
    assert done["status"] == "failed" and "SHA-256" in done["error"], done
    assert feature(client, "demo")["installed"] is False
    leftovers = [p for p in (tmp_path / "models").rglob("*") if p.is_file()]
    assert leftovers == []


def test_multi_file_model_is_only_placed_when_every_file_arrived(
    demo_app, model_server: ModelServer, tmp_path: Path
) -> None:
    client = demo_app({"config.json": b'{"a": 1}', "model.bin": b"\x01" * 5000})
    model_server.missing = {"model.bin"}
    done = install(client)
    assert done["status"] == "failed" and "404" in done["error"], done
    assert not (tmp_path / "models" / "demo").exists()
    model_server.missing = set()
    assert install(client)["status"] == "completed"
    folder = tmp_path / "models" / "demo" / "demo-model"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin"]


def test_import_installs_uploaded_model_files_after_checking_them(demo_app, tmp_path: Path) -> None:
    client = demo_app({"config.json": b'{"a": 1}', "model.bin": b"\x02" * 3000})
    r = client.post("/api/v1/admin/features/demo/import", files={"file": ("model.bin", b"\x03" * 3000)})
    assert_error(r, 400, "CHECKSUM_MISMATCH")
    r = client.post("/api/v1/admin/features/demo/import", files={"file": ("other.bin", b"x")})
    assert_error(r, 400, "UNKNOWN_FILE")

    r = client.post("/api/v1/admin/features/demo/import", files={"file": ("model.bin", b"\x02" * 3000)})
    assert r.status_code == 200, r.text
    assert r.json()["installedModels"] == [] and r.json()["waitingFor"] == {"demo-model": ["config.json"]}
    assert feature(client, "demo")["installed"] is False

    r = client.post("/api/v1/admin/features/demo/import", files={"file": ("config.json", b'{"a": 1}')})
    assert r.status_code == 200, r.text
    assert r.json()["installedModels"] == ["demo-model"]
    assert feature(client, "demo")["installed"] is True
    audit = client.get("/api/v1/audit-log", params={"action": "FEATURE_IMPORTED"}).json()
    assert [e["targetId"] for e in audit["entries"]] == ["demo", "demo"]


def test_missing_ai_packages_make_tools_answer_501(
    admin: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundles, "importable", lambda module: module not in ("onnxruntime", "cv2"))
    removal = feature(admin, "background-removal")
    assert removal["installed"] is False and "onnxruntime" in removal["missingPackages"]
    tools = {t["id"]: t for t in admin.get("/api/v1/tools").json()["tools"]}
    ai_tools = [t for t in tools.values() if t.get("feature") == "background-removal"]
    for tool in ai_tools:
        assert tool["featureInstalled"] is False
    if ai_tools:
        tool = ai_tools[0]
        r = admin.post(tool["endpoint"], files={"file": png(tmp_path / "a.png", (1, 2, 3)).open("rb")})
        assert_error(r, 501, "FEATURE_NOT_INSTALLED")
        assert r.json()["feature"] == "background-removal"
    assert admin.post("/api/v1/admin/features/background-removal/install").status_code == 400


def test_admin_health_reports_the_onnx_providers(admin: TestClient) -> None:
    deadline = time.monotonic() + 60
    while True:
        ai = admin.get("/api/v1/admin/health").json()["ai"]
        if not ai.get("probing") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert ai["runtime"].startswith("onnxruntime "), ai
    assert ai["providers"][-1] == "CPUExecutionProvider"
    assert ai["gpu"] is False  # no GPU on the test machines
    assert ai["bundles"]["background-removal"] is True


# -- providers and the session cache ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "override", "chosen"),
    [
        (["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], "",
         ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        (["AzureExecutionProvider", "CPUExecutionProvider"], "", ["CPUExecutionProvider"]),
        (["CUDAExecutionProvider", "CPUExecutionProvider"], "cpu", ["CPUExecutionProvider"]),
        (["CUDAExecutionProvider", "CPUExecutionProvider"], "tensorrt,cuda",
         ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        (["CPUExecutionProvider"], "cuda", ["CPUExecutionProvider"]),
    ],
)
def test_provider_choice(available: list[str], override: str, chosen: list[str]) -> None:
    assert lutra_onnx.choose_providers(available, override) == chosen


def test_session_cache_loads_once_and_drops_idle_sessions(tmp_path: Path) -> None:
    path = tmp_path / "double.onnx"
    path.write_bytes(double_model())
    cache = lutra_onnx.SessionCache(idle_s=60)
    first = cache.get(path)
    assert cache.get(path) is first
    (y,) = first.run(None, {"x": np.array([[1, 2, 3]], dtype=np.float32)})
    assert y.tolist() == [[2, 4, 6]]
    assert cache.drop_idle(now=time.monotonic() + 30) == []
    assert cache.drop_idle(now=time.monotonic() + 61) == [str(path)]
    assert cache.loaded() == []
    assert cache.get(path) is not first


def test_stand_in_model_is_valid_onnx() -> None:
    onnx.checker.check_model(onnx.load_from_string(double_model()))
