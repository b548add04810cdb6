"""PDFs for the redaction tests: drawn with reportlab, or written operator by operator with pikepdf
where a test needs a particular content stream (split runs, kerning, forms, marked content)."""

from __future__ import annotations

import io

import pikepdf
import pyvips
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def report(pages: int = 20) -> bytes:
    """A plain text document: 30 lines a page, one client name on each page."""
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=(595, 842))
    for n in range(1, pages + 1):
        canvas.setFont("Helvetica", 11)
        for line in range(30):
            who = " Client: Alice Smith." if line == 3 else ""
            canvas.drawString(56, 780 - 22 * line, f"Page {n} line {line + 1} of the quarterly report.{who}")
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def raw_pdf(content: bytes, *, size: tuple[int, int] = (400, 300), pages: int = 1) -> pikepdf.Pdf:
    """A document whose pages draw `content` with /F1 = Helvetica."""
    doc = pikepdf.new()
    font = doc.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica,
                                                Encoding=pikepdf.Name.WinAnsiEncoding))  # fmt: skip
    for _ in range(pages):
        page = doc.add_blank_page(page_size=size)
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = doc.make_stream(content)
    return doc


def save(doc: pikepdf.Pdf) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def split_runs() -> bytes:
    """ "Alice Smith" shown by three operators with kerning, character spacing and a ' line; and a
    second line with the word cut across a TJ array."""
    return save(raw_pdf(
        b"BT /F1 18 Tf 40 220 Td (Dear ) Tj [(Al) -30 (ice)] TJ 0.4 Tc ( Smith) Tj 0 Tc ET\n"
        b"BT /F1 14 Tf 20 TL 40 160 Td (first line) Tj (Account ALICE SMITH closed) ' ET\n"
        b"BT /F1 14 Tf 40 100 Td [(Bob Jo) 120 (nes and ) (Al) (i) -15 (ce Smith met)] TJ ET\n"
    ))  # fmt: skip


def drawn(
    lines: list[tuple[float, float, str]],
    *,
    font: str = "Helvetica",
    size: float = 12,
    page: tuple[float, float] = (400, 300),
    picture: tuple[float, float, float, float] | None = None,
) -> bytes:
    """One reportlab page: `lines` of text at (x, y), over a light grey picture at (x, y, w, h) if given."""
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=page)
    if picture is not None:
        grey = pyvips.Image.black(64, 64).new_from_image([200, 200, 200]).cast("uchar")
        canvas.drawImage(ImageReader(io.BytesIO(grey.write_to_buffer(".png"))), *picture)
    canvas.setFont(font, size)
    for x, y, text in lines:
        canvas.drawString(x, y, text)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def subset_font() -> bytes:
    """Text in an embedded TrueType subset (custom codes, a ToUnicode map), as office suites write it."""
    pdfmetrics.registerFont(TTFont("DejaVuRedact", DEJAVU))
    return drawn([(30, 200, "Patient: Jürgen Müller, Zürich"), (30, 160, "Diagnose: gesund")], font="DejaVuRedact",
                 size=16)  # fmt: skip


def with_form_xobject() -> bytes:
    """Two pages drawing one shared form XObject that holds text."""
    doc = raw_pdf(b"q 1 0 0 1 20 50 cm /Fm0 Do Q BT /F1 12 Tf 40 40 Td (page body) Tj ET", pages=2)
    font = doc.pages[0].obj.Resources.Font
    form = doc.make_stream(b"BT /F1 16 Tf 20 150 Td (Header of ACME Corp) Tj ET")
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = pikepdf.Array([0, 0, 400, 300])
    form.Resources = pikepdf.Dictionary(Font=font)
    for page in doc.pages:
        page.obj.Resources.XObject = pikepdf.Dictionary(Fm0=form)
    return save(doc)


def extras() -> bytes:
    """Metadata, a bookmark, a note, a filled form field and an attachment that name the client."""
    doc = raw_pdf(b"BT /F1 14 Tf 40 200 Td (Contract for Alice Smith) Tj ET BT /F1 14 Tf 40 160 Td (Signed) Tj ET")
    doc.docinfo["/Title"] = "Alice Smith contract"
    doc.docinfo["/Creator"] = "Lutra tests"
    with doc.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Terms for Alice Smith", 0))
        outline.root.append(pikepdf.OutlineItem("Appendix", 0))
    page = doc.pages[0].obj
    note = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[300, 250, 320, 270],
                              Contents=pikepdf.String("call Alice Smith"))  # fmt: skip
    field = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx,
                               T=pikepdf.String("client"), V=pikepdf.String("Alice Smith"),
                               Rect=[40, 40, 240, 60], P=page)  # fmt: skip
    field = doc.make_indirect(field)
    page.Annots = doc.make_indirect(pikepdf.Array([doc.make_indirect(note), field]))
    doc.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    doc.attachments["client.txt"] = pikepdf.AttachedFileSpec(doc, b"Client: Alice Smith\n", filename="client.txt")
    doc.attachments["other.txt"] = pikepdf.AttachedFileSpec(doc, b"nothing here\n", filename="other.txt")
    return save(doc)


def text_over_image() -> bytes:
    """A grey picture with text printed over it: the term lies on an image."""
    return drawn([(40, 200, "Alice Smith"), (40, 100, "Plain words")], size=16, picture=(30, 180, 200, 60))


def picture_only() -> bytes:
    """A page that is only a picture (a scan without OCR)."""
    return drawn([], page=(200, 200), picture=(0, 0, 200, 200))


def personal_data() -> bytes:
    lines = ["Mail: alice.smith@example.org today", "Phone: +49 30 1234 5678 (office)",
             "IBAN DE89 3704 0044 0532 0130 00 for fees", "Card 4111 1111 1111 1111 expires",
             "Order 2024-05-17 number 12345 of 3 items", "Not a card: 1234 5678 9012 3456"]  # fmt: skip
    return drawn([(30, 260 - 30 * n, line) for n, line in enumerate(lines)], page=(500, 300))
