"""Rendering, text, redaction, OCR and Word conversion through the HTTP API."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pyvips
from fastapi.testclient import TestClient
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from tests.tools.av import fail_long, run_long
from tests.tools.pdf.helpers import download, encrypted_pdf, pdf_text, post, refused, run, text_pdf, zip_entries


def test_pdf_to_image_renders_pages_at_the_asked_dpi(av: TestClient) -> None:
    data = text_pdf(3, size=(144, 72), font_size=12)
    body = run(av, "pdf-to-image", data, {"pages": "2", "format": "jpg", "dpi": 144})
    image = pyvips.Image.new_from_buffer(download(av, body), "")
    assert (image.width, image.height) == (288, 144) and image.get("vips-loader") == "jpegload_buffer"
    assert image.bands == 3
    # One page: that file, and a list of one (SnapOtter's shape).
    assert body["downloadUrl"].split("?")[0].endswith("/input-page-2.jpg")
    assert (body["selectedPages"], body["pageCount"], body["zipUrl"], body["zipSize"]) == ([2], 3, None, None)
    assert [(p["page"], p["downloadUrl"], p["size"]) for p in body["pages"]] == [
        (2, body["downloadUrl"], body["processedSize"])
    ]

    body = run(av, "pdf-to-image", data, {"format": "webp", "dpi": 72})
    assert (body["selectedPages"], body["pageCount"]) == ([1, 2, 3], 3)
    names = ["input-page-1.webp", "input-page-2.webp", "input-page-3.webp"]
    assert body["zipUrl"] == body["downloadUrl"] and body["zipUrl"].split("?")[0].endswith("/input_images.zip")
    archive = download(av, body)
    assert body["zipSize"] == len(archive)
    entries = zip_entries(archive)
    assert list(entries) == names
    for entry, name in zip(body["pages"], names, strict=True):
        assert entry["downloadUrl"].split("?")[0].endswith("/" + name)
        assert download(av, body, entry["downloadUrl"]) == entries[name] and entry["size"] == len(entries[name])
    assert [p["page"] for p in body["pages"]] == [1, 2, 3]
    page = pyvips.Image.new_from_buffer(entries["input-page-3.webp"], "")
    assert (page.width, page.height) == (144, 72)
    # White paper, black text.
    assert page.max() > 250 and page.min() < 60
    # Pages in the order asked, each once.
    body = run(av, "pdf-to-image", data, {"pages": "3,1,3", "dpi": 36})
    assert body["selectedPages"] == [3, 1] and [p["page"] for p in body["pages"]] == [3, 1]

    refused(post(av, "pdf-to-image", [("a.pdf", data)], {"pages": "4"}), 400, "PAGE_OUT_OF_RANGE")
    refused(post(av, "pdf-to-image", [("a.pdf", data)], {"pages": "first"}), 400, "VALIDATION_ERROR")
    refused(post(av, "pdf-to-image", [("a.pdf", data)], {"format": "gif"}), 400, "VALIDATION_ERROR")
    refused(post(av, "pdf-to-image", [("a.pdf", encrypted_pdf())]), 400, "ENCRYPTED_PDF")


def test_pdf_to_image_info_and_preview_routes(av: TestClient) -> None:
    with pikepdf.open(io.BytesIO(text_pdf(2, size=(200, 100)))) as pdf:
        pdf.pages[1].rotate(90, relative=True)
        buf = io.BytesIO()
        pdf.save(buf)
    data = buf.getvalue()
    files = {"file": ("a.pdf", data, "application/pdf")}
    r = av.post("/api/v1/tools/pdf/pdf-to-image/info", files=files)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["pageCount"] == 2
    assert info["pages"][0] == {"page": 1, "widthPt": 200, "heightPt": 100, "rotation": 0}
    assert info["pages"][1] == {"page": 2, "widthPt": 100, "heightPt": 200, "rotation": 90}

    r = av.post("/api/v1/tools/pdf/pdf-to-image/preview", files=files, data={"settings": '{"page": 2, "dpi": 36}'})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-page-count"] == "2"
    image = pyvips.Image.new_from_buffer(r.content, "")
    assert (image.width, image.height) == (50, 100)
    r = av.post("/api/v1/tools/pdf/pdf-to-image/preview", files=files, data={"settings": '{"page": 3}'})
    refused(r, 400, "PAGE_OUT_OF_RANGE")
    r = av.post("/api/v1/tools/pdf/pdf-to-image/info", files={"file": ("a.pdf", encrypted_pdf())})
    refused(r, 400, "ENCRYPTED_PDF")


def test_pdf_to_text_extracts_every_page(av: TestClient) -> None:
    body = run(av, "pdf-to-text", text_pdf(["Hello Lutra", "Ünïcödé text", "Third page"]))
    text = download(av, body).decode("utf-8")
    assert [" ".join(p.split()) for p in text.split("\f") if p.strip()] == ["Hello Lutra", "Ünïcödé text", "Third page"]
    assert body["pages"] == 3 and body["hasText"] is True
    refused(post(av, "pdf-to-text", [("a.pdf", encrypted_pdf())]), 400, "ENCRYPTED_PDF")


def _letter() -> bytes:
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=(400, 300))
    canvas.setFont("Helvetica", 18)
    canvas.drawString(40, 200, "Dear Alice Smith,")
    canvas.drawString(40, 160, "your account SECRET-4711 is ready.")
    canvas.showPage()
    canvas.setFont("Helvetica", 18)
    canvas.drawString(40, 200, "Nothing to hide on this page.")
    canvas.showPage()
    canvas.setTitle("Letter to Alice Smith")
    canvas.save()
    return buf.getvalue()


def test_redact_pdf_removes_the_text_for_real(av: TestClient) -> None:
    data = _letter()
    result = run_long(av, "pdf/redact-pdf", [("letter.pdf", data)], {"terms": ["alice smith", "secret-4711"]})
    assert result["terms"] == {"alice smith": 1, "secret-4711": 1}
    assert result["pagesRedacted"] == [1]
    out = download(av, result)
    text = pdf_text(out).lower()
    assert "alice" not in text and "smith" not in text and "secret" not in text
    assert b"Alice" not in out and b"SECRET" not in out  # not in any stream, font or metadata either
    assert "Nothing to hide on this page." in pdf_text(out)  # the other page keeps its text
    with pikepdf.open(io.BytesIO(out)) as pdf:
        assert "/Title" not in pdf.docinfo
        assert [float(v) for v in pdf.pages[0].mediabox] == [0, 0, 400, 300]
    # Black where the name was (x 40.., baseline 200 from the bottom: y about 85-100 from the top).
    page = pyvips.Image.pdfload_buffer(out, page=0, dpi=72).flatten(background=[255, 255, 255])
    start, end = (40 + stringWidth(t, "Helvetica", 18) for t in ("Dear Alice ", "Dear Alice Smith"))
    assert max(page(x, 92)[0] for x in range(int(start) + 1, int(end) - 1, 3)) < 40  # "Smith": all black
    assert min(page(x, 92)[0] for x in range(40, 70)) < 60  # "Dear" still drawn (dark glyph pixels)
    assert max(page(x, 92)[0] for x in range(40, 70)) > 200  # ... and not blacked out

    # Case-sensitive: "alice smith" does not match "Alice Smith"; nothing changes.
    result = run_long(av, "pdf/redact-pdf", [("letter.pdf", data)], {"terms": ["alice smith"], "caseSensitive": True})
    assert result["matches"] == 0 and "Alice Smith" in pdf_text(download(av, result))

    failed = fail_long(av, "pdf/redact-pdf", [("letter.pdf", data)], {"terms": []})
    assert failed["code"] == "VALIDATION_ERROR"


def _scan() -> bytes:
    """A PDF page that is only a picture of large text: nothing to extract until OCR reads it."""
    text = pyvips.Image.text("HELLO LUTRA SCANNER", dpi=300, font="DejaVu Sans Bold 12")
    picture = (255 - text.embed(40, 40, text.width + 80, text.height + 80, extend="black")).cast("uchar")
    png = picture.write_to_buffer(".png")
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=(picture.width * 72 / 300, picture.height * 72 / 300))
    canvas.drawImage(
        ImageReader(io.BytesIO(png)), 0, 0, width=picture.width * 72 / 300, height=picture.height * 72 / 300
    )
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def test_ocr_pdf_makes_a_scan_searchable(av: TestClient) -> None:
    data = _scan()
    assert pdf_text(data).strip() == ""
    result = run_long(av, "pdf/ocr-pdf", [("scan.pdf", data)], {"quality": "fast", "language": "en"})
    out = download(av, result)
    assert "LUTRA" in pdf_text(out).upper()
    assert result["characters"] > 10
    failed = fail_long(av, "pdf/ocr-pdf", [("scan.pdf", data)], {"pages": "2"})
    assert failed["code"] == "PAGE_OUT_OF_RANGE"


def test_pdf_to_word_writes_a_docx_with_the_text(av: TestClient) -> None:
    result = run_long(av, "pdf/pdf-to-word", [("doc.pdf", text_pdf(["First page words", "Second page words"]))])
    out = download(av, result)
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        document = z.read("word/document.xml").decode("utf-8")
    assert "First page words" in document and "Second page words" in document
    assert result["downloadUrl"].split("?")[0].endswith(".docx")
