"""True PDF redaction: the glyphs under a redacted box leave the content stream, everything else stays.

The steps, per page:
1. poppler (`pdftotext -bbox`, the same reader that checks the result) gives every word and its box;
   terms and patterns are matched on the page's words joined by spaces, so a match may span words,
   text runs, kerning and fonts (poppler reads ToUnicode maps and ActualText).
2. pdf_glyphs (pdfminer.six) says where each glyph is and which bytes of which text operator drew it.
   The glyphs whose centre lies in a matched word (or, inside a word, the matched characters) or in
   a redacted area are chosen.
3. pikepdf rewrites those operators: each chosen glyph's bytes become a TJ position adjustment of
   the same width, so the remaining text stays exactly where it was, as text (searchable, selectable,
   same fonts). Form XObjects are rewritten as per-page copies. Black boxes are painted on top.
Marked-content ActualText/Alt mentioning a term is dropped too. Anything this cannot guarantee makes
the caller fall back to rebuilding that page as a picture (the caller says so in `warnings`).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.engine.media.pdf_glyphs import TEXT_OPERATORS, Box, Glyph, PageGlyphs, StreamPath, center, inside

if TYPE_CHECKING:
    import pikepdf

PAD = 1.0  # points: a word's box is grown by this much when looking for its glyphs
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', re.DOTALL)


# -- finding what to redact ----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    box: Box  # page space (points, origin bottom left)
    text: str


@dataclass
class Hit:
    """A word a match touches, and which of its characters the match covers."""

    word: Word
    first: int
    last: int  # exclusive

    @property
    def whole(self) -> bool:
        return self.first == 0 and self.last >= len(self.word.text)


def poppler_words(xhtml: str) -> list[tuple[float, float, list[Word]]]:
    """(width, height, words) per page from `pdftotext -bbox` (top-left origin turned to bottom-left)."""
    pages = []
    for m in _PAGE.finditer(xhtml):
        width, height = float(m.group(1)), float(m.group(2))
        words = [
            Word((float(a), height - float(d), float(c), height - float(b)), html.unescape(t))
            for a, b, c, d, t in _WORD.findall(m.group(3))
        ]
        pages.append((width, height, words))
    return pages


Matcher = Callable[[str], Iterable[tuple[str, int, int]]]  # text -> (label, start, end) of each match


def find_hits(words: list[Word], matcher: Matcher, counts: dict[str, int]) -> list[Hit]:
    """The words (and character ranges within them) that each match on the page covers."""
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    joined = " ".join(w.text for w in words)
    hits = []
    for label, start, end in matcher(joined):
        counts[label] = counts.get(label, 0) + 1
        for (ws, we), w in zip(spans, words, strict=True):
            if ws < end and we > start:
                hits.append(Hit(w, max(0, start - ws), min(len(w.text), end - ws)))
    return hits


def _reading_order(glyphs: list[Glyph]) -> list[Glyph]:
    return sorted(glyphs, key=lambda g: (-round(center(g.box)[1] / 2), g.box[0]))


def glyphs_for_hit(page: PageGlyphs, hit: Hit) -> list[Glyph]:
    """The glyphs drawing a hit: the whole word, or just the matched characters when the word's glyphs
    spell it one character each (ligatures and unmapped glyphs take the whole word)."""
    found = [g for g in page.glyphs if inside(center(g.box), hit.word.box, PAD) and g.text.strip()]
    if hit.whole:
        return found
    ordered = _reading_order(found)
    if "".join(g.text for g in ordered) != hit.word.text:
        return found
    return ordered[hit.first : hit.last]


def glyphs_in_area(page: PageGlyphs, area: Box) -> list[Glyph]:
    """Glyphs whose centre is in the area, or a third of whose box is."""
    out = []
    for g in page.glyphs:
        x0, y0, x1, y1 = g.box
        w, h = max(0.0, min(x1, area[2]) - max(x0, area[0])), max(0.0, min(y1, area[3]) - max(y0, area[1]))
        if inside(center(g.box), area) or w * h >= (x1 - x0) * (y1 - y0) / 3 > 0:
            out.append(g)
    return out


def union(boxes: Iterable[Box]) -> Box | None:
    boxes = list(boxes)
    if not boxes:
        return None
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


# -- rewriting content streams --------------------------------------------------------------------


class CannotEdit(Exception):
    """The page's content could not be matched to the glyphs found; the caller rasterises it instead."""


