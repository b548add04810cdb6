"""The picture path of PDF redaction: a page rendered to pixels with its boxes burnt in, rebuilt as
that picture alone (its text, fonts and images leave the file). Used when asked (`flatten`), when a
page's text cannot be edited safely, and as the last resort when poppler still reads a term.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyvips

from app.engine.media import pdf
from app.engine.media.pdf_glyphs import Box, PageGlyphs, overlaps
from app.engine.tool import ToolContext, ToolFailure

if TYPE_CHECKING:
    import pikepdf
    from PIL.Image import Image as PILImage

log = logging.getLogger("lutra.pdf")

DPI = 200
PAD = 1.0  # points of black around each box, so anti-aliased glyph edges go too


def crop_offset(page: pikepdf.Page) -> tuple[float, float]:
    """How far the visible CropBox's left and top edges lie inside the MediaBox (unrotated pages)."""
    if int(page.obj.get("/Rotate", 0)) % 360:
        return 0.0, 0.0
    cx0, _, _, cy1 = pdf.visible_box(page)
    media = [float(v) for v in page.mediabox]
    return cx0 - min(media[0], media[2]), max(media[1], media[3]) - cy1


def rebuild_page(doc: pikepdf.Pdf, index: int, source: Path, height: float, boxes: list[Box]) -> None:
    """Replaces page `index` by a picture of it (rendered from `source`) with `boxes` (page space) black."""
    import pikepdf

    dx, dtop = crop_offset(doc.pages[index])
    try:
        image = pyvips.Image.pdfload(str(source), page=index, dpi=DPI, access="sequential")
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        image = image.colourspace("srgb").cast("uchar")
        width_pt, height_pt = image.width * 72 / DPI, image.height * 72 / DPI
        scale = image.width / width_pt
        for x0, y0, x1, y1 in boxes:
            # Page space has its origin at the MediaBox's bottom left; the picture shows the CropBox.
            top, left_pt = height - y1 - dtop, x0 - dx
            left, upper = int((left_pt - PAD) * scale), int((top - PAD) * scale)
            right, lower = int((left_pt + (x1 - x0) + PAD) * scale) + 1, int((top + (y1 - y0) + PAD) * scale) + 1
            image = image.draw_rect([0, 0, 0], left, upper, right - left, lower - upper, fill=True)
        pixels = zlib.compress(image.write_to_memory(), 6)
    except pyvips.Error as exc:
        raise ToolFailure(f"page {index + 1} could not be rendered") from exc
    picture = pikepdf.Stream(doc, pixels)
    picture.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=image.width, Height=image.height,
        ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode,
    )  # fmt: skip
    target = doc.pages[index].obj
    for key in list(target.keys()):
        if key not in ("/Type", "/Parent"):
            del target[key]
    target.MediaBox = pikepdf.Array([0, 0, width_pt, height_pt])
    target.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    target.Contents = doc.make_stream(f"q {width_pt:.4f} 0 0 {height_pt:.4f} 0 0 cm /Im0 Do Q".encode())


def rebuild_pages(ctx: ToolContext, doc: pikepdf.Pdf, source: Path, pages: dict[int, list[Box]],
                  heights: dict[int, float], span: tuple[float, float]) -> None:  # fmt: skip
    for n, index in enumerate(sorted(pages)):
        ctx.check_cancelled()
        rebuild_page(doc, index, source, heights[index], pages[index])
        ctx.progress(span[0] + (span[1] - span[0]) * (n + 1) / len(pages), f"Rebuilding page {index + 1}")


def pages_mentioning(ctx: ToolContext, path: Path, mentions: Callable[[str], bool]) -> list[int]:
    """Pages (from 0) on which poppler still reads a redacted term."""
    text = pdf.pdftotext(ctx, path)
    return [i for i, page in enumerate(text.split("\f")) if mentions(page)]


