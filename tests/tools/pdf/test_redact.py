"""redact-pdf removes text from the content itself and keeps the rest as real text (through the HTTP API)."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pyvips
from fastapi.testclient import TestClient

from tests.tools.av import fail_long, post, run_long
from tests.tools.pdf import redact_samples as samples
from tests.tools.pdf.helpers import download, page_texts, pdf_text, refused


def redact(client: TestClient, data: bytes, settings: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    result = run_long(client, "pdf/redact-pdf", [("doc.pdf", data)], settings)
    return result, download(client, result)


def _png(picture: Any) -> bytes:
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return buf.getvalue()


def flat(text: str) -> str:
    return " ".join(text.split())


def images_in(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as doc:
        return sum(len(page.get_images()) for page in doc.pages)


def dark_fraction(data: bytes, page: int, box: tuple[int, int, int, int]) -> float:
    """Share of near-black pixels in a box (x, y, w, h in points, top-left origin) of a page at 72 dpi."""
    image = pyvips.Image.pdfload_buffer(data, page=page, dpi=72).flatten(background=[255, 255, 255])
    crop = image.extract_area(*box).colourspace("b-w")
    return (crop < 40).avg() / 255


def test_twenty_text_pages_keep_their_text_and_size(av: TestClient) -> None:
    data = samples.report(20)
    result, out = redact(av, data, {"terms": ["Alice Smith"]})
    assert result["matches"] == 20 and result["pagesRedacted"] == list(range(1, 21))
    assert result["pagesRebuiltAsPictures"] == [] and result["warnings"] == []
    text = pdf_text(out)
    assert "Alice" not in text and "Smith" not in text
    assert text.count("of the quarterly report.") == 600  # every other word is still text
    assert "Page 17 line 4 of the quarterly report. Client:" in flat(text)
    assert images_in(out) == 0
    assert len(out) < 2 * len(data)  # no page became a picture
    # The boxes are painted where the name was (line 4: baseline 714, so about 117-130 from the top).
    assert dark_fraction(out, 0, (270, 120, 54, 8)) > 0.9
    assert dark_fraction(out, 0, (56, 118, 100, 10)) < 0.5  # "Page 1 line 4" is not blacked out


def test_terms_across_runs_kerning_and_spacing(av: TestClient) -> None:
    data = samples.split_runs()
    assert flat(pdf_text(data)).count("Alice Smith") + flat(pdf_text(data)).count("ALICE SMITH") == 3
    result, out = redact(av, data, {"terms": ["alice smith"]})
    assert result["terms"] == {"alice smith": 3}
    text = flat(pdf_text(out))
    assert "alice" not in text.lower() and "smith" not in text.lower()
    assert "Dear" in text and "Account" in text and "closed" in text and "Bob Jones and" in text and "met" in text
    assert "first line" in text
    # Words after a removed one stay where they were: "closed" starts at the same x as before.
    before = pyvips.Image.pdfload_buffer(data, dpi=72).flatten(background=[255, 255, 255])
    after = pyvips.Image.pdfload_buffer(out, dpi=72).flatten(background=[255, 255, 255])
    row = 300 - 180 - 5  # the ' line is drawn 20 points under 160
    assert abs(after.extract_area(250, row - 10, 150, 14).avg() - before.extract_area(250, row - 10, 150, 14).avg()) < 1


def test_subset_font_with_tounicode(av: TestClient) -> None:
    data = samples.subset_font()
    result, out = redact(av, data, {"terms": ["Jürgen Müller"]})
    assert result["matches"] == 1 and result["pagesRebuiltAsPictures"] == []
    text = flat(pdf_text(out))
    assert "Jürgen" not in text and "Müller" not in text
    assert "Patient:" in text and "Zürich" in text and "Diagnose: gesund" in text


def test_part_of_a_word_takes_only_those_letters(av: TestClient) -> None:
    data = samples.save(samples.raw_pdf(b"BT /F1 18 Tf 40 200 Td (Ticket SECRET-4711 open) Tj ET"))
    result, out = redact(av, data, {"terms": ["4711"]})
    assert result["matches"] == 1
    assert flat(pdf_text(out)) == "Ticket SECRET- open"


def test_patterns(av: TestClient) -> None:
    data = samples.personal_data()
    result, out = redact(av, data, {"patterns": ["email", "phone", "iban", "card"]})
    assert result["patterns"] == {"email": 1, "phone": 1, "iban": 1, "card": 1}, result
    lines = page_texts(out)[0]
    for gone in ("alice.smith", "example.org", "+49", "30 1234", "DE89", "0532", "4111"):
        assert gone not in lines
    for kept in ("Mail:", "today", "Phone:", "(office)", "for fees", "Card", "expires", "2024-05-17", "12345",
                 "1234 5678 9012 3456"):  # fmt: skip
        assert kept in lines, kept


def test_areas_remove_what_is_under_them(av: TestClient) -> None:
    data = samples.save(samples.raw_pdf(b"BT /F1 18 Tf 40 200 Td (Keep this) Tj 0 -40 Td (Hide that line) Tj ET"))
    # "Hide that line" has its baseline at y=160, 140 points from the top; the box covers it whole.
    result, out = redact(av, data, {"areas": [{"page": 1, "x": 30, "y": 120, "width": 300, "height": 30}]})
    assert result["pagesRedacted"] == [1] and result["matches"] == 0
    assert flat(pdf_text(out)) == "Keep this"
    assert dark_fraction(out, 0, (40, 125, 100, 20)) > 0.9

    area = {"page": 2, "x": 0, "y": 0, "width": 9, "height": 9}
    failed = fail_long(av, "pdf/redact-pdf", [("a.pdf", data)], {"areas": [area]})
    assert failed["code"] == "PAGE_OUT_OF_RANGE" and failed["error"] == "areas: the PDF has 1 page"


def test_form_xobject_text_and_sharing(av: TestClient) -> None:
    data = samples.with_form_xobject()
    result, out = redact(av, data, {"terms": ["ACME Corp"]})
    assert result["matches"] == 2 and result["pagesRebuiltAsPictures"] == []
    assert page_texts(out) == ["Header of page body", "Header of page body"]
    # An area on page 1 only: the shared form keeps its text on page 2.
    result, out = redact(av, data, {"areas": [{"page": 1, "x": 30, "y": 70, "width": 360, "height": 40}]})
    assert page_texts(out) == ["page body", "Header of ACME Corp page body"]


def test_metadata_bookmarks_notes_fields_and_attachments(av: TestClient) -> None:
    result, out = redact(av, samples.extras(), {"terms": ["Alice Smith"]})
    assert "Alice" not in flat(pdf_text(out))
    assert result["otherItemsRemoved"] >= 5
    with pikepdf.open(io.BytesIO(out)) as doc:
        assert "/Title" not in doc.docinfo and str(doc.docinfo["/Creator"]) == "Lutra tests"
        with doc.open_outline() as outline:
            assert [i.title for i in outline.root] == ["Terms for [redacted]", "Appendix"]
        annots = list(doc.pages[0].obj.Annots)
        assert [str(a.Subtype) for a in annots] == ["/Widget"]  # the note is gone, the field stays
        assert "/V" not in doc.Root.AcroForm.Fields[0]
        assert list(doc.attachments.keys()) == ["other.txt"]
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream):
                assert b"Alice" not in obj.read_bytes()
            else:
                assert "Alice" not in repr(obj)


def test_flatten_rebuilds_pages_as_pictures(av: TestClient) -> None:
    data = samples.report(2)
    result, out = redact(av, data, {"terms": ["Alice Smith"], "flatten": True})
    assert result["pagesRebuiltAsPictures"] == [1, 2]
    assert pdf_text(out).strip() == "" and images_in(out) == 2


def test_images_under_a_box_and_pages_without_text(av: TestClient) -> None:
    # Text over a picture (a scan with its OCR layer): the text goes and the picture's pixels under the
    # box are painted black in the image data itself; the page keeps its other text.
    result, out = redact(av, samples.text_over_image(), {"terms": ["Alice Smith"]})
    assert result["pagesRebuiltAsPictures"] == [] and result["warnings"] == []
    assert "Alice" not in pdf_text(out) and "Plain words" in pdf_text(out)
    with pikepdf.open(io.BytesIO(out)) as doc:
        (image,) = doc.pages[0].get_images().values()
        pixels = pyvips.Image.new_from_buffer(_png(pikepdf.PdfImage(image).as_pil_image()), "")
    # The picture spans x 30-230, y 180-240 (200 x 60 points, 64 px); the name's box is about x 10-96 and
    # y 27-44 of it, from its top left.
    sx, sy = pixels.width / 200, pixels.height / 60
    assert pixels.extract_area(int(15 * sx), int(30 * sy), int(60 * sx), int(10 * sy)).max() < 10
    assert pixels.extract_area(int(150 * sx), int(5 * sy), int(40 * sx), int(20 * sy)).min() > 150

    result, _ = redact(av, samples.picture_only(), {"terms": ["anything"]})
    assert result["matches"] == 0
    assert result["warnings"] == [
        "page 1 has no text to search (a scan, or text drawn as shapes): run ocr-pdf first or redact it by area"
    ]


def test_bad_settings_are_refused(av: TestClient) -> None:
    data = samples.report(1)
    assert fail_long(av, "pdf/redact-pdf", [("a.pdf", data)], {"terms": [" "]})["code"] == "VALIDATION_ERROR"
    refused(post(av, "pdf/redact-pdf", [("a.pdf", data)], {"patterns": ["ssn"]}), 400, "VALIDATION_ERROR")
    flat_area = {"page": 1, "x": 0, "y": 0, "width": 0, "height": 5}
    refused(post(av, "pdf/redact-pdf", [("a.pdf", data)], {"areas": [flat_area]}), 400, "VALIDATION_ERROR")


def test_areas_are_measured_on_the_visible_page(av: TestClient) -> None:
    """A CropBox inside the MediaBox: areas count from the visible page's top left, in both paths."""
    doc = samples.raw_pdf(b"BT /F1 18 Tf 100 200 Td (Hello World) Tj ET")
    doc.pages[0].obj.CropBox = pikepdf.Array([50, 50, 350, 250])
    data = samples.save(doc)
    area = {"page": 1, "x": 93, "y": 30, "width": 60, "height": 30}  # "World": visible x 96-143, y 36-54
    result, out = redact(av, data, {"areas": [area]})
    assert result["pagesRebuiltAsPictures"] == [] and flat(pdf_text(out)) == "Hello"
    assert dark_fraction(out, 0, (98, 40, 40, 10)) > 0.9
    result, out = redact(av, data, {"areas": [area], "flatten": True})
    assert result["pagesRebuiltAsPictures"] == [1] and pdf_text(out).strip() == ""
    assert dark_fraction(out, 0, (98, 40, 40, 10)) > 0.9
    assert dark_fraction(out, 0, (50, 38, 40, 14)) < 0.5  # "Hello" is drawn, not blacked out


def test_an_image_that_cannot_be_edited_makes_the_page_a_picture(av: TestClient) -> None:
    # The same picture, placed turned by 90 degrees: not mapped pixel for pixel, so the page is rebuilt.
    doc = samples.raw_pdf(b"q 0 60 -200 0 230 180 cm /Im0 Do Q BT /F1 16 Tf 40 200 Td (Alice Smith) Tj ET")
    grey = doc.make_stream(bytes([200]) * 64 * 64)
    grey.Type, grey.Subtype, grey.Width, grey.Height = pikepdf.Name.XObject, pikepdf.Name.Image, 64, 64
    grey.ColorSpace, grey.BitsPerComponent = pikepdf.Name.DeviceGray, 8
    doc.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Im0=grey)
    result, out = redact(av, samples.save(doc), {"terms": ["Alice Smith"]})
    assert result["pagesRebuiltAsPictures"] == [1]
    assert result["warnings"] == [
        "page 1: an image under a redaction could not be edited, so the page was rebuilt as a picture"
    ]
    assert pdf_text(out).strip() == "" and dark_fraction(out, 0, (45, 90, 60, 10)) > 0.9
