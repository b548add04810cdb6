"""The pikepdf structure tools through the HTTP API: pages, order, rotation, encryption, metadata,
boxes, imposition and overlays, checked in the resulting files (page counts, text, dictionaries)."""

from __future__ import annotations

import io

import pikepdf
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas as rl_canvas

from tests.tools.pdf.helpers import (
    download,
    encrypted_pdf,
    open_result,
    page_texts,
    pdf_text,
    post,
    refused,
    run,
    text_pdf,
    zip_entries,
)


def test_merge_pdf_joins_files_in_order_and_checks_the_count(av: TestClient) -> None:
    files = [("a.pdf", text_pdf(["ALPHA 1", "ALPHA 2"])), ("b.pdf", text_pdf(["BETA 1"]))]
    r = post(av, "merge-pdf", files, field="files")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pages"] == 3
    assert page_texts(download(av, body)) == ["ALPHA 1", "ALPHA 2", "BETA 1"]

    refused(post(av, "merge-pdf", files[:1], field="files"), 400, "TOO_FEW_FILES")
    refused(post(av, "merge-pdf", [("x.pdf", text_pdf(1))] * 21, field="files"), 400, "TOO_MANY_FILES")
    refused(post(av, "merge-pdf", [files[0], ("locked.pdf", encrypted_pdf())], field="files"), 400, "ENCRYPTED_PDF")


def test_split_pdf_every_n_and_by_ranges(av: TestClient) -> None:
    data = text_pdf(5)
    body = run(av, "split-pdf", data, {"mode": "every", "everyN": 2})
    assert body["parts"] == 3
    parts = zip_entries(download(av, body))
    assert list(parts) == ["input_part01.pdf", "input_part02.pdf", "input_part03.pdf"]
    assert [page_texts(p) for p in parts.values()] == [["PAGE 1", "PAGE 2"], ["PAGE 3", "PAGE 4"], ["PAGE 5"]]

    body = run(av, "split-pdf", data, {"mode": "range", "range": "1-2, 4-z"})
    parts = zip_entries(download(av, body))
    assert [page_texts(p) for p in parts.values()] == [["PAGE 1", "PAGE 2"], ["PAGE 4", "PAGE 5"]]

    # One part only: the PDF itself, no ZIP.
    body = run(av, "split-pdf", data, {"mode": "range", "range": "2-3"})
    assert page_texts(download(av, body)) == ["PAGE 2", "PAGE 3"]

    r = post(av, "split-pdf", [("a.pdf", data)], {"mode": "range"})
    refused(r, 400, "VALIDATION_ERROR")
    refused(post(av, "split-pdf", [("a.pdf", data)], {"everyN": 501}), 400, "VALIDATION_ERROR")
    refused(post(av, "split-pdf", [("a.pdf", data)], {"mode": "range", "range": "1-9"}), 400, "PAGE_OUT_OF_RANGE")


def test_rotate_pdf_sets_the_rotation_of_the_chosen_pages(av: TestClient) -> None:
    body = run(av, "rotate-pdf", text_pdf(3), {"angle": 90, "range": "2-z"})
    with open_result(av, body) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [0, 90, 90]
    body = run(av, "rotate-pdf", text_pdf(2), {"angle": 270})
    with open_result(av, body) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [270, 270]
    r = post(av, "rotate-pdf", [("a.pdf", text_pdf(1))], {"angle": 45})
    assert "angle" in refused(r, 400, "VALIDATION_ERROR")["details"]
    refused(post(av, "rotate-pdf", [("a.pdf", encrypted_pdf())], {"angle": 90}), 400, "ENCRYPTED_PDF")


