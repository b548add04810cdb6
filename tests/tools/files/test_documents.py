"""Markdown, HTML and EPUB tools through the HTTP API (WeasyPrint, pandoc, markdown-it): the text and
pictures of the results are checked, and a local HTTP server proves that nothing is ever fetched."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import docx
import pikepdf
import pytest
from docx.shared import Inches
from fastapi.testclient import TestClient
from PIL import Image

from tests.tools.files.helpers import fetch, post, refused, run, run_long

pytestmark = pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")


def png(colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def spy() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request: (base URL, paths requested)."""
    hits: list[str] = []
    picture = png()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(picture)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        out = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", str(src), "-"], capture_output=True, timeout=60)
        return " ".join(out.stdout.decode().split())


def pdf_images(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sum(len(page.get_images()) for page in pdf.pages)


def epub_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_markdown_to_html_escapes_raw_html(av: TestClient) -> None:
    source = (
        b"# Title\n\nSome **bold** and ~~old~~ text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        b"<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3))\n"
    )
    body = run(av, "markdown-to-html", [("note.md", source)])
    page = fetch(av, body).decode()
    assert body["downloadUrl"].split("?")[0].endswith("/note.html")
    assert page.startswith("<!DOCTYPE html>") and "<h1>Title</h1>" in page and "<strong>bold</strong>" in page
    assert "<s>old</s>" in page and "<td>1</td>" in page
    assert "<script" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    fragment = fetch(av, run(av, "markdown-to-html", [("note.md", source)], {"standalone": False})).decode()
    assert fragment.startswith("<h1>Title</h1>") and "<style>" not in fragment
    refused(post(av, "markdown-to-html", [("x.md", b"%PDF-1.4\n")]), 415)


def test_html_to_pdf_fetches_nothing(av: TestClient, spy: tuple[str, list[str]]) -> None:
    base, hits = spy
    inline = base64.b64encode(png((0, 0, 255))).decode()
    page = f"""<!DOCTYPE html><html><head>
<link rel="stylesheet" href="{base}/style.css"><style>@import url("{base}/import.css");
@font-face {{ font-family: X; src: url("{base}/font.woff"); }} body {{ background: url("{base}/bg.png"); }}</style>
</head><body><h1>Invoice 2041</h1><p>Total due: 99 EUR</p>
<img src="{base}/remote.png"><img src="file:///etc/passwd"><img src="/etc/hostname"><img src="data:image/png;base64,{inline}">
<iframe src="file:///etc/passwd"></iframe><object data="{base}/obj"></object><script>document.write('SCRIPT RAN')</script>
</body></html>"""  # noqa: E501
    result = run_long(av, "html-to-pdf", [("invoice.html", page.encode())])
    assert result["pages"] == 1 and result["downloadUrl"].split("?")[0].endswith("/invoice.pdf")
    pdf = fetch(av, result)
    text = pdf_text(pdf)
    assert "Invoice 2041" in text and "Total due: 99 EUR" in text
    assert "root:" not in text and "SCRIPT RAN" not in text
    assert pdf_images(pdf) == 1  # the data: URI only
    assert hits == []
    refused(post(av, "html-to-pdf", [("x.html", b"# just markdown\n\nhello **there**\n")]), 415)


def test_markdown_to_pdf_fetches_nothing(av: TestClient, spy: tuple[str, list[str]]) -> None:
    base, hits = spy
    source = f"# Report\n\nAll systems nominal.\n\n![remote]({base}/md.png)\n\n![local](file:///etc/passwd)\n"
    result = run_long(av, "markdown-to-pdf", [("report.md", source.encode())])
    pdf = fetch(av, result)
    text = pdf_text(pdf)
    assert "Report" in text and "All systems nominal." in text and "root:" not in text
    assert pdf_images(pdf) == 0 and hits == []


