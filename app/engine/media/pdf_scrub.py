"""Redaction outside the page content: document info, XMP, bookmarks, annotations, form fields and
attached files that mention a redacted term lose that text (or go, when the text is the whole thing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from app.engine.media.pdf_glyphs import Box, overlaps

if TYPE_CHECKING:
    import pikepdf

Mentions = Callable[[str], bool]
Replace = Callable[[str], str]  # the text with every match replaced
MAX_NODES = 50_000  # outline and field trees can be cyclic in hostile files: walks are bounded
ATTACHMENT_PEEK = 8 << 20  # attached files up to this size are searched for the terms


def _walk(first: object, *links: str) -> Iterator[pikepdf.Dictionary]:
    """Dictionaries reachable through `links` (/Next, /First; /Kids arrays), each once."""
    import pikepdf

    stack, seen, count = [first], set(), 0
    while stack and count < MAX_NODES:
        item = stack.pop()
        if not isinstance(item, pikepdf.Dictionary):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        count += 1
        yield item
        for link in links:
            value = item.get(link)
            stack += list(value) if isinstance(value, pikepdf.Array) else [value]


def _info_and_xmp(doc: pikepdf.Pdf, mentions: Mentions) -> int:
    removed = 0
    for key in list(doc.docinfo.keys()):
        if mentions(str(doc.docinfo[key])):
            del doc.docinfo[key]
            removed += 1
    metadata = doc.Root.get("/Metadata")
    if metadata is not None and mentions(metadata.read_bytes().decode("utf-8", "replace")):
        del doc.Root["/Metadata"]
        removed += 1
    return removed


def _bookmarks(doc: pikepdf.Pdf, mentions: Mentions, replace: Replace) -> int:
    """Bookmark titles keep their other words; the matches become "[redacted]"."""
    outlines = doc.Root.get("/Outlines")
    if outlines is None:
        return 0
    changed = 0
    for item in _walk(outlines.get("/First"), "/Next", "/First"):
        title = str(item.get("/Title", ""))
        if mentions(title):
            item.Title = replace(title)
            changed += 1
    return changed


def _file_mentions(spec: pikepdf.Object, mentions: Mentions) -> bool:
    """Whether a file specification's names, description or (text-searchable) contents mention a term."""
    import pikepdf

    if not isinstance(spec, pikepdf.Dictionary):
        return False
    if any(mentions(str(spec.get(k, ""))) for k in ("/F", "/UF", "/Desc")):
        return True
    embedded = spec.get("/EF")
    if isinstance(embedded, pikepdf.Dictionary):
        for stream in embedded.values():
            if isinstance(stream, pikepdf.Stream) and int(stream.get("/Length", 0)) <= ATTACHMENT_PEEK:
                try:
                    data = stream.read_bytes()
                except pikepdf.PdfError:
                    return True  # unreadable: it cannot be shown to be clean
                if mentions(data.decode("utf-8", "replace")) or mentions(data.decode("utf-16", "replace")):
                    return True
    return False


def _attachments(doc: pikepdf.Pdf, mentions: Mentions) -> int:
    removed = 0
    for name in list(doc.attachments.keys()):
        spec = doc.attachments[name]
        if mentions(name) or _file_mentions(spec.obj, mentions):
            del doc.attachments[name]
            removed += 1
    return removed


def _fields(doc: pikepdf.Pdf, mentions: Mentions) -> int:
    """Form fields whose value mentions a term lose the value and its drawn appearance."""
    import pikepdf

    form = doc.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary) or not isinstance(form.get("/Fields"), pikepdf.Array):
        return 0
    cleared = 0
    for field in _walk(pikepdf.Dictionary(Kids=form.Fields), "/Kids"):
        if not any(mentions(str(field.get(k, ""))) for k in ("/V", "/DV", "/TU", "/T")):
            continue
        kids = field.get("/Kids")
        for item in [field, *(kids if isinstance(kids, pikepdf.Array) else [])]:
            for key in ("/V", "/DV", "/AP") if item is field else ("/AP",):
                if isinstance(item, pikepdf.Dictionary) and key in item:
                    del item[key]
        for key in ("/T", "/TU"):
            if key in field and mentions(str(field[key])):
                field[key] = pikepdf.String("redacted")
        cleared += 1
    if cleared:
        form.NeedAppearances = True
    return cleared


def _annotations(doc: pikepdf.Pdf, mentions: Mentions, areas: dict[int, list[Box]],
                 to_page_space: Callable[[int, Box], Box]) -> int:  # fmt: skip
    """Annotations that mention a term, or lie over a redacted box, are removed (form widgets whose
    value mentions it were cleared above and stay, empty)."""
    import pikepdf

    removed = 0
    for index, page in enumerate(doc.pages):
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        keep = []
        for annot in annots:
            if not isinstance(annot, pikepdf.Dictionary):
                continue
            text = " ".join(str(annot.get(k, "")) for k in ("/Contents", "/T", "/Subj", "/RC", "/TU"))
            rect = annot.get("/Rect")
            box = None
            if isinstance(rect, pikepdf.Array) and len(rect) == 4:
                x0, y0, x1, y1 = (float(v) for v in rect)
                box = to_page_space(index, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            under = box is not None and any(overlaps(box, b) for b in areas.get(index, []))
            widget = str(annot.get("/Subtype", "")) == "/Widget"
            if (mentions(text) and not widget) or (under and not widget) or _file_mentions(annot.get("/FS"), mentions):
                removed += 1
                continue
            if under and "/AP" in annot:
                del annot["/AP"]  # a form widget under a box: its drawn value goes, the field stays
            keep.append(annot)
        if len(keep) != len(annots):
            page.obj.Annots = pikepdf.Array(keep)
    return removed


def scrub(doc: pikepdf.Pdf, mentions: Mentions, replace: Replace, areas: dict[int, list[Box]],
          to_page_space: Callable[[int, Box], Box]) -> int:  # fmt: skip
    """Redacts everything outside the page content; returns how many items were changed or removed."""
    return (
        _info_and_xmp(doc, mentions)
        + _bookmarks(doc, mentions, replace)
        + _attachments(doc, mentions)
        + _fields(doc, mentions)
        + _annotations(doc, mentions, areas, to_page_space)
    )
