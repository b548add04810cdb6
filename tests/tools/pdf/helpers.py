"""Tiny generated PDFs and result checks for the PDF tool tests (reportlab to draw, poppler to read)."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pikepdf
from fastapi.testclient import TestClient
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from tests.assertions import assert_error


def text_pdf(pages: int | list[str] = 3, size: tuple[float, float] = A4, font_size: int = 28) -> bytes:
    """One line of text per page: 'PAGE n' unless the texts are given."""
    texts = [f"PAGE {n}" for n in range(1, pages + 1)] if isinstance(pages, int) else pages
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=size)
    for text in texts:
        canvas.setFont("Helvetica", font_size)
        canvas.drawString(72, size[1] / 2, text)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def encrypted_pdf(password: str = "secret") -> bytes:
    with pikepdf.open(io.BytesIO(text_pdf(2))) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user=password, owner=password + "-owner", R=6))
        return out.getvalue()


def post(client: TestClient, tool: str, files: list[tuple[str, bytes]], settings: dict[str, Any] | None = None,
         field: str = "file") -> httpx.Response:  # fmt: skip
    parts = [(field, (name, data, "application/octet-stream")) for name, data in files]
    return client.post(f"/api/v1/tools/pdf/{tool}", files=parts, data={"settings": json.dumps(settings or {})})


def run(client: TestClient, tool: str, data: bytes, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    r = post(client, tool, [("input.pdf", data)], settings)
    assert r.status_code == 200, r.text
    return r.json()


def refused(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    return assert_error(r, status, code)


def download(client: TestClient, body: dict[str, Any], url: str | None = None) -> bytes:
    r = client.get(url or body["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


def open_result(client: TestClient, body: dict[str, Any], password: str = "") -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(download(client, body)), password=password)


def pdf_text(data: bytes, *, first: int | None = None, last: int | None = None,
             crop: tuple[float, float, float, float] | None = None) -> str:  # fmt: skip
    """pdftotext of the whole PDF, of pages first..last, or of a crop box (x, y, w, h in pixels at 72 dpi,
    top-left origin)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        cmd = ["pdftotext", "-q", "-enc", "UTF-8"]
        if first:
            cmd += ["-f", str(first)]
        if last:
            cmd += ["-l", str(last)]
        if crop:
            cmd += ["-x", str(int(crop[0])), "-y", str(int(crop[1])), "-W", str(int(crop[2])), "-H", str(int(crop[3]))]
        subprocess.run([*cmd, str(src), str(Path(tmp) / "out.txt")], check=True, timeout=60)
        return (Path(tmp) / "out.txt").read_text("utf-8")


def page_texts(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        count = len(pdf.pages)
    return [" ".join(pdf_text(data, first=n, last=n).split()) for n in range(1, count + 1)]


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in sorted(z.namelist())}