@dataclass
class PagePlan:
    """What to take out of one page and what to paint over it."""

    glyphs: PageGlyphs
    remove: set[Glyph] = field(default_factory=set)
    boxes: list[Box] = field(default_factory=list)  # page space

    def by_operator(self) -> dict[StreamPath, dict[int, list[Glyph]]]:
        plan: dict[StreamPath, dict[int, list[Glyph]]] = defaultdict(lambda: defaultdict(list))
        for g in self.remove:
            plan[g.stream][g.op].append(g)
        return plan


def _signature(items: Iterable[object]) -> list[bytes | None]:
    import pikepdf

    return [bytes(i) if isinstance(i, pikepdf.String) else None for i in items]


def _strings(op: str, operands: list[object]) -> list[object]:
    if op == "TJ":
        return list(operands[0]) if operands and isinstance(operands[0], Iterable) else []
    return [operands[-1]] if operands else []


def _without(items: list[object], glyphs: list[Glyph]) -> list[object]:
    """A TJ array with the glyphs' bytes replaced by adjustments that move the pen just as far."""
    import pikepdf

    cut: dict[int, list[Glyph]] = defaultdict(list)
    for g in glyphs:
        cut[g.item].append(g)
    out: list[object] = []

    def push_number(value: float) -> None:
        if out and isinstance(out[-1], float):
            out[-1] += value
        else:
            out.append(value)

    for index, item in enumerate(items):
        if not isinstance(item, pikepdf.String):
            push_number(float(item))  # type: ignore[arg-type]
            continue
        data, pos = bytes(item), 0
        for g in sorted(cut.get(index, []), key=lambda g: g.start):
            if g.start > pos:
                out.append(pikepdf.String(data[pos : g.start]))
            push_number(-g.advance)
            pos = max(pos, g.end)
        if pos < len(data):
            out.append(pikepdf.String(data[pos:]))
    return [round(v, 3) if isinstance(v, float) else v for v in out]


def _shown(op: str, operands: list[object], items: list[object]) -> list[pikepdf.ContentStreamInstruction]:
    """The replacement instructions: ' and " keep their line move and spacing, then show with TJ."""
    import pikepdf

    ins = pikepdf.ContentStreamInstruction
    before = []
    if op == '"':
        before = [ins([operands[0]], pikepdf.Operator("Tw")), ins([operands[1]], pikepdf.Operator("Tc"))]
    if op in ("'", '"'):
        before.append(ins([], pikepdf.Operator("T*")))
    return [*before, ins([pikepdf.Array(items)], pikepdf.Operator("TJ"))]


_MARKED_TEXT = ("/ActualText", "/Alt", "/E")


def _scrub_marked(operands: list[object], mentions: Callable[[str], bool]) -> list[object] | None:
    """A BDC's property list without replacement texts that mention a term (None: unchanged)."""
    import pikepdf

    props = operands[-1] if operands else None
    if not isinstance(props, pikepdf.Dictionary):
        return None
    bad = [k for k in _MARKED_TEXT if k in props and mentions(str(props[k]))]
    if not bad:
        return None
    clean = pikepdf.Dictionary({k: v for k, v in props.items() if k not in bad})
    return [*operands[:-1], clean]


def _copy_resources(resources: pikepdf.Object | None) -> pikepdf.Dictionary:
    """A shallow copy of a resource dictionary with its own /XObject map, so one page's edited forms
    do not change the pages sharing the original."""
    import pikepdf

    copy = pikepdf.Dictionary({k: v for k, v in resources.items()}) if isinstance(resources, pikepdf.Dictionary) \
        else pikepdf.Dictionary()  # fmt: skip
    xobjects = copy.get("/XObject")
    copy.XObject = pikepdf.Dictionary({k: v for k, v in xobjects.items()}) \
        if isinstance(xobjects, pikepdf.Dictionary) else pikepdf.Dictionary()  # fmt: skip
    return copy


