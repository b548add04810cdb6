"""Redact PDF: terms, patterns and areas are removed from the file for real, not covered up.

The glyphs under each redaction leave the page's content stream (pdf_redact.py says how) and black
boxes are painted over the places; every other word stays real text. The same text goes from
metadata, bookmarks, annotations, form fields and attachments, and image pixels under a box are
painted black in the image data. Where removal cannot be guaranteed by editing (an image placed
turned or in a form, content the glyph reader could not match), that page is rebuilt as a picture
with the boxes burnt in, and `warnings` says so; `"flatten": true` does that for every
redacted page. Before answering, poppler reads the result: a term it still finds means no file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.engine.media import pdf
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, tool

if TYPE_CHECKING:  # pdfminer (with cryptography) loads in the worker that redacts, never in the server
    from app.engine.media import pdf_glyphs, pdf_redact
    from app.engine.media.pdf_glyphs import Box
    from app.engine.media.pdf_redact import PagePlan

log = logging.getLogger("lutra.pdf")

Pattern = Literal["email", "phone", "iban", "card"]


class RedactArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(..., ge=1, description="Page number, from 1")
    x: float = Field(..., ge=0, le=20000, description="Left edge in points (72 per inch) from the visible page's left")
    y: float = Field(..., ge=0, le=20000, description="Top edge in points from the visible page's top")
    width: float = Field(..., gt=0, le=20000, description="Width in points")
    height: float = Field(..., gt=0, le=20000, description="Height in points")


class RedactPdfSettings(ToolSettings):
    terms: list[str] = Field(default_factory=list, max_length=200, description="Words or phrases to remove")
    caseSensitive: bool = Field(False, description="Match upper and lower case exactly")
    patterns: list[Pattern] = Field(
        default_factory=list, description="Kinds of data to find and remove: e-mail addresses, phone numbers, "
        "IBANs, card numbers (checked with their check digits)",
    )  # fmt: skip
    areas: list[RedactArea] = Field(default_factory=list, max_length=1000, description="Rectangles to remove")
    flatten: bool = Field(
        False, description="Rebuild redacted pages as pictures (no text left on them) instead of editing the text"
    )


# -- what to find ----------------------------------------------------------------------------------

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"),
    "phone": re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d[\d\s()./-]{5,}\d(?![\w])"),
    "iban": re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30}(?![A-Za-z0-9])"),
    "card": re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    code = re.sub(r"\s", "", text).upper()
    moved = code[4:] + code[:4]
    return 15 <= len(code) <= 34 and int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _valid(kind: str, text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if kind == "phone":
        return 7 <= len(digits) <= 15 and not _DATE.fullmatch(text.strip())
    if kind == "card":
        return 13 <= len(digits) <= 19 and _luhn(digits)
    if kind == "iban":
        return _iban_ok(text)
    return True


class Finder:
    """The terms and patterns, as one matcher over a page's text."""

    def __init__(self, terms: list[str], case_sensitive: bool, patterns: list[str]) -> None:
        flags = 0 if case_sensitive else re.IGNORECASE
        self.terms = [(t, re.compile(r"\s+".join(re.escape(p) for p in t.split()), flags)) for t in terms]
        self.patterns = [(p, _PATTERNS[p]) for p in dict.fromkeys(patterns)]

    def __call__(self, text: str) -> Iterator[tuple[str, int, int]]:
        for label, rx in self.terms:
            for m in rx.finditer(text):
                yield label, m.start(), m.end()
        for label, rx in self.patterns:
            for m in rx.finditer(text):
                if _valid(label, m.group(0)):
                    yield label, m.start(), m.end()

    def mentions(self, text: str) -> bool:
        return next(iter(self(text)), None) is not None

    def replace(self, text: str) -> str:
        spans = sorted((s, e) for _, s, e in self(text))
        out, pos = [], 0
        for s, e in spans:
            if s >= pos:
                out += [text[pos:s], "[redacted]"]
                pos = e
        return "".join(out) + text[pos:]


# -- the run ---------------------------------------------------------------------------------------


def _area_box(area: RedactArea, height: float, offset: tuple[float, float]) -> Box:
    """An area given from the visible page's top left (its CropBox) in page space."""
    x, top = area.x + offset[0], area.y + offset[1]
    return x, height - top - area.height, x + area.width, height - top


def _plan_page(page: pdf_glyphs.PageGlyphs, hits: list[pdf_redact.Hit], areas: Iterable[Box]) -> tuple[PagePlan, bool]:
    """The glyphs to take out and the boxes to paint; False when a hit has no glyph we could find."""
    from app.engine.media import pdf_redact
    from app.engine.media.pdf_redact import PagePlan

    plan, found_all = PagePlan(page), True
    for hit in hits:
        glyphs = pdf_redact.glyphs_for_hit(page, hit)
        if not glyphs:
            found_all = False
            plan.boxes.append(hit.word.box)
            continue
        plan.remove.update(glyphs)
        if hit.whole:
            plan.boxes.append(hit.word.box)
        else:
            box = pdf_redact.union(g.box for g in glyphs)
            assert box is not None
            plan.boxes.append((box[0], hit.word.box[1], box[2], hit.word.box[3]))
    for area in areas:
        plan.remove.update(pdf_redact.glyphs_in_area(page, area))
        plan.boxes.append(area)
    return plan, found_all


def _readable_glyphs(path: Path, count: int) -> list[pdf_glyphs.PageGlyphs] | None:
    from app.engine.media import pdf_glyphs

    try:
        pages = list(pdf_glyphs.pages(path))
    except Exception:  # any pdfminer failure only means: rebuild redacted pages as pictures
        log.warning("the glyph reader failed on %s", path.name, exc_info=True)
        return None
    return pages if len(pages) == count else None


