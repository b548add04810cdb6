"""GET /api/v1/pipeline/tools lists exactly the tools a pipeline accepts as a step, and those run."""

from __future__ import annotations

import io

import pyvips
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas

from app.engine import registry
from tests.test_pipelines import pclient, png, run

__all__ = ["pclient"]


def test_listed_tools_are_exactly_those_the_executor_accepts(pclient: TestClient) -> None:
    listed = set(pclient.get("/api/v1/pipeline/tools").json()["toolIds"])
    refused: dict[str, str] = {}
    for tool in registry.all_tools():
        # The executor's own check (check_steps) runs on save too, before any settings are looked at.
        r = pclient.post("/api/v1/pipeline/save", json={"name": "probe", "steps": [{"toolId": tool.id}]})
        code = r.json().get("code") if r.status_code != 201 else None
        if code == "FEATURE_NOT_INSTALLED" and tool.preflight is not None and tool.id in listed:
            continue  # the default settings pick a model not installed here; another setting may run
        if code in ("NOT_PIPELINE_TOOL", "FEATURE_NOT_INSTALLED", "UNKNOWN_TOOL"):
            refused[tool.id] = code
        else:
            assert r.status_code in (201, 400), (tool.id, r.text)
    accepted = {t.id for t in registry.all_tools()} - set(refused)
    assert listed == accepted, (listed - accepted, accepted - listed)
    # Tools that need several files or a second upload are neither listed nor accepted.
    for multi in ("collage", "compare", "stitch", "merge-pdf", "sprite-sheet"):
        assert refused.get(multi) == "NOT_PIPELINE_TOOL", multi
    assert {"resize", "crop", "pdf-to-image", "compress-pdf", "convert-video"} <= listed


def test_compare_and_collage_are_refused_as_steps(pclient: TestClient) -> None:
    for tool in ("compare", "collage"):
        r = run(pclient, [{"toolId": "resize", "settings": {"width": 20}}, {"toolId": tool, "settings": {}}])
        assert r.status_code == 400 and r.json()["code"] == "NOT_PIPELINE_TOOL", r.text
        assert "can't be a pipeline step" in r.json()["error"]


def test_listed_tools_run_as_steps(pclient: TestClient) -> None:
    buf = io.BytesIO()
    doc = canvas.Canvas(buf, pagesize=(200, 100))
    doc.drawString(20, 50, "one")
    doc.showPage()
    doc.save()
    steps = [{"toolId": "pdf-to-image", "settings": {"dpi": 72}}, {"toolId": "resize", "settings": {"width": 50}}]
    r = run(pclient, steps, buf.getvalue(), "doc.pdf")
    assert r.status_code == 200, r.text
    image = pyvips.Image.new_from_buffer(pclient.get(r.json()["downloadUrl"]).content, "")
    assert (image.width, image.height) == (50, 25)
    r = run(pclient, [{"toolId": "crop", "settings": {"width": 10, "height": 10}}], png())
    assert r.status_code == 200, r.text