class _Rewriter:
    def __init__(self, doc: pikepdf.Pdf, plan: PagePlan, mentions: Callable[[str], bool]) -> None:
        self.doc = doc
        self.page = plan.glyphs
        self.cuts = plan.by_operator()
        self.mentions = mentions
        self.marked = 0

    def _touches(self, path: StreamPath) -> bool:
        return any(p[: len(path)] == path for p in self.cuts)

    def rewrite(self, instructions: list[object], path: StreamPath,
                resources: pikepdf.Dictionary) -> tuple[list[object], pikepdf.Dictionary | None]:  # fmt: skip
        """The edited instructions of one stream and, when forms in it were edited, its new resources."""
        import pikepdf

        shown = self.page.strings.get(path, [])
        cuts = self.cuts.get(path, {})
        new_resources: pikepdf.Dictionary | None = None
        out: list[object] = []
        count = 0
        for ins in instructions:
            if not isinstance(ins, pikepdf.ContentStreamInstruction):
                out.append(ins)  # inline images
                continue
            op, operands = str(ins.operator), list(ins.operands)
            if op in TEXT_OPERATORS:
                items = _strings(op, operands)
                if count >= len(shown) or [s for s in _signature(items) if s is not None] != shown[count]:
                    raise CannotEdit(f"text operator {count} of {path or 'the page'} differs from what was read")
                if count in cuts:
                    out += _shown(op, operands, _without(items, cuts[count]))
                else:
                    out.append(ins)
                count += 1
            elif op in ("BDC", "DP") and (clean := _scrub_marked(operands, self.mentions)) is not None:
                self.marked += 1
                out.append(pikepdf.ContentStreamInstruction(clean, ins.operator))
            elif op == "Do" and operands and self._touches((*path, str(operands[0])[1:])):
                name = str(operands[0])
                if new_resources is None:
                    new_resources = _copy_resources(resources)
                form = new_resources.XObject.get(name)
                if not isinstance(form, pikepdf.Stream):
                    raise CannotEdit(f"form {name} is missing")
                new_resources.XObject[name] = self._form_copy(form, (*path, name[1:]), resources)
                out.append(ins)
            else:
                out.append(ins)
        if count != len(shown):
            raise CannotEdit(f"{path or 'the page'} shows {count} strings, {len(shown)} were read")
        return out, new_resources

    def _form_copy(self, form: pikepdf.Stream, path: StreamPath, parent: pikepdf.Dictionary) -> pikepdf.Stream:
        import pikepdf

        own = form.get("/Resources")
        resources = own if isinstance(own, pikepdf.Dictionary) else parent
        instructions = pikepdf.parse_content_stream(form)
        edited, new_resources = self.rewrite(list(instructions), path, resources)
        copy = self.doc.make_stream(pikepdf.unparse_content_stream(edited))
        for key, value in form.stream_dict.items():
            if key not in ("/Length", "/Filter", "/DecodeParms"):
                copy[key] = value
        if new_resources is not None:
            copy.Resources = new_resources
        return copy


def _inverse(m: tuple[float, ...]) -> tuple[float, ...]:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det


def _boxes_ops(matrix: tuple[float, ...], boxes: list[Box]) -> bytes:
    """Black rectangles, given in page space, drawn in the page's user space."""
    from pdfminer.utils import apply_matrix_pt

    inv = _inverse(matrix)
    parts = [b"q 0 0 0 rg 0 0 0 RG"]
    for x0, y0, x1, y1 in boxes:
        (ax, ay), (bx, by) = apply_matrix_pt(inv, (x0, y0)), apply_matrix_pt(inv, (x1, y1))
        lx, ly = min(ax, bx), min(ay, by)
        parts.append(f"{lx:.3f} {ly:.3f} {abs(bx - ax):.3f} {abs(by - ay):.3f} re f".encode())
    parts.append(b"Q")
    return b"\n".join(parts)


def apply(doc: pikepdf.Pdf, index: int, plan: PagePlan, mentions: Callable[[str], bool]) -> int:
    """Rewrites page `index` by the plan; returns how many marked-content texts were dropped.

    Raises CannotEdit when the content does not match what the glyph reader saw."""
    import pikepdf

    page = doc.pages[index]
    resources = page.obj.get("/Resources")
    rewriter = _Rewriter(doc, plan, mentions)
    try:
        instructions = list(pikepdf.parse_content_stream(page))
    except pikepdf.PdfError as exc:
        raise CannotEdit("the page's content could not be parsed") from exc
    edited, new_resources = rewriter.rewrite(
        instructions, (), resources if isinstance(resources, pikepdf.Dictionary) else pikepdf.Dictionary()
    )
    if new_resources is not None:
        page.obj.Resources = new_resources
    # The original content is wrapped in q/Q so a transformation it leaves behind cannot move the boxes.
    body = b"q\n" + pikepdf.unparse_content_stream(edited) + b"\nQ\n"
    if plan.boxes:
        body += _boxes_ops(plan.glyphs.matrix, plan.boxes) + b"\n"
    page.obj.Contents = doc.make_stream(body)
    return rewriter.marked
