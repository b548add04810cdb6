"""The Convert page in a real browser: drop a file, the targets offered are what the API says the
type reaches, and converting downloads a file of the chosen format."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pyvips
from playwright.sync_api import Page, expect

from tests.web.conftest import Server, screenshot, sign_in

NewPage = Callable[..., Page]


def test_convert_a_picture_to_pdf(new_page: NewPage, server: Server, tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    (pyvips.Image.black(40, 30, bands=3) + [200, 30, 30]).cast("uchar").write_to_file(str(picture))
    page = sign_in(new_page(), then="/")
    page.get_by_role("link", name="Convert").click()
    expect(page.get_by_role("heading", name="Convert")).to_be_visible()
    target = page.get_by_label("Target format")
    expect(target).to_be_disabled()

    page.locator(".convert-form input[type=file]").set_input_files(str(picture))
    reachable = server.api().get("/api/v1/convert/formats").json()["matrix"]["png"]
    expect(page.locator(".detected")).to_contain_text(f"looks like PNG: {len(reachable)} formats reachable")
    offered = target.locator("option").all_inner_texts()[1:]
    assert offered == [kind.upper() for kind in reachable]

    target.select_option(label="PDF")
    expect(page.locator(".route")).to_have_text("Route: Image to PDF")
    page.get_by_role("button", name="Convert", exact=True).click()
    expect(page.locator(".route-taken")).to_have_text("Converted PNG → PDF")
    screenshot(page, "convert")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download .*\.pdf")).click()
    out = tmp_path / "out.pdf"
    info.value.save_as(out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1
