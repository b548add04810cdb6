"""Redact PDF: the listed terms are removed for real, not covered up.

How: poppler finds every word's box (pdftotext -bbox); each page on which a term occurs is rendered
to pixels, the words making up the term are painted black, and the page is rebuilt as that picture
alone, so its text, fonts and annotations are no longer in the file (qpdf writes only the objects
still in use). Pages without a term stay as they were, text and all. Document metadata, bookmarks
and annotations mentioning a term are removed too.

Trade-offs, named: redacted pages lose their text layer (not searchable or selectable afterwards;
run ocr-pdf if needed) and become 200 dpi images; whole words are blacked out (a term inside a
longer word takes that word); text poppler cannot extract (diagonal text, text drawn as paths or
images) is not found.
"""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyvips
from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

if TYPE_CHECKING:
    import pikepdf

DPI = 200
PAD = 1.0  # points of black around each word, so anti-aliased edges of glyphs go too
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', re.DOTALL)


class RedactPdfSettings(ToolSettings):
    terms: list[str] = Field(
        default_factory=list, max_length=200, description="Words or phrases to remove (at least one)"
    )
    caseSensitive: bool = Field(False, description="Match upper and lower case exactly")


@dataclass
class PageWords:
    width: float
    height: float
    words: list[tuple[float, float, float, float, str]]
    hits: list[tuple[float, float, float, float]] = field(default_factory=list)


def _patterns(terms: list[str], case_sensitive: bool) -> list[tuple[str, re.Pattern[str]]]:
    flags = 0 if case_sensitive else re.IGNORECASE
    out = []
    for term in terms:
        parts = term.split()
        if parts:
            out.append((term, re.compile(r"\s+".join(re.escape(p) for p in parts), flags)))
    return out


def _words(ctx: ToolContext, path: Path) -> list[PageWords]:
    xhtml = pdf.pdftotext(ctx, path, extra=["-bbox"])
    pages = []
    for m in _PAGE.finditer(xhtml):
        words = [
            (float(a), float(b), float(c), float(d), html.unescape(t)) for a, b, c, d, t in _WORD.findall(m.group(3))
        ]
        pages.append(PageWords(float(m.group(1)), float(m.group(2)), words))
    return pages


def _find(page: PageWords, patterns: list[tuple[str, re.Pattern[str]]], counts: dict[str, int]) -> None:
    """Marks the boxes of the words each match touches (matches may span words)."""
    spans, text, pos = [], [], 0
    for w in page.words:
        spans.append((pos, pos + len(w[4])))
        text.append(w[4])
        pos += len(w[4]) + 1
    joined = " ".join(text)
    for term, pattern in patterns:
        for m in pattern.finditer(joined):
            counts[term] += 1
            for (start, end), w in zip(spans, page.words, strict=True):
                if start < m.end() and end > m.start():
                    page.hits.append(w[:4])


def _rebuild(doc: pikepdf.Pdf, index: int, source: Path, page: PageWords) -> None:
    import pikepdf

    image = pyvips.Image.pdfload(str(source), page=index, dpi=DPI, access="sequential")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    image = image.colourspace("srgb").cast("uchar")
    sx, sy = image.width / page.width, image.height / page.height
    for x0, y0, x1, y1 in page.hits:
        left, top = int((x0 - PAD) * sx), int((y0 - PAD) * sy)
        image = image.draw_rect([0, 0, 0], left, top, int((x1 + PAD) * sx) - left + 1,
                                int((y1 + PAD) * sy) - top + 1, fill=True)  # fmt: skip
    pixels = zlib.compress(image.write_to_memory(), 6)
    picture = pikepdf.Stream(doc, pixels)
    picture.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=image.width, Height=image.height,
        ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode,
    )  # fmt: skip
    target = doc.pages[index].obj
    for key in list(target.keys()):
        if key not in ("/Type", "/Parent"):
            del target[key]
    target.MediaBox = pikepdf.Array([0, 0, page.width, page.height])
    target.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    target.Contents = doc.make_stream(f"q {page.width:.4f} 0 0 {page.height:.4f} 0 0 cm /Im0 Do Q".encode())


