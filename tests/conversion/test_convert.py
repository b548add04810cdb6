"""Any-to-any conversion: POST /api/v1/convert picks the shortest chain of tools, runs it as a
pipeline and names the route; the results are checked for what they really are."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine import registry
from app.engine.execute import run_job
from app.engine.spec import InputRef, JobSpec, Step
from tests.conversion.samples import Samples, download, finish, real_kind

# (input kind, target as a user types it, the content kind expected) across every section.
PAIRS = [
    ("docx", "png", "png"),
    ("heif", "pdf", "pdf"),
    ("mkv", "gif", "gif"),
    ("xlsx", "json", "json"),
    ("epub", "pdf", "pdf"),
    ("jpeg", "webp", "webp"),
    ("png", "avif", "avif"),
    ("svg", "jpg", "jpeg"),
    ("psd", "jpg", "jpeg"),
    ("eps", "png", "png"),
    ("tiff", "eps", "eps"),
    ("webp", "svg", "svg"),
    ("gif", "mp4", "mp4"),
    ("avi", "webm", "webm"),
    ("mov", "wav", "wav"),
    ("webm", "mp3", "mp3"),
    ("mp4", "webp", "webp"),
    ("mp3", "ogg", "ogg"),
    ("flac", "m4a", "m4a"),
    ("aac", "mp3", "mp3"),
    ("pdf", "jpg", "jpeg"),
    ("pdf", "docx", "docx"),
    ("pdf", "txt", "txt"),
    ("markdown", "pdf", "pdf"),
    ("markdown", "html", "html"),
    ("html", "pdf", "pdf"),
    ("csv", "xlsx", "xlsx"),
    ("json", "yaml", "yaml"),
    ("yaml", "xml", "xml"),
    ("xml", "csv", "csv"),
    ("pptx", "jpg", "jpeg"),
    ("odt", "docx", "docx"),
    ("xls", "csv", "csv"),
    ("docx", "epub", "epub"),
]


def convert(client: TestClient, name: str, data: bytes, to: str) -> object:
    return client.post("/api/v1/convert", files={"file": (name, data, "application/octet-stream")}, data={"to": to})


@pytest.mark.parametrize(("source", "to", "expected"), PAIRS, ids=[f"{s}-to-{t}" for s, t, _ in PAIRS])
def test_converts_across_sections(
    av: TestClient, samples: Samples, source: str, to: str, expected: str, tmp_path: Path
) -> None:
    name, data = samples.get(source)
    body = finish(av, convert(av, name, data, to))
    route = body["route"]
    assert route["from"] == source and route["to"] == expected
    assert 1 <= len(route["steps"]) <= 4
    assert [s["toolId"] for s in body["steps"]] == route["toolIds"]
    assert real_kind(download(av, body), tmp_path) == expected


def test_the_answer_names_the_shortest_route(av: TestClient, samples: Samples, tmp_path: Path) -> None:
    body = finish(av, convert(av, *samples.get("docx"), "png"))
    assert body["route"]["toolIds"] == ["word-to-pdf", "pdf-to-image"]
    assert body["route"]["steps"][1] == {
        "toolId": "pdf-to-image",
        "section": "pdf",
        "settings": {"format": "png"},
        "from": "pdf",
        "to": "png",
    }
    # Two steps: the 2-step chain through CSV, not csv-excel's equal-length one (convert-spreadsheet is preferred).
    body = finish(av, convert(av, *samples.get("xlsx"), "json"))
    assert body["route"]["toolIds"] == ["convert-spreadsheet", "csv-json"]
    rows = json.loads(download(av, body))
    assert {"city": "Lyon", "people": "522"} in rows or {"city": "Lyon", "people": 522} in rows
    # The target may be given as settings JSON too, and as any alias.
    r = av.post(
        "/api/v1/convert",
        files={"file": ("photo.heic", samples.get("heif")[1], "image/heic")},
        data={"settings": json.dumps({"to": ".PDF"})},
    )
    assert finish(av, r)["route"]["toolIds"] == ["image-to-pdf"]


def test_routes_and_formats(av: TestClient) -> None:
    r = av.get("/api/v1/convert/routes", params={"from": "heic"})
    assert r.status_code == 200, r.text
    routes = {x["to"]: x for x in r.json()["routes"]}
    assert r.json()["from"] == "heif"
    assert routes["pdf"]["toolIds"] == ["image-to-pdf"]
    assert routes["jpeg"]["toolIds"] == ["convert"] and routes["jpeg"]["steps"][0]["settings"] == {"format": "jpg"}
    assert all(len(x["steps"]) <= 4 for x in routes.values())
    # Deterministic: the same question, the same answer.
    assert av.get("/api/v1/convert/routes", params={"from": "heic"}).json() == r.json()
    one = av.get("/api/v1/convert/routes", params={"from": "mkv", "to": "gif"}).json()
    assert [x["toolIds"] for x in one["routes"]] == [["video-to-gif"]]
    # The graph is what the catalog says the tools produce.
    tools = {t["id"]: t for t in av.get("/api/v1/tools").json()["tools"]}
    assert {"format": "csv", "settings": {}, "from": ["json"]} in tools["csv-json"]["produces"]
    assert {"format": "jpeg", "settings": {"format": "jpg"}, "from": None} in tools["convert"]["produces"]
    formats = av.get("/api/v1/convert/formats").json()
    assert formats["maxSteps"] == 4
    assert "pdf" in formats["matrix"]["docx"] and "json" in formats["matrix"]["xlsx"]
    assert formats["pairs"] == sum(len(v) for v in formats["matrix"].values()) > 500
    for source, targets in formats["matrix"].items():
        assert source not in targets
        for target in targets[:3]:
            assert av.get("/api/v1/convert/routes", params={"from": source, "to": target}).status_code == 200


def test_refusals(av: TestClient, samples: Samples) -> None:
    cases = [
        (convert(av, *samples.get("png"), "nope"), 400, "UNKNOWN_FORMAT"),
        (convert(av, *samples.get("png"), "png"), 400, "SAME_FORMAT"),
        (convert(av, *samples.get("mp3"), "docx"), 422, "NO_ROUTE"),
        (convert(av, "blob.pdf", b"\x00\x01garbage" * 50, "png"), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (av.post("/api/v1/convert", files={"file": ("a.png", samples.get("png")[1], "image/png")}), 400, "NO_TARGET"),
        (av.post("/api/v1/convert", data={"to": "pdf"}, files={"x": ("a", b"", "text/plain")}), 400, None),
        (av.get("/api/v1/convert/routes", params={"from": "xyz"}), 400, "UNKNOWN_FORMAT"),
    ]
    for r, status, code in cases:
        assert r.status_code == status, r.text
        assert "error" in r.json()
        if code:
            assert r.json()["code"] == code
    # A PNG named .pdf is a PNG: judged by content.
    r = convert(av, "report.pdf", samples.get("png")[1], "jpg")
    assert finish(av, r)["route"]["from"] == "png"


def test_intermediate_files_meet_the_upload_limits(tmp_path: Path, samples: Samples) -> None:
    registry.load_all()
    source = tmp_path / "in.png"
    source.write_bytes(samples.get("png")[1])
    ref = InputRef(str(source), "in.png", "png", source.stat().st_size)
    steps = [Step("convert", {"format": "tiff"}), Step("convert", {"format": "png"})]

    def spec(limits: tuple[int, int]) -> JobSpec:
        out = tmp_path / f"out-{limits[0]}"
        return JobSpec("job", steps, [ref], str(out), step_limits=limits)

    # The 48x32 TIFF between the steps is over 100 bytes, and well under 1 MB.
    outcome = run_job(spec((100, 100)), lambda *_: None, lambda: False)
    assert outcome.status == "failed" and outcome.http_status == 413
    assert outcome.error.startswith("Step 1 (convert): its output")
    assert run_job(spec((1024 * 1024, 100)), lambda *_: None, lambda: False).status == "completed"


def test_several_pages_come_back_as_one_zip(av: TestClient, tmp_path: Path) -> None:
    from tests.tools.pdf.helpers import text_pdf

    body = finish(av, convert(av, "two.pdf", text_pdf(2), "png"))
    assert body["route"]["toolIds"] == ["pdf-to-image"]
    with zipfile.ZipFile(io.BytesIO(download(av, body))) as z:
        pages = [z.read(n) for n in sorted(z.namelist())]
    assert len(pages) == 2 and all(real_kind(p, tmp_path) == "png" for p in pages)
    # A step that may give several files only ends a route: PDF to AVIF would need one after it.
    r = av.get("/api/v1/convert/routes", params={"from": "pdf", "to": "avif"})
    assert r.status_code == 422 and r.json()["code"] == "NO_ROUTE"
