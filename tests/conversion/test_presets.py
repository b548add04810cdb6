"""The 83 conversion presets: each runs on a tiny input of its type and gives its output format for
real; they are catalog tools; other input types get 415; only their few settings are accepted."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pikepdf
import pytest
import pyvips
from fastapi.testclient import TestClient

from app.tools.conversion_presets import INPUT_TYPES, PRESETS, Preset
from tests.conversion.samples import Samples, download, finish, real_kind

# What each output name of the preset table is as content (sniff.py kinds).
OUTPUT_KINDS = {"jpg": "jpeg"}


def _post(client: TestClient, preset: Preset, name: str, data: bytes, settings: dict | None = None) -> object:
    return client.post(
        f"/api/v1/tools/{preset.section}/{preset.id}",
        files={"file": (name, data, "application/octet-stream")},
        data={"settings": json.dumps(settings or {})},
    )


@pytest.mark.parametrize("preset", PRESETS, ids=[p.id for p in PRESETS])
def test_preset_converts_its_input(av: TestClient, samples: Samples, preset: Preset, tmp_path: Path) -> None:
    name, data = samples.get(INPUT_TYPES[preset.input].kinds[0])
    body = finish(av, _post(av, preset, name, data))
    result = download(av, body)
    if preset.base == "pdf-to-image":
        # One page: the image itself, not a ZIP.
        assert [p["page"] for p in body["pages"]] == [1] and body["zipUrl"] is None
    assert real_kind(result, tmp_path) == OUTPUT_KINDS.get(preset.output, preset.output)


def _by_id(preset_id: str) -> Preset:
    return next(p for p in PRESETS if p.id == preset_id)


def test_presets_come_from_one_table() -> None:
    assert len(PRESETS) == 83
    assert len({p.id for p in PRESETS}) == 83


def test_presets_are_catalog_tools(av: TestClient) -> None:
    tools = {t["id"]: t for t in av.get("/api/v1/tools").json()["tools"]}
    for preset in PRESETS:
        entry = tools[preset.id]
        assert entry["section"] == preset.section
        assert entry["category"] == "Format & Conversion"
        assert entry["endpoint"] == f"/api/v1/tools/{preset.section}/{preset.id}"
    assert tools["convert"]["category"] == "Essentials"  # base tools keep their own place
    one = av.get("/api/v1/tools/image/heic-to-jpg").json()
    assert one["title"] == "HEIC to JPG"
    assert one["inputs"]["kinds"] == ["heif"]
    assert set(one["settingsSchema"]["properties"]) == {"quality"}
    assert av.get("/api/v1/tools/video/heic-to-jpg").status_code == 404  # wrong section
    paths = av.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/tools/files/excel-to-csv" in paths and "/api/v1/tools/audio/flac-to-mp3/batch" in paths


def test_other_input_types_get_415_naming_the_type_taken(av: TestClient, samples: Samples) -> None:
    # Judged by content: a PNG named .jpg is a PNG.
    _, png = samples.get("png")
    r = _post(av, _by_id("jpg-to-png"), "photo.jpg", png)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "is png" in r.json()["error"] and "accepted: jpeg" in r.json()["error"]
    _, mp3 = samples.get("mp3")
    r = _post(av, _by_id("mp4-to-gif"), "clip.mp4", mp3)
    assert r.status_code == 415 and "accepted: mp4" in r.json()["error"]


def test_only_the_presets_own_settings(av: TestClient, samples: Samples, tmp_path: Path) -> None:
    name, data = samples.get("jpeg")
    # The forced setting can't be overridden, and other base-tool settings aren't open.
    for settings in ({"format": "webp"}, {"dpi": 300}):
        r = _post(av, _by_id("jpg-to-png"), name, data, settings)
        assert r.status_code == 400, r.text
    r = _post(av, _by_id("jpg-to-webp"), name, data, {"quality": 101})
    assert r.status_code == 400
    # quality reaches the base tool: a lower quality gives a smaller WebP.
    low = download(av, finish(av, _post(av, _by_id("png-to-jpg"), *samples.get("png"),
                                                        {"quality": 5})))  # fmt: skip
    high = download(av, finish(av, _post(av, _by_id("png-to-jpg"), *samples.get("png"),
                                                         {"quality": 100})))  # fmt: skip
    assert real_kind(low, tmp_path) == real_kind(high, tmp_path) == "jpeg"
    assert len(low) < len(high)
    # image-to-pdf presets take a page size and orientation: A5 landscape is 595 x 420 pt.
    pdf = download(av, finish(av, _post(av, _by_id("png-to-pdf"), *samples.get("png"),
                                                        {"pageSize": "A5", "orientation": "landscape"})))  # fmt: skip
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        box = [float(v) for v in doc.pages[0].mediabox]
    assert round(box[2]) == 595 and round(box[3]) == 420
    r = _post(av, _by_id("png-to-pdf"), *samples.get("png"), {"pageSize": "Legal"})
    assert r.status_code == 400


def test_preset_batch_and_pipeline_step(av: TestClient, samples: Samples, tmp_path: Path) -> None:
    _, jpeg = samples.get("jpeg")
    _, png = samples.get("png")
    r = av.post(
        "/api/v1/tools/image/jpg-to-webp/batch",
        files=[("files", ("a.jpg", jpeg, "image/jpeg")), ("files", ("b.png", png, "image/png"))],
    )
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert names == ["a.webp"]
        assert real_kind(z.read("a.webp"), tmp_path) == "webp"
    errors = json.loads(unquote(r.headers["X-File-Errors"]))
    assert "accepted: jpeg" in errors["1"]["error"]
    # As pipeline steps: JPG -> PNG -> PDF.
    steps = [{"toolId": "jpg-to-png", "settings": {}}, {"toolId": "png-to-pdf", "settings": {"pageSize": "A4"}}]
    r = av.post(
        "/api/v1/pipeline/execute",
        files={"file": ("photo.jpg", jpeg, "image/jpeg")},
        data={"pipeline": json.dumps({"steps": steps})},
    )
    assert r.status_code == 200, r.text
    assert [s["toolId"] for s in r.json()["steps"]] == ["jpg-to-png", "png-to-pdf"]
    assert real_kind(download(av, r.json()), tmp_path) == "pdf"


def test_excel_presets_take_legacy_xls_too(av: TestClient, samples: Samples, tmp_path: Path) -> None:
    name, data = samples.get("xls")
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    body = finish(av, _post(av, _by_id("excel-to-csv"), name, data))
    result = download(av, body)
    assert real_kind(result, tmp_path) == "csv"
    assert "Lyon,522" in result.decode()


EPS_HEAD = b"%!PS-Adobe-3.0 EPSF-3.0\n"


@pytest.mark.parametrize(
    ("eps", "status", "code"),
    [
        (EPS_HEAD + b"%%EndComments\n0 0 moveto\n", 415, "UNSUPPORTED_MEDIA_TYPE"),  # no bounding box
        (EPS_HEAD + b"%%BoundingBox: 0 0 9000000 9000000\n", 400, "IMAGE_TOO_LARGE"),
        (EPS_HEAD + b"%%BoundingBox: 0 0 0 0\n", 400, "INVALID_INPUT"),
    ],
    ids=["no-bbox", "huge", "empty"],
)
def test_bad_eps_is_refused_before_running(av: TestClient, eps: bytes, status: int, code: str) -> None:
    r = _post(av, _by_id("eps-to-png"), "art.eps", eps)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_eps_cannot_read_server_files(av: TestClient) -> None:
    # -dSAFER: PostScript in an upload can't open files; the job fails with a short message.
    draw = b"%%BoundingBox: 0 0 20 20\n0 0 moveto 10 10 lineto stroke\n"
    assert _post(av, _by_id("eps-to-png"), "art.eps", EPS_HEAD + draw).status_code == 200
    body = EPS_HEAD + draw + b"(/etc/passwd) (r) file 100 string readstring pop pop\n"
    r = _post(av, _by_id("eps-to-png"), "art.eps", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "Processing failed: Ghostscript could not read this EPS file"


def test_svg_presets_take_compressed_svgz(av: TestClient, samples: Samples, tmp_path: Path) -> None:
    import gzip

    _, svg = samples.get("svg")
    body = finish(av, _post(av, _by_id("svg-to-png"), "drawing.svgz", gzip.compress(svg)))
    image = pyvips.Image.new_from_buffer(download(av, body), "")
    assert (image.width, image.height) == (48, 32)
    assert image.getpoint(5, 5)[0] > 200 and image.getpoint(40, 5)[2] > 200  # red left, blue right
    # Compressed or not, an SVG that points outside itself is refused; so is a bomb past 20 MB.
    outside = svg.replace(b"<rect", b'<image href="file:///etc/passwd"/><rect', 1)
    r = _post(av, _by_id("svg-to-png"), "drawing.svgz", gzip.compress(outside))
    assert r.status_code == 415 and r.json()["code"] == "UNSAFE_INPUT"
    bomb = gzip.compress(svg[:-6] + b" " * 25_000_000 + b"</svg>")
    r = _post(av, _by_id("svg-to-png"), "bomb.svgz", bomb)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text