def _mentions(value: Any, patterns: list[tuple[str, re.Pattern[str]]]) -> bool:
    text = str(value)
    return any(p.search(text) for _, p in patterns)


def _titles(outlines: pikepdf.Dictionary) -> list[str]:
    """Every bookmark title (a bounded walk: outline trees can be cyclic in hostile files)."""
    import pikepdf

    titles: list[str] = []
    stack = [outlines.get("/First")]
    seen: set[tuple[int, int]] = set()
    while stack and len(seen) < 50_000:
        item = stack.pop()
        if not isinstance(item, pikepdf.Dictionary) or (item.is_indirect and item.objgen in seen):
            continue
        if item.is_indirect:
            seen.add(item.objgen)
        titles.append(str(item.get("/Title", "")))
        stack += [item.get("/Next"), item.get("/First")]
    return titles


def _scrub(doc: pikepdf.Pdf, patterns: list[tuple[str, re.Pattern[str]]]) -> int:
    """Metadata, bookmarks, annotations and form values that mention a term; returns how many went."""
    import pikepdf

    removed = 0
    for key in list(doc.docinfo.keys()):
        if _mentions(doc.docinfo[key], patterns):
            del doc.docinfo[key]
            removed += 1
    if "/Metadata" in doc.Root and _mentions(doc.Root.Metadata.read_bytes().decode("utf-8", "replace"), patterns):
        del doc.Root["/Metadata"]
        removed += 1
    outlines = doc.Root.get("/Outlines")
    if isinstance(outlines, pikepdf.Dictionary) and any(_mentions(t, patterns) for t in _titles(outlines)):
        del doc.Root["/Outlines"]
        removed += 1
    for page in doc.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            keep = [a for a in annots if not _mentions(repr(a), patterns)]
            if len(keep) != len(annots):
                removed += len(annots) - len(keep)
                page.obj.Annots = pikepdf.Array(keep)
    if "/AcroForm" in doc.Root and _mentions(repr(doc.Root.AcroForm), patterns):
        del doc.Root["/AcroForm"]
        removed += 1
    return removed


@tool(
    id="redact-pdf",
    section="pdf",
    title="Redact PDF",
    description="Permanently remove words or phrases: pages containing them are rebuilt as images with the terms "
    "blacked out, so the text is gone from the file, not just covered.",
    settings=RedactPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
)
def run(ctx: ToolContext, settings: RedactPdfSettings) -> ToolResult:
    terms = [t for t in (t.strip() for t in settings.terms) if t]
    if not terms:
        raise InputRejected("terms: give at least one word or phrase to redact", 400, "VALIDATION_ERROR")
    patterns = _patterns(terms, settings.caseSensitive)
    src = ctx.input
    with pdf.open_pdf(src) as doc:
        ctx.progress(5, "Finding the terms")
        pages = _words(ctx, src.path)
        if len(pages) != len(doc.pages):
            raise ToolFailure("the PDF's pages could not all be read")
        counts = dict.fromkeys(terms, 0)
        for page in pages:
            _find(page, patterns, counts)
        redacted = [i for i, p in enumerate(pages) if p.hits]
        with pdf.pdf_errors():
            for n, index in enumerate(redacted):
                ctx.check_cancelled()
                try:
                    _rebuild(doc, index, src.path, pages[index])
                except pyvips.Error as exc:
                    raise ToolFailure(f"page {index + 1} could not be rendered") from exc
                ctx.progress(10 + 80 * (n + 1) / len(redacted), "Redacting")
            scrubbed = _scrub(doc, patterns)
        out = pdf.save_pdf(doc, ctx.output_path(f"{src.stem}_redacted.pdf"))
    # The proof: poppler finds none of the terms in what we hand back.
    left = pdf.pdftotext(ctx, out)
    if any(p.search(left) for _, p in patterns):
        out.unlink()
        raise ToolFailure("a term could still be found after redaction; nothing was returned")
    return ToolResult([out], {"matches": sum(counts.values()), "terms": counts,
                              "pagesRedacted": [i + 1 for i in redacted], "otherItemsRemoved": scrubbed})  # fmt: skip
