"""Where every glyph of a PDF page is, and which bytes of which text operator drew it.

True redaction needs both: the box a glyph covers on the page (to know it lies under a redacted
word or area) and its place in the content stream (to take exactly those bytes out). pdfminer.six
(MIT) does the hard part, fonts: simple encodings, CID fonts with Identity or embedded CMaps, widths
and ToUnicode maps; its page interpreter keeps the graphics and text state. We count the
text-showing operators as it meets them, stream by stream (the page's contents and each Form
XObject), and split every string into its character codes ourselves, so each glyph is known as
(stream, operator number, array item, byte range). PyMuPDF would do all of this in one call but is
AGPL, which Lutra cannot ship.

Coordinates are pdfminer's page space: points, origin at the bottom left of the page as displayed
(MediaBox offset and /Rotate applied). `page_matrix` maps the page's own user space into it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pdfminer.cmapdb import CMap, IdentityCMap, IdentityCMapByte
from pdfminer.pdfdevice import PDFDevice
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdffont import PDFFont, PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import list_value, stream_value
from pdfminer.psparser import literal_name
from pdfminer.utils import apply_matrix_pt, mult_matrix

log = logging.getLogger("lutra.pdf")

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Matrix = tuple[float, float, float, float, float, float]
StreamPath = tuple[str, ...]  # () is the page's contents; ("Fm0",) the form XObject /Fm0 it draws, ...

TEXT_OPERATORS = ("Tj", "TJ", "'", '"')
MAX_FORM_DEPTH = 8


@dataclass(frozen=True)
class Glyph:
    stream: StreamPath
    op: int  # the how-manyth text-showing operator of its stream, from 0
    item: int  # index in the operator's string array (TJ), 0 for Tj, ' and "
    start: int  # byte range of its character code in that string
    end: int
    box: Box
    text: str  # Unicode, "" when the font gives no mapping
    advance: float  # how far it moves the pen, in thousandths of the font size (a TJ adjustment)


@dataclass
class PageGlyphs:
    matrix: Matrix  # user space -> page space
    width: float
    height: float
    glyphs: list[Glyph] = field(default_factory=list)
    # The strings each text operator showed, per stream: checked against pikepdf's parse before any
    # edit, so a glyph is only ever removed from the operator that really drew it.
    strings: dict[StreamPath, list[list[bytes]]] = field(default_factory=dict)
    images: list[Box] = field(default_factory=list)
    # Image XObjects drawn by the page's own content: (resource name, box, the CTM that placed it).
    placed: list[tuple[str, Box, Matrix]] = field(default_factory=list)
    paths: list[Box] = field(default_factory=list)
    unsplittable: bool = False  # a font whose codes we cannot split (vertical or unknown CMap)


def _transform(m: Matrix, box: Box) -> Box:
    xs, ys = zip(*(apply_matrix_pt(m, p) for p in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]),
                                                   (box[2], box[3]))), strict=True)  # fmt: skip
    return min(xs), min(ys), max(xs), max(ys)


def _codes(font: PDFFont, data: bytes) -> list[tuple[int, int, int]] | None:
    """(start, end, cid) of each character code in a string; None when the font's CMap is unknown to us."""
    if not font.is_multibyte():
        return [(i, i + 1, b) for i, b in enumerate(data)]
    cmap = getattr(font, "cmap", None)
    if isinstance(cmap, IdentityCMapByte):
        return [(i, i + 1, b) for i, b in enumerate(data)]
    if isinstance(cmap, IdentityCMap):
        return [(i, i + 2, (data[i] << 8) | data[i + 1]) for i in range(0, len(data) - 1, 2)]
    if isinstance(cmap, CMap):
        # The same walk as CMap.decode, keeping where each code starts.
        out, node, start = [], cmap.code2cid, 0
        for i, byte in enumerate(data):
            value = node.get(byte) if isinstance(node, dict) else None
            if isinstance(value, int):
                out.append((start, i + 1, value))
                node, start = cmap.code2cid, i + 1
            elif isinstance(value, dict):
                node = value
            else:
                node, start = cmap.code2cid, i + 1
        return out
    return None


def _unicode(font: PDFFont, cid: int) -> str:
    try:
        return font.to_unichr(cid)
    except (PDFUnicodeNotDefined, KeyError, ValueError, IndexError):
        return ""


