"""LibreOffice tools through the HTTP API (long tools: 202, then SSE): the converted documents are
opened and their text, cells and slide counts checked."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pptx import Presentation
from pptx.util import Inches

from tests.tools.files.helpers import fail_long, fetch, post, refused, run_long, xlsx

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")


def word_doc(*paragraphs: str) -> bytes:
    document = docx.Document()
    document.add_heading(paragraphs[0], 1)
    for text in paragraphs[1:]:
        document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def slides(*titles: str) -> bytes:
    deck = Presentation()
    for title in titles:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
        box = slide.shapes.add_textbox(Inches(1), Inches(3), Inches(6), Inches(1))
        box.text_frame.text = f"Body of {title}"
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        out = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", str(src), "-"], capture_output=True, timeout=60)
        return " ".join(out.stdout.decode().split())


def odf_content(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("content.xml").decode()


def test_convert_document(av: TestClient) -> None:
    source = word_doc("Quarterly report", "Revenue grew by 12 percent.")
    result = run_long(av, "convert-document", [("report.docx", source)], {"format": "odt"})
    assert result["downloadUrl"].split("?")[0].endswith("/report.odt")
    odt = fetch(av, result)
    assert odt[30:80].startswith(b"mimetypeapplication/vnd.oasis.opendocument.text")
    assert "Revenue grew by 12 percent." in odf_content(odt)

    back = fetch(av, run_long(av, "convert-document", [("report.odt", odt)], {"format": "docx"}))
    texts = [p.text for p in docx.Document(io.BytesIO(back)).paragraphs]
    assert "Quarterly report" in texts and "Revenue grew by 12 percent." in texts

    text = fetch(av, run_long(av, "convert-document", [("report.docx", source)], {"format": "txt"})).decode("utf-8-sig")
    assert text.split() == ["Quarterly", "report", "Revenue", "grew", "by", "12", "percent."]
    rtf = fetch(av, run_long(av, "convert-document", [("note.txt", b"Plain words here\n")], {"format": "rtf"}))
    assert rtf.startswith(b"{\\rtf") and b"Plain words here" in rtf

    refused(post(av, "convert-document", [("report.docx", source)], {"format": "pdf"}), 400, "VALIDATION_ERROR")
    body = refused(post(av, "convert-document", [("deck.pptx", slides("A"))], {"format": "odt"}), 415)
    assert "pptx" in body["error"]


def test_convert_presentation(av: TestClient) -> None:
    deck = slides("Intro", "Results")
    odp = fetch(av, run_long(av, "convert-presentation", [("deck.pptx", deck)], {"format": "odp"}))
    content = odf_content(odp)
    assert len(re.findall(r"<draw:page[ >]", content)) == 2 and "Results" in content
    back = fetch(av, run_long(av, "convert-presentation", [("deck.odp", odp)], {"format": "pptx"}))
    pres = Presentation(io.BytesIO(back))
    assert len(pres.slides) == 2
    assert "Body of Intro" in [s.text_frame.text for s in pres.slides[0].shapes if s.has_text_frame]


def test_convert_spreadsheet(av: TestClient) -> None:
    book = xlsx([["city", "pop"], ["Oslo", 700000], ["Bergen", 285000]])
    ods = fetch(av, run_long(av, "convert-spreadsheet", [("cities.xlsx", book)], {"format": "ods"}))
    content = odf_content(ods)
    assert "Bergen" in content and 'office:value="285000"' in content

    # A semicolon CSV becomes a workbook with numeric cells.
    result = run_long(av, "convert-spreadsheet", [("c.csv", b"city;pop\nOslo;700000\nRome;2800000\n")])
    sheet = load_workbook(io.BytesIO(fetch(av, result))).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells == [["city", "pop"], ["Oslo", 700000], ["Rome", 2800000]]

    csv = fetch(av, run_long(av, "convert-spreadsheet", [("cities.ods", ods)], {"format": "csv"})).decode()
    assert csv.split() == ["city,pop", "Oslo,700000", "Bergen,285000"]


def test_office_to_pdf(av: TestClient) -> None:
    result = run_long(av, "word-to-pdf", [("memo.docx", word_doc("Memo title", "Meet at noon on Friday."))])
    assert result["pages"] == 1 and result["downloadUrl"].split("?")[0].endswith("/memo.pdf")
    pdf = fetch(av, result)
    assert pdf.startswith(b"%PDF-") and "Meet at noon on Friday." in pdf_text(pdf)

    book = xlsx([["Product", "Price"], ["Teapot", 42]])
    text = pdf_text(fetch(av, run_long(av, "excel-to-pdf", [("prices.xlsx", book)])))
    assert "Teapot" in text and "42" in text

    result = run_long(av, "powerpoint-to-pdf", [("deck.pptx", slides("First slide", "Second slide", "Third slide"))])
    assert result["pages"] == 3
    text = pdf_text(fetch(av, result))
    assert "First slide" in text and "Body of Third slide" in text

    body = refused(post(av, "word-to-pdf", [("prices.xlsx", book)]), 415)
    assert "xlsx" in body["error"]
    refused(post(av, "powerpoint-to-pdf", [("memo.docx", word_doc("x"))]), 415)


def test_damaged_documents_fail_cleanly(av: TestClient) -> None:
    source = word_doc("Title", "Body")
    # Entries intact but one part's bytes corrupted: the checksum check refuses it before LibreOffice.
    broken = bytearray(source)
    start = broken.find(b"word/document.xml") + 40
    broken[start : start + 40] = b"\0" * 40
    final = fail_long(av, "word-to-pdf", [("broken.docx", bytes(broken))])
    assert final.get("error") and "Traceback" not in str(final)