def test_extract_remove_and_organize_follow_qpdf_range_syntax(av: TestClient) -> None:
    data = text_pdf(6)
    body = run(av, "extract-pages", data, {"range": "1-2,5,z"})
    assert page_texts(download(av, body)) == ["PAGE 1", "PAGE 2", "PAGE 5", "PAGE 6"]
    body = run(av, "extract-pages", data, {"range": "1-z:even"})
    assert page_texts(download(av, body)) == ["PAGE 2", "PAGE 4", "PAGE 6"]
    body = run(av, "extract-pages", data, {"range": "1-6x2-4,r1"})
    assert page_texts(download(av, body)) == ["PAGE 1", "PAGE 5", "PAGE 6", "PAGE 6"]

    body = run(av, "remove-pages", data, {"pages": "2,4-5"})
    assert page_texts(download(av, body)) == ["PAGE 1", "PAGE 3", "PAGE 6"]
    refused(post(av, "remove-pages", [("a.pdf", data)], {"pages": "1-z"}), 400, "PAGE_OUT_OF_RANGE")

    body = run(av, "organize-pdf", data, {"order": "3,1,2,5-z"})
    assert page_texts(download(av, body)) == ["PAGE 3", "PAGE 1", "PAGE 2", "PAGE 5", "PAGE 6"]
    body = run(av, "organize-pdf", text_pdf(3), {"order": "z-1,1"})
    assert page_texts(download(av, body)) == ["PAGE 3", "PAGE 2", "PAGE 1", "PAGE 1"]

    r = post(av, "organize-pdf", [("a.pdf", data)], {"order": "3,9"})
    assert "Page 9 does not exist" in refused(r, 400, "PAGE_OUT_OF_RANGE")["error"]
    r = post(av, "extract-pages", [("a.pdf", data)], {"range": "1-two"})
    assert "range" in refused(r, 400, "VALIDATION_ERROR")["details"]
    refused(post(av, "extract-pages", [("a.pdf", data)], {"range": "0"}), 400, "PAGE_OUT_OF_RANGE")


def test_protect_and_unlock_pdf(av: TestClient) -> None:
    body = run(av, "protect-pdf", text_pdf(2), {"userPassword": "open sesame", "ownerPassword": "boss"})
    locked = download(av, body)
    try:
        pikepdf.open(io.BytesIO(locked))
        raise AssertionError("opened without a password")
    except pikepdf.PasswordError:
        pass
    with pikepdf.open(io.BytesIO(locked), password="open sesame") as pdf:
        assert pdf.is_encrypted
        assert pdf.encryption.R == 6 and pdf.encryption.bits == 256  # AES-256
        assert not pdf.allow.modify_other

    # Other tools refuse it; unlock needs the right password.
    refused(post(av, "crop-pdf", [("a.pdf", locked)]), 400, "ENCRYPTED_PDF")
    refused(post(av, "unlock-pdf", [("a.pdf", locked)], {"password": "wrong"}), 400, "WRONG_PASSWORD")
    body = run(av, "unlock-pdf", locked, {"password": "boss"})
    assert body["wasEncrypted"] is True
    with open_result(av, body) as pdf:
        assert not pdf.is_encrypted
    assert page_texts(download(av, body)) == ["PAGE 1", "PAGE 2"]

    # Re-protecting an encrypted file takes its current password.
    r = post(av, "protect-pdf", [("a.pdf", locked)], {"userPassword": "new"})
    refused(r, 400, "WRONG_PASSWORD")
    body = run(av, "protect-pdf", locked, {"userPassword": "new", "currentPassword": "open sesame"})
    with open_result(av, body, password="new") as pdf:
        assert pdf.is_encrypted
    refused(post(av, "protect-pdf", [("a.pdf", text_pdf(1))], {"userPassword": ""}), 400, "VALIDATION_ERROR")


def test_repair_rebuilds_a_broken_xref_and_linearize_marks_the_file(av: TestClient) -> None:
    data = bytearray(text_pdf(3))
    start = data.rindex(b"startxref")
    data[start + 10 : start + 14] = b"9999"  # the cross-reference table is no longer where it says
    body = run(av, "repair-pdf", bytes(data))
    assert body["problemsFixed"] >= 1
    fixed = download(av, body)
    with pikepdf.open(io.BytesIO(fixed)) as pdf:
        assert not pdf.get_warnings()
    assert page_texts(fixed) == ["PAGE 1", "PAGE 2", "PAGE 3"]

    body = run(av, "linearize-pdf", text_pdf(3))
    with open_result(av, body) as pdf:
        assert pdf.is_linearized


