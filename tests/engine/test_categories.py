"""The catalog's categories and icons: every tool has one of the seed's groups and a symbol the UI's sprite holds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine import registry
from app.engine.categories import CATEGORIES, CATEGORY_ICONS
from app.engine.tool import Inputs, Tool, ToolContext, ToolResult, ToolSettings

SPRITE = Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "icons" / "sprite.svg"
SVG = "{http://www.w3.org/2000/svg}"


def sprite_ids() -> set[str]:
    root = ET.parse(SPRITE).getroot()
    return {s.get("id") for s in root.iter(f"{SVG}symbol") if s.find(f"{SVG}*") is not None}


def test_every_tool_has_a_seed_category_and_every_category_has_tools() -> None:
    tools = registry.load_all()
    assert len(tools) > 150
    missing = sorted(t.id for t in tools.values() if t.category not in CATEGORIES)
    assert missing == []
    used = {t.category for t in tools.values()}
    assert used == set(CATEGORIES)


def test_the_seed_places_tools_where_its_tables_list_them() -> None:
    tools = registry.load_all()
    expected = {
        "resize": "Essentials",
        "favicon": "Optimization",
        "vignette": "Adjustments",
        "remove-background": "AI Tools",
        "ai-canvas-expand": "AI Tools",
        "meme-generator": "Watermark & Overlay",
        "barcode-generate": "Utilities",
        "sprite-sheet": "Layout & Composition",
        "pdf-to-image": "Format & Conversion",
        "heic-to-jpg": "Format & Conversion",  # a conversion preset
        "auto-subtitles": "Video",
        "transcribe-audio": "Audio",
        "ocr-pdf": "Document",
        "word-to-pdf": "Document",
        "to-epub": "Document",
        "extract-zip": "File",
        "yaml-json": "File",
    }
    assert {tool_id: tools[tool_id].category for tool_id in expected} == expected


def test_every_icon_is_a_symbol_in_the_sprite() -> None:
    ids = sprite_ids()
    assert set(CATEGORY_ICONS) == set(CATEGORIES)
    assert set(CATEGORY_ICONS.values()) <= ids
    tools = registry.load_all()
    unknown = sorted(f"{t.id}:{t.icon}" for t in tools.values() if t.icon not in ids)
    assert unknown == []
    # Common tools have their own picture, not only their category's.
    assert (tools["crop"].icon, tools["merge-pdf"].icon, tools["create-zip"].icon) == ("crop", "merge", "archive")


def test_an_unknown_category_fails_registration() -> None:
    class Settings(ToolSettings):
        pass

    def run(ctx: ToolContext, settings: Settings) -> ToolResult:
        return ToolResult([])

    spec = Tool(
        id="test-bad-category",
        section="image",
        title="Bad",
        description="",
        settings=Settings,
        inputs=Inputs(kinds=("png",)),
        run=run,
        category="Misc",
    )
    with pytest.raises(registry.RegistryError, match="unknown category"):
        registry.register(spec)


def test_catalog_answer_carries_category_and_icon(tools_client: TestClient) -> None:
    r = tools_client.get("/api/v1/tools")
    assert r.status_code == 200, r.text
    tools = {t["id"]: t for t in r.json()["tools"]}
    assert (tools["test-copy"]["category"], tools["test-copy"]["icon"]) == ("File", "cat-file")
    assert all(t["category"] in CATEGORIES for t in tools.values())