def test_markdown_to_docx(av: TestClient, spy: tuple[str, list[str]]) -> None:
    base, hits = spy
    source = (f"# Plan\n\nStep one is *easy*.\n\n- alpha\n- beta\n\n![remote picture]({base}/docx.png)\n\n"
              "![secret](/etc/passwd)\n\n<b>raw html</b>\n").encode()  # fmt: skip
    result = run_long(av, "markdown-to-docx", [("plan.md", source)])
    data = fetch(av, result)
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert "Plan" in texts and "Step one is easy." in texts and "alpha" in texts
    assert "remote picture" in texts  # the picture's description stays, the picture doesn't
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not [n for n in z.namelist() if n.startswith("word/media/")]
        assert b"root:" not in b"".join(z.read(n) for n in z.namelist())
    assert hits == []


def test_to_epub_and_back(av: TestClient, spy: tuple[str, list[str]]) -> None:
    base, hits = spy
    # Word with an embedded picture: the picture is kept.
    document = docx.Document()
    document.add_heading("Chapter One", 1)
    document.add_paragraph("It was a bright cold day in April.")
    document.add_picture(io.BytesIO(png((0, 200, 0))), width=Inches(1))
    document.add_heading("Chapter Two", 1)
    document.add_paragraph("The clocks were striking thirteen.")
    buf = io.BytesIO()
    document.save(buf)
    result = run_long(av, "to-epub", [("novel.docx", buf.getvalue())])
    assert result["downloadUrl"].split("?")[0].endswith("/novel.epub")
    book = fetch(av, result)
    entries = epub_entries(book)
    assert entries["mimetype"] == b"application/epub+zip"
    pages = b"".join(v for k, v in entries.items() if k.endswith(".xhtml"))
    assert b"bright cold day" in pages and b"striking thirteen" in pages
    assert [k for k in entries if k.endswith(".png")]

    # Markdown with remote and local pictures, HTML and plain text: nothing fetched or read.
    md = f"# Notes\n\nHello there.\n\n![r]({base}/epub.png)\n\n![f](/etc/passwd)\n".encode()
    entries = epub_entries(fetch(av, run_long(av, "to-epub", [("notes.md", md)])))
    assert b"Hello there." in b"".join(entries.values()) and b"root:" not in b"".join(entries.values())
    page = f'<html><body><h1>Web</h1><p>Page text</p><img src="{base}/html.png"></body></html>'.encode()
    entries = epub_entries(fetch(av, run_long(av, "to-epub", [("page.html", page)])))
    assert b"Page text" in b"".join(entries.values()) and not [k for k in entries if k.endswith(".png")]
    entries = epub_entries(fetch(av, run_long(av, "to-epub", [("plain.txt", b"First para.\n\n*Not emphasis*\n")])))
    assert b"*Not emphasis*" in b"".join(entries.values())
    assert hits == []

    # And back: the EPUB to Markdown, HTML (pictures inline), Word and PDF.
    md_out = fetch(av, run_long(av, "epub-convert", [("novel.epub", book)], {"format": "md"})).decode()
    assert "bright cold day" in md_out and "Chapter Two" in md_out
    html_out = fetch(av, run_long(av, "epub-convert", [("novel.epub", book)], {"format": "html"})).decode()
    assert "striking thirteen" in html_out and re.search(r'<img[^>]+src="data:image/png;base64,', html_out)
    docx_out = docx.Document(io.BytesIO(fetch(av, run_long(av, "epub-convert", [("novel.epub", book)],
                                                            {"format": "docx"}))))  # fmt: skip
    assert "It was a bright cold day in April." in [p.text for p in docx_out.paragraphs]
    result = run_long(av, "epub-convert", [("novel.epub", book)])
    pdf = fetch(av, result)
    assert "The clocks were striking thirteen." in pdf_text(pdf) and pdf_images(pdf) == 1
    refused(post(av, "epub-convert", [("novel.docx", buf.getvalue())]), 415)
    refused(post(av, "epub-convert", [("novel.epub", book)], {"format": "mobi"}), 400, "VALIDATION_ERROR")