def test_pdf_metadata_reads_and_writes(av: TestClient) -> None:
    body = run(av, "pdf-metadata", text_pdf(1), {"title": "Annual Report", "author": "Ada", "keywords": "a, b"})
    assert body["metadata"]["title"] == "Annual Report"
    assert body["changed"] == ["author", "keywords", "title"]
    written = download(av, body)
    with pikepdf.open(io.BytesIO(written)) as pdf:
        assert str(pdf.docinfo["/Title"]) == "Annual Report"
        assert str(pdf.docinfo["/Author"]) == "Ada"
        assert pdf.open_metadata()["dc:title"] == "Annual Report"
    # Nothing given: read only.
    body = run(av, "pdf-metadata", written)
    assert body["metadata"]["title"] == "Annual Report" and body["metadata"]["keywords"] == "a, b"
    assert body["changed"] == []
    # An empty string clears a field.
    body = run(av, "pdf-metadata", written, {"title": ""})
    assert body["metadata"]["title"] is None and body["metadata"]["author"] == "Ada"


def test_crop_pdf_sets_the_cropbox(av: TestClient) -> None:
    body = run(av, "crop-pdf", text_pdf(2, size=(600, 800)), {"margin": 50})
    with open_result(av, body) as pdf:
        assert [float(v) for v in pdf.pages[1].cropbox] == [50, 50, 550, 750]
        assert [float(v) for v in pdf.pages[1].mediabox] == [0, 0, 600, 800]
    r = post(av, "crop-pdf", [("a.pdf", text_pdf(1, size=(200, 200)))], {"margin": 100})
    refused(r, 400, "INVALID_INPUT")
    refused(post(av, "crop-pdf", [("a.pdf", text_pdf(1))], {"margin": 2001}), 400, "VALIDATION_ERROR")


def test_nup_pdf_places_pages_in_reading_order(av: TestClient) -> None:
    body = run(av, "nup-pdf", text_pdf(5), {"perSheet": 2})
    out = download(av, body)
    assert body["sheets"] == 3
    with pikepdf.open(io.BytesIO(out)) as pdf:
        w, h = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert w > h  # two portrait pages side by side on a landscape sheet
    left = pdf_text(out, first=1, last=1, crop=(0, 0, w / 2, h))
    right = pdf_text(out, first=1, last=1, crop=(w / 2, 0, w / 2, h))
    assert left.split() == ["PAGE", "1"] and right.split() == ["PAGE", "2"]
    assert page_texts(out)[2] == "PAGE 5"

    body = run(av, "nup-pdf", text_pdf(4), {"perSheet": 4})
    out = download(av, body)
    assert body["sheets"] == 1
    with pikepdf.open(io.BytesIO(out)) as pdf:
        w, h = (float(v) for v in pdf.pages[0].mediabox[2:])
    quads = [(0, 0), (w / 2, 0), (0, h / 2), (w / 2, h / 2)]
    assert [pdf_text(out, crop=(x, y, w / 2, h / 2)).split()[-1] for x, y in quads] == ["1", "2", "3", "4"]
    refused(post(av, "nup-pdf", [("a.pdf", text_pdf(1))], {"perSheet": 5}), 400, "VALIDATION_ERROR")


def _halves(data: bytes, sheet: int) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        w, h = (float(v) for v in pdf.pages[sheet - 1].mediabox[2:])
    texts = [pdf_text(data, first=sheet, last=sheet, crop=(x, 0, w / 2, h)).split() for x in (0, w / 2)]
    return [t[-1] if t else "-" for t in texts]