@tool(
    id="redact-pdf",
    section="pdf",
    title="Redact PDF",
    description="Permanently remove words, phrases, e-mail addresses, phone numbers, IBANs, card numbers or "
    "areas: the text under each black box is deleted from the file, the rest stays searchable text.",
    settings=RedactPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
    long=True,
)
def run(ctx: ToolContext, settings: RedactPdfSettings) -> ToolResult:
    from app.engine.media import pdf_glyphs, pdf_redact, pdf_scrub, redact_raster

    terms = list(dict.fromkeys(t for t in (t.strip() for t in settings.terms) if t))
    if not (terms or settings.patterns or settings.areas):
        raise InputRejected("give at least one term, pattern or area to redact", 400, "VALIDATION_ERROR")
    finder = Finder(terms, settings.caseSensitive, settings.patterns)
    src = ctx.input
    warnings: list[str] = []
    with pdf.open_pdf(src) as doc:
        count = len(doc.pages)
        if any(a.page > count for a in settings.areas):
            raise InputRejected(f"areas: the PDF has {count} page{'s' if count != 1 else ''}", 400, "PAGE_OUT_OF_RANGE")
        ctx.progress(3, "Reading the text")
        words = pdf_redact.poppler_words(pdf.pdftotext(ctx, src.path, extra=["-bbox"]))
        if len(words) != count:
            raise ToolFailure("poppler could not read every page of this PDF")
        glyph_pages = _readable_glyphs(src.path, count)
        if glyph_pages is None:
            warnings.append("the text could not be located glyph by glyph; redacted pages were rebuilt as pictures")
        counts: dict[str, int] = dict.fromkeys([*terms, *settings.patterns], 0)
        plans: dict[int, PagePlan] = {}
        raster: dict[int, list[Box]] = {}
        heights: dict[int, float] = {}
        for index in range(count):
            width, height, page_words = words[index]
            hits = pdf_redact.find_hits(page_words, finder, counts) if (terms or settings.patterns) else []
            page = glyph_pages[index] if glyph_pages else pdf_glyphs.PageGlyphs((1, 0, 0, 1, 0, 0), width, height)
            heights[index] = page.height
            offset = redact_raster.crop_offset(doc.pages[index])
            areas = [_area_box(a, page.height, offset) for a in settings.areas if a.page == index + 1]
            if (terms or settings.patterns) and not page_words and (page.images or page.paths):
                warnings.append(f"page {index + 1} has no text to search (a scan, or text drawn as shapes): "
                                "run ocr-pdf first or redact it by area")  # fmt: skip
            if not hits and not areas:
                continue
            plan, found_all = _plan_page(page, hits, areas)
            if any(pdf_glyphs.overlaps(p, a) for p in page.paths for a in areas) and not settings.flatten:
                warnings.append(f"page {index + 1}: drawings (vector shapes) under an area are covered by the "
                                "box, not removed; use flatten to remove them too")  # fmt: skip
            if settings.flatten or glyph_pages is None or page.unsplittable or not found_all:
                if page.unsplittable and not settings.flatten:
                    warnings.append(f"page {index + 1} uses a font whose text cannot be edited here, so the page "
                                    "was rebuilt as a picture")  # fmt: skip
                raster[index] = plan.boxes
            else:
                plans[index] = plan
        marked = 0
        with pdf.pdf_errors():
            for n, (index, plan) in enumerate(sorted(plans.items())):
                ctx.check_cancelled()
                try:
                    marked += pdf_redact.apply(doc, index, plan, finder.mentions)
                except pdf_redact.CannotEdit as exc:
                    log.info("redact-pdf: page %d rasterised: %s", index + 1, exc)
                    warnings.append(f"the text of page {index + 1} could not be edited safely, so the page was "
                                    "rebuilt as a picture")  # fmt: skip
                    raster[index] = plan.boxes
                    continue
                # A scan's pixels under a box are painted black in the image itself.
                if not redact_raster.black_out_images(doc, index, plan.glyphs, plan.boxes):
                    warnings.append(f"page {index + 1}: an image under a redaction could not be edited, so the "
                                    "page was rebuilt as a picture")  # fmt: skip
                    raster[index] = plan.boxes
                ctx.progress(10 + 60 * (n + 1) / max(1, len(plans)), f"Redacting page {index + 1}")
            redact_raster.rebuild_pages(ctx, doc, src.path, raster, heights, span=(70, 85))
            pages_of = glyph_pages or []
            scrubbed = pdf_scrub.scrub(
                doc, finder.mentions, finder.replace,
                {i: p.boxes for i, p in plans.items()} | raster,
                lambda i, box: pdf_glyphs.to_page_space(pages_of[i].matrix, box) if pages_of else box,
            )  # fmt: skip
        out = pdf.save_pdf(doc, ctx.output_path(f"{src.stem}_redacted.pdf"))
    ctx.progress(90, "Checking the result")
    out = redact_raster.verify(ctx, out, finder, finder.mentions, raster, warnings)
    pages = sorted({*plans, *raster})
    return ToolResult([out], {
        "matches": sum(counts.values()),
        "terms": {t: counts[t] for t in terms},
        "patterns": {p: counts[p] for p in dict.fromkeys(settings.patterns)},
        "pagesRedacted": [i + 1 for i in pages],
        "pagesRebuiltAsPictures": sorted(i + 1 for i in raster),
        "otherItemsRemoved": scrubbed + marked,
        "warnings": list(dict.fromkeys(warnings)),
    })  # fmt: skip
