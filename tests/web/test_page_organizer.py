"""The PDF page organiser in a real browser: thumbnails dragged, turned and deleted become one
multi-tool-pdf request, checked on the resulting PDF's pages."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
from playwright.sync_api import Page, expect
from reportlab.pdfgen import canvas

from tests.web.conftest import screenshot, sign_in

NewPage = Callable[..., Page]


def three_pages(path: Path) -> Path:
    doc = canvas.Canvas(str(path), pagesize=(300, 200))
    for word in ("ALPHA", "BRAVO", "CHARLIE"):
        doc.setFont("Helvetica", 28)
        doc.drawString(40, 90, word)
        doc.showPage()
    doc.save()
    return path


def test_drag_turn_and_delete_pages_then_apply(new_page: NewPage, tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/pdf-organizer")
    expect(page.get_by_role("heading", name="PDF page organiser")).to_be_visible()
    page.locator(".dropzone input[type=file]").set_input_files(str(three_pages(tmp_path / "doc.pdf")))
    tiles = page.locator(".page-tile")
    expect(tiles).to_have_count(3)
    expect(page.locator(".page-tile img").nth(2)).to_have_js_property("complete", True)

    page.get_by_role("button", name="Delete Page 2").click()
    page.get_by_role("button", name="Turn Page 1 right").click()
    page.locator('.page-tile[data-source="3"]').drag_to(page.locator('.page-tile[data-source="1"]'))
    expect(tiles).to_have_count(2)
    assert [tiles.nth(i).get_attribute("data-source") for i in range(2)] == ["3", "1"]
    assert [tiles.nth(i).get_attribute("data-rotation") for i in range(2)] == ["0", "90"]
    screenshot(page, "pdf-organizer")

    page.get_by_role("button", name="Apply").click()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download doc_edited\.pdf")).click()
    out = tmp_path / "out.pdf"
    info.value.save_as(out)
    with pikepdf.open(out) as doc:
        assert [int(p.obj.get("/Rotate", 0)) for p in doc.pages] == [0, 90]
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert [t.strip() for t in text.split("\f")[:2]] == ["CHARLIE", "ALPHA"]