def test_booklet_pdf_imposes_in_saddle_stitch_order(av: TestClient) -> None:
    body = run(av, "booklet-pdf", text_pdf(8), {"perSheet": 2})
    out = download(av, body)
    assert body["sides"] == 4
    # Sheet 1: front 8|1, back 2|7; sheet 2: front 6|3, back 4|5. Fold, nest, and it reads 1..8.
    assert [_halves(out, n) for n in (1, 2, 3, 4)] == [["8", "1"], ["2", "7"], ["6", "3"], ["4", "5"]]

    # Six pages pad to eight with blanks where 7 and 8 would be.
    body = run(av, "booklet-pdf", text_pdf(6), {"perSheet": 2})
    out = download(av, body)
    assert [_halves(out, n) for n in (1, 2, 3, 4)] == [["-", "1"], ["2", "-"], ["6", "3"], ["4", "5"]]

    # Four per side: two spreads stacked; the top strip is booklet sheet 1, the bottom one sheet 2.
    body = run(av, "booklet-pdf", text_pdf(8), {"perSheet": 4})
    out = download(av, body)
    assert body["sides"] == 2
    with pikepdf.open(io.BytesIO(out)) as pdf:
        w, h = (float(v) for v in pdf.pages[0].mediabox[2:])
    cells = [(0, 0), (w / 2, 0), (0, h / 2), (w / 2, h / 2)]
    front = [pdf_text(out, first=1, last=1, crop=(x, y, w / 2, h / 2)).split()[-1] for x, y in cells]
    back = [pdf_text(out, first=2, last=2, crop=(x, y, w / 2, h / 2)).split()[-1] for x, y in cells]
    assert front == ["8", "1", "6", "3"] and back == ["2", "7", "4", "5"]


def _form_pdf() -> bytes:
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf)
    canvas.drawString(72, 760, "Name:")
    canvas.acroForm.textfield(name="name", value="FIELDVALUE", x=120, y=740, width=200, height=24)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def test_flatten_pdf_bakes_form_fields_into_the_page(av: TestClient) -> None:
    data = _form_pdf()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/AcroForm" in pdf.Root and len(pdf.pages[0].Annots) == 1
    body = run(av, "flatten-pdf", data)
    assert body["formFields"] == 1
    out = download(av, body)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        assert "/AcroForm" not in pdf.Root
        assert len(pdf.pages[0].obj.get("/Annots", [])) == 0
    assert "FIELDVALUE" in pdf_text(out)


def test_watermark_and_page_numbers_draw_text_where_asked(av: TestClient) -> None:
    body = run(av, "watermark-pdf", text_pdf(2), {"text": "DRAFT Ünïcode", "position": "top-left", "rotation": 0})
    out = download(av, body)
    assert page_texts(out) == ["DRAFT Ünïcode PAGE 1", "DRAFT Ünïcode PAGE 2"]
    assert "DRAFT" in pdf_text(out, first=1, last=1, crop=(0, 0, 300, 120))
    body = run(av, "watermark-pdf", text_pdf(1), {"text": "TILE", "position": "tiled", "rotation": 0})
    assert pdf_text(download(av, body)).count("TILE") > 5

    body = run(av, "pdf-page-numbers", text_pdf(3), {"position": "br", "fontSize": 14})
    out = download(av, body)
    w, h = 595, 842
    corner = [pdf_text(out, first=n, last=n, crop=(w - 120, h - 80, 120, 80)).split() for n in (1, 2, 3)]
    assert corner == [["1"], ["2"], ["3"]]
    body = run(av, "pdf-page-numbers", text_pdf(2), {"position": "tc", "format": "page n of total"})
    out = download(av, body)
    assert pdf_text(out, first=2, last=2, crop=(150, 0, 300, 80)).split() == ["Page", "2", "of", "2"]


def test_active_content_is_stripped_from_outputs(av: TestClient) -> None:
    with pikepdf.open(io.BytesIO(text_pdf(2))) as pdf:
        js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
        pdf.Root.OpenAction = js
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
        )
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=js)
        buf = io.BytesIO()
        pdf.save(buf)
    body = run(av, "rotate-pdf", buf.getvalue(), {"angle": 180})
    out = download(av, body)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        assert "/OpenAction" not in pdf.Root
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
        assert "/AA" not in pdf.pages[0].obj
    assert b"app.alert" not in out


def test_damaged_inputs_are_refused(av: TestClient) -> None:
    data = text_pdf(3)
    refused(post(av, "extract-pages", [("a.pdf", data[: len(data) // 2])]), 400, "DAMAGED_PDF")
    r = post(av, "repair-pdf", [("a.pdf", data[: len(data) // 2])])
    refused(r, r.status_code)
    assert r.status_code in (400, 422)
    refused(post(av, "linearize-pdf", [("a.pdf", b"%PDF-1.7\n" + b"junk " * 300 + b"\n%%EOF\n")]), 400, "INVALID_PDF")