def verify(ctx: ToolContext, out: Path, finder: Callable[[str], object], mentions: Callable[[str], bool],
           rebuilt: dict[int, list[Box]], warnings: list[str]) -> Path:  # fmt: skip
    """The proof: poppler reads none of the terms in what we hand back. A page where it still does is
    rebuilt as a picture (with a warning); if even that leaves one, no file is returned."""
    from app.engine.media.pdf_redact import find_hits, poppler_words

    left = pages_mentioning(ctx, out, mentions)
    if left and not any(i in rebuilt for i in left):
        words = poppler_words(pdf.pdftotext(ctx, out, extra=["-bbox"]))
        with pdf.open_pdf(out) as doc:
            for index in left:
                _, height, page_words = words[index]
                boxes = [h.word.box for h in find_hits(page_words, finder, {})]  # type: ignore[arg-type]
                rebuild_page(doc, index, out, height, boxes)
                rebuilt[index] = boxes
                warnings.append(f"page {index + 1}: text remained after editing, so the page was rebuilt as a picture")
            fixed = out.with_name(out.stem + ".tmp.pdf")
            pdf.save_pdf(doc, fixed)
        fixed.replace(out)
        left = pages_mentioning(ctx, out, mentions)
    if left:
        out.unlink(missing_ok=True)
        raise ToolFailure(f"a redacted term could still be read on page {left[0] + 1}; nothing was returned")
    return out


def black_out_images(doc: pikepdf.Pdf, index: int, page: PageGlyphs, boxes: list[Box]) -> bool:
    """Paints the parts of the page's images under `boxes` black in the image data itself (a scan's
    pixels, not just a box over them). False when an image under a box cannot be edited this way
    (placed inside a form, rotated or skewed, an unusual encoding): the caller rebuilds the page."""
    import pikepdf
    from PIL import ImageDraw

    under = [b for b in page.images if any(overlaps(b, box) for box in boxes)]
    placed = [(name, ibox, ctm) for name, ibox, ctm in page.placed if any(overlaps(ibox, box) for box in boxes)]
    if len(placed) != len(under):
        return False
    if not placed:
        return True
    target = doc.pages[index].obj
    resources = target.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return False
    edited: dict[str, pikepdf.Stream] = {}
    for name, (x0, y0, x1, y1), ctm in placed:
        original = xobjects.get(f"/{name}")
        a, b, c, d = ctm[:4]
        if not isinstance(original, pikepdf.Stream) or b or c or a <= 0 or d <= 0 or "/Decode" in original:
            return False  # only upright, unflipped images are mapped pixel for pixel here
        try:
            picture = pikepdf.PdfImage(original).as_pil_image()
        except Exception:  # any image pikepdf cannot decode: the page is rebuilt instead
            log.info("redact-pdf: image %s on page %d could not be decoded", name, index + 1, exc_info=True)
            return False
        picture = picture.convert("L" if picture.mode in ("1", "L", "LA") else "RGB")
        width, height = picture.size
        draw = ImageDraw.Draw(picture)
        for bx0, by0, bx1, by1 in boxes:
            if not overlaps((x0, y0, x1, y1), (bx0, by0, bx1, by1)):
                continue
            left = max(0, int((bx0 - PAD - x0) / (x1 - x0) * width))
            right = min(width, int((bx1 + PAD - x0) / (x1 - x0) * width) + 1)
            top = max(0, int((y1 - by1 - PAD) / (y1 - y0) * height))
            bottom = min(height, int((y1 - by0 + PAD) / (y1 - y0) * height) + 1)
            draw.rectangle([left, top, right - 1, bottom - 1], fill=0)
        edited[name] = _image_stream(doc, original, picture)
    copy = pikepdf.Dictionary({k: v for k, v in resources.items()})
    copy.XObject = pikepdf.Dictionary({k: v for k, v in xobjects.items()})
    for name, stream in edited.items():
        copy.XObject[f"/{name}"] = stream  # a per-page copy: other pages showing the image keep theirs
    target.Resources = copy
    return True


def _image_stream(doc: pikepdf.Pdf, original: pikepdf.Stream, picture: PILImage) -> pikepdf.Stream:
    """The edited picture as an image XObject: JPEG if the original was, else Flate; mask kept."""
    import io

    import pikepdf

    if original.get("/Filter") == pikepdf.Name.DCTDecode:
        buf = io.BytesIO()
        picture.save(buf, format="JPEG", quality=90)
        data, filt = buf.getvalue(), pikepdf.Name.DCTDecode
    else:
        data, filt = zlib.compress(picture.tobytes(), 6), pikepdf.Name.FlateDecode
    stream = pikepdf.Stream(doc, data)
    stream.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=picture.width, Height=picture.height,
        ColorSpace=pikepdf.Name.DeviceGray if picture.mode == "L" else pikepdf.Name.DeviceRGB,
        BitsPerComponent=8, Filter=filt,
    )  # fmt: skip
    for key in ("/SMask", "/Interpolate"):
        if key in original:
            stream[key] = original[key]
    return stream