class _Recorder(PDFDevice):
    """Receives the interpreter's strings, images and paths and turns them into located glyphs."""

    def __init__(self, rsrcmgr: PDFResourceManager) -> None:
        super().__init__(rsrcmgr)
        self.page: PageGlyphs | None = None
        self.where: tuple[StreamPath, int] = ((), -1)
        self.image_from_page = False  # the image being drawn is a Do of the page's own content

    def render_string(self, textstate: Any, seq: Any, ncs: Any, graphicstate: Any) -> None:
        page, font = self.page, textstate.font
        if page is None or font is None or self.ctm is None:
            return
        if font.is_vertical():
            page.unsplittable = True
            return
        stream, op = self.where
        matrix = mult_matrix(textstate.matrix, self.ctm)
        size, scaling = textstate.fontsize, textstate.scaling * 0.01
        charspace, wordspace = textstate.charspace * scaling, textstate.wordspace * scaling
        if font.is_multibyte():
            wordspace = 0
        dxscale = 0.001 * size * scaling
        x, y = textstate.linematrix
        descent, rise = font.get_descent() * size, textstate.rise
        for item, obj in enumerate(seq):
            if isinstance(obj, int | float):
                x -= obj * dxscale
            elif isinstance(obj, bytes):
                codes = _codes(font, obj)
                if codes is None:
                    page.unsplittable = True
                    return
                for start, end, cid in codes:
                    width = font.char_width(cid) * size * scaling
                    move = width + charspace + (wordspace if cid == 32 else 0.0)
                    box = _transform(matrix, (x, y + descent + rise, x + width, y + descent + rise + size))
                    advance = move / dxscale if dxscale else 0.0
                    page.glyphs.append(Glyph(stream, op, item, start, end, box, _unicode(font, cid), advance))
                    x += move
        textstate.linematrix = (x, y)

    def render_image(self, name: str, stream: Any) -> None:
        if self.page is not None and self.ctm is not None:
            box = _transform(self.ctm, (0, 0, 1, 1))
            self.page.images.append(box)
            if self.where[0] == () and self.image_from_page:
                self.page.placed.append((name, box, tuple(self.ctm)))  # type: ignore[arg-type]

    def paint_path(self, graphicstate: Any, stroke: bool, fill: bool, evenodd: bool, path: Any) -> None:
        if self.page is None or self.ctm is None:
            return
        points = [apply_matrix_pt(self.ctm, (float(seg[i]), float(seg[i + 1])))
                  for seg in path for i in range(1, len(seg) - 1, 2)]  # fmt: skip
        if points:
            xs, ys = zip(*points, strict=True)
            self.page.paths.append((min(xs), min(ys), max(xs), max(ys)))


class _Interpreter(PDFPageInterpreter):
    """pdfminer's interpreter, numbering the text operators of each stream it runs."""

    def __init__(self, rsrcmgr: PDFResourceManager, device: _Recorder, stream: StreamPath = ()) -> None:
        super().__init__(rsrcmgr, device)
        self.recorder = device
        self.stream = stream
        self.count = 0

    def dup(self) -> _Interpreter:
        return _Interpreter(self.rsrcmgr, self.recorder, self.stream)

    def _show(self, strings: list[Any]) -> None:
        page = self.recorder.page
        assert page is not None
        page.strings.setdefault(self.stream, []).append([s for s in strings if isinstance(s, bytes)])
        self.recorder.where = (self.stream, self.count)
        self.count += 1

    def do_TJ(self, seq: Any) -> None:
        self._show(list(seq) if isinstance(seq, list) else [])
        super().do_TJ(seq)

    def do_Tj(self, s: Any) -> None:
        self._show([s])
        super().do_TJ([s])

    def do__q(self, s: Any) -> None:
        self._show([s])
        self.do_T_a()
        super().do_TJ([s])

    def do__w(self, aw: Any, ac: Any, s: Any) -> None:
        self._show([s])
        self.do_Tw(aw)
        self.do_Tc(ac)
        self.do_T_a()
        super().do_TJ([s])

    def do_Do(self, xobjid_arg: Any) -> None:
        name = literal_name(xobjid_arg)
        try:
            xobj = stream_value(self.xobjmap[name])
        except KeyError:
            return
        if xobj.get("Subtype") is not None and literal_name(xobj.get("Subtype")) == "Form" and "BBox" in xobj:
            if len(self.stream) >= MAX_FORM_DEPTH:
                return
            sub = _Interpreter(self.rsrcmgr, self.recorder, (*self.stream, str(name)))
            sub.parent_stream_ids.update(self.parent_stream_ids | self.stream_ids)
            matrix = list_value(xobj.get("Matrix", (1, 0, 0, 1, 0, 0)))
            resources = xobj.get("Resources")
            sub.render_contents(resources if resources else self.resources.copy(), [xobj],
                                ctm=mult_matrix(tuple(matrix), self.ctm))  # fmt: skip
            return
        self.recorder.image_from_page = self.stream == ()
        self.recorder.where = (self.stream, self.recorder.where[1])
        super().do_Do(xobjid_arg)
        self.recorder.image_from_page = False


def pages(path: Path, password: str = "") -> Iterator[PageGlyphs]:
    """The glyphs, images and paths of each page, in page order."""
    with path.open("rb") as f:
        document = PDFDocument(PDFParser(f), password=password)
        rsrcmgr = PDFResourceManager(caching=True)
        recorder = _Recorder(rsrcmgr)
        for page in PDFPage.create_pages(document):
            x0, y0, x1, y1 = page.mediabox
            # pdfminer's own page matrix (PDFPageInterpreter.process_page), kept to map boxes back.
            matrix: Matrix = {
                90: (0, -1, 1, 0, -y0, x1),
                180: (-1, 0, 0, -1, x1, y1),
                270: (0, 1, -1, 0, y1, -x0),
            }.get(page.rotate % 360, (1, 0, 0, 1, -x0, -y0))
            w, h = (y1 - y0, x1 - x0) if page.rotate % 180 else (x1 - x0, y1 - y0)
            recorder.page = PageGlyphs(matrix, abs(w), abs(h))
            interpreter = _Interpreter(rsrcmgr, recorder)
            recorder.begin_page(page, matrix)
            interpreter.render_contents(page.resources, page.contents, ctm=matrix)
            yield recorder.page


def center(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def inside(point: tuple[float, float], box: Box, pad: float = 0.0) -> bool:
    return box[0] - pad <= point[0] <= box[2] + pad and box[1] - pad <= point[1] <= box[3] + pad


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def to_page_space(matrix: Matrix, box: Box) -> Box:
    """A box in the page's user space (an annotation's /Rect) in page space."""
    return _transform(matrix, box)
