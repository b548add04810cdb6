"""Choosing files in a real browser: pickers and "run a tool on this file" offer only what fits, a
refused file is replaced by the next pick (never joined into a batch), and a multi-file tool takes its
files in the order the user sets (by buttons, from the keyboard)."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pyvips
from playwright.sync_api import Page, expect
from reportlab.pdfgen import canvas as rl_canvas

from tests.web.conftest import Server, sign_in


def png(path: Path) -> Path:
    (pyvips.Image.black(40, 30, bands=3) + [200, 30, 30]).cast("uchar").write_to_file(str(path))
    return path


def pdf(path: Path, text: str) -> Path:
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf)
    canvas.setFont("Helvetica", 24)
    canvas.drawString(72, 400, text)
    canvas.showPage()
    canvas.save()
    path.write_bytes(buf.getvalue())
    return path


def upload(server: Server, path: Path) -> dict:
    r = server.api().post("/api/v1/files/upload", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 201, r.text
    return r.json()["files"][0]


def test_pickers_offer_only_files_and_tools_that_fit(
    new_page: Callable[..., Page], server: Server, tmp_path: Path
) -> None:
    picture = upload(server, png(tmp_path / "holiday.png"))
    document = upload(server, pdf(tmp_path / "report.pdf", "Report"))
    page = sign_in(new_page(), then="/tools/image/resize")
    page.get_by_role("button", name="Choose from library").click()
    items = page.locator("dialog.picker .picker-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("holiday.png")
    page.locator("dialog.picker").get_by_role("button", name="Close").click()

    page.goto(f"/files/{document['id']}")
    chooser = page.get_by_label("Tool to run on this file")
    expect(chooser.locator("option", has_text="Compress PDF")).to_have_count(1)
    expect(chooser.locator("option", has_text=re.compile(r"^Resize$"))).to_have_count(0)
    offered = chooser.locator("option").all_inner_texts()
    tools = {t["title"]: t for t in server.api().get("/api/v1/tools").json()["tools"]}
    refusing = [title for title in offered[1:] if "pdf" not in tools[title]["inputs"]["accepts"]]
    assert not refusing, refusing
    page.goto(f"/files/{picture['id']}")
    expect(page.get_by_label("Tool to run on this file").locator("option", has_text="Merge PDFs")).to_have_count(0)


def test_a_refused_file_is_replaced_not_joined(new_page: Callable[..., Page], tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/image/resize")
    expect(page.get_by_text("One file at a time, or several as a batch")).to_be_visible()
    wrong = tmp_path / "notes.png"
    wrong.write_text("plain text with a picture's name")
    page.locator(".dropzone input[type=file]").set_input_files(str(wrong))
    page.locator('.field[data-field="width"] input').fill("20")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".dropzone-wrap .error-slot")).to_contain_text("notes.png")
    page.locator(".dropzone input[type=file]").set_input_files(str(png(tmp_path / "right.png")))
    expect(page.locator(".file-list li")).to_have_count(1)
    expect(page.locator(".file-list li .file-name")).to_have_text("right.png")
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_visible()  # "Run", not "Run on 2 files"
    run.click()
    expect(page.locator(".result")).to_contain_text("20")


def test_merge_takes_the_files_in_the_order_set_by_keyboard(new_page: Callable[..., Page], tmp_path: Path) -> None:
    page = sign_in(new_page(), then="/tools/pdf/merge-pdf")
    first, second = pdf(tmp_path / "a-first.pdf", "Alpha"), pdf(tmp_path / "b-second.pdf", "Bravo")
    page.locator(".dropzone input[type=file]").set_input_files([str(first), str(second)])
    names = page.locator(".file-list li .file-name")
    expect(names).to_have_text(["a-first.pdf", "b-second.pdf"])
    move_up = page.get_by_role("button", name="Move b-second.pdf up")
    move_up.focus()
    page.keyboard.press("Enter")
    expect(names).to_have_text(["b-second.pdf", "a-first.pdf"])
    expect(page.get_by_role("button", name="Move b-second.pdf up")).to_be_disabled()
    page.get_by_role("button", name="Run", exact=True).click()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download")).first.click()
    merged = tmp_path / "merged.pdf"
    info.value.save_as(merged)
    text = subprocess.run(["pdftotext", str(merged), "-"], capture_output=True, text=True, check=True).stdout
    assert text.index("Bravo") < text.index("Alpha")
