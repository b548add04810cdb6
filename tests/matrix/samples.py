"""Small real files of every format the catalog declares, made here with ffmpeg, libvips, reportlab,
pikepdf and the office libraries (a few kilobytes each), plus the realistic variants a user's files
come in: a phone's rotated clip, a voice recorder's mono WAV, a CMYK JPEG, a PDF with an owner
password. Each sample is made once per test session, on first use, in one folder.

`BASE[kind]` names the sample the CI run uses for a declared kind; `VARIANTS` maps every variant to
the kind it is (the full run, `-m matrix_full`, uses them all).
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pyvips
from PIL import Image as PILImage
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as rl_canvas

TEXT = "Lutra matrix sample. Grüße aus Zürich, naïve café."


def ffmpeg(out: Path, *args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, str(out)], check=True, timeout=60
    )


# -- images -------------------------------------------------------------------------------------


def picture(width: int = 64, height: int = 48) -> pyvips.Image:
    """A colourful gradient with a dark square (edges and colours for every image tool to work on)."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    image = (x * (255 / width)).bandjoin([y * (255 / height), (x + y) * (127 / (width + height)) + 64])
    image = image.draw_rect([20, 20, 20], width // 3, height // 3, width // 3, height // 3, fill=True)
    return image.cast("uchar").copy(interpretation="srgb")


def _vips(suffix: str, image: Callable[[], pyvips.Image] = picture, **options: object) -> Callable[[Path], None]:
    def make(out: Path) -> None:
        image().write_to_file(str(out), **options)

    return make


def _ico(out: Path) -> None:
    PILImage.open(io.BytesIO(picture(32, 32).write_to_buffer(".png"))).save(out, format="ICO", sizes=[(32, 32)])


def _rgba() -> pyvips.Image:
    image = picture()
    alpha = (pyvips.Image.xyz(image.width, image.height)[0] * (255 / image.width)).cast("uchar")
    return image.bandjoin(alpha).copy(interpretation="srgb")


def _svg(out: Path) -> None:
    out.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">'
        '<rect width="64" height="48" fill="#3a7"/><circle cx="32" cy="24" r="14" fill="#e33"/>'
        '<text x="4" y="44" font-size="8" font-family="DejaVu Sans">Lutra</text></svg>'
    )


def _cmyk_jpeg(out: Path) -> None:
    # Without its 1 MB profile: CMYK JPEGs from print workflows often come bare.
    picture().icc_transform("cmyk", intent="perceptual").write_to_file(str(out), Q=90, strip=True)


def _png16(out: Path) -> None:
    (picture().cast("ushort") * 257).copy(interpretation="rgb16").write_to_file(str(out))


def _palette_png(out: Path) -> None:
    _rgba().write_to_file(str(out), palette=True)


def _grey_png(out: Path) -> None:
    picture().colourspace("b-w").write_to_file(str(out))


def _animated(suffix: str) -> Callable[[Path], None]:
    def make(out: Path) -> None:
        frames = [picture().flip("horizontal" if i % 2 else "vertical") for i in range(3)]
        strip = pyvips.Image.arrayjoin(frames, across=1).copy()
        strip.set_type(pyvips.GValue.gint_type, "page-height", 48)
        strip.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
        strip.write_to_file(str(out))

    return make


def _oriented(orientation: int) -> Callable[[Path], None]:
    def make(out: Path) -> None:
        image = picture().copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
        image.write_to_file(str(out), Q=90)

    return make


def _multipage_tiff(out: Path) -> None:
    pages = pyvips.Image.arrayjoin([picture(), picture().invert()], across=1).copy()
    pages.set_type(pyvips.GValue.gint_type, "page-height", 48)
    pages.write_to_file(str(out))


# -- audio and video ------------------------------------------------------------------------------

_TONE = "sine=frequency=440:duration=1:sample_rate={rate}"
_CLIP = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
_SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=44100"]
_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _tone(rate: int, channels: int, *codec: str) -> Callable[[Path], None]:
    return lambda out: ffmpeg(out, "-f", "lavfi", "-i", _TONE.format(rate=rate), "-ac", str(channels), *codec)


def _clip(*args: str, video: list[str] = _CLIP) -> Callable[[Path], None]:
    return lambda out: ffmpeg(out, *video, *args)


def _mkv_with_subtitles(out: Path) -> None:
    srt = out.with_suffix(".srt")
    srt.write_text("1\n00:00:00,000 --> 00:00:00,800\nHello from Lutra\n", "utf-8")
    ffmpeg(
        out,
        *_CLIP,
        *_SOUND,
        "-i",
        str(srt),
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        *_X264,
        "-c:a",
        "aac",
        "-c:s",
        "srt",
    )


def _rotated(out: Path) -> None:
    # A phone's portrait clip: landscape pixels and a display matrix saying "turn 90 degrees" (only a
    # stream copy writes the rotate tag as that matrix in ffmpeg 5).
    plain = out.with_name("plain." + out.name)
    ffmpeg(plain, *_CLIP, *_SOUND, *_X264, "-c:a", "aac", "-shortest")
    ffmpeg(out, "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90")


def _vfr(out: Path) -> None:
    # Frames at uneven times, as phones record in low light.
    ffmpeg(
        out,
        *_CLIP,
        *_SOUND,
        "-vf",
        "setpts='if(eq(mod(N,3),0),PTS,PTS+0.04/TB)'",
        "-fps_mode",
        "vfr",
        *_X264,
        "-c:a",
        "aac",
        "-shortest",
    )


# -- PDF ------------------------------------------------------------------------------------------


def _text_pdf(out: Path) -> None:
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=(300, 200))
    for n in (1, 2):
        canvas.setFont("Helvetica", 14)
        canvas.drawString(20, 120, f"Page {n}: Lutra matrix sample")
        canvas.drawString(20, 90, "mail me at alice@example.org")
        canvas.showPage()
    canvas.save()
    out.write_bytes(buf.getvalue())


def _scanned_pdf(out: Path) -> None:
    scan = pyvips.Image.text("Scanned page", dpi=150, font="DejaVu Sans 12")
    scan = (255 - scan.embed(10, 10, scan.width + 20, scan.height + 20)).cast("uchar")
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf, pagesize=(scan.width * 72 / 150, scan.height * 72 / 150))
    canvas.drawImage(
        ImageReader(io.BytesIO(scan.write_to_buffer(".png"))),
        0,
        0,
        width=scan.width * 72 / 150,
        height=scan.height * 72 / 150,
    )
    canvas.showPage()
    canvas.save()
    out.write_bytes(buf.getvalue())


def _pdf_from_text(out: Path, save: Callable[[pikepdf.Pdf, Path], None]) -> None:
    base = out.with_suffix(".base.pdf")
    _text_pdf(base)
    with pikepdf.open(base) as doc:
        save(doc, out)


def _owner_password_pdf(out: Path) -> None:
    _pdf_from_text(out, lambda d, p: d.save(p, encryption=pikepdf.Encryption(user="", owner="owner-secret", R=4)))


def _form_pdf(out: Path) -> None:
    def save(doc: pikepdf.Pdf, path: Path) -> None:
        page = doc.pages[0].obj
        field = doc.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("name"),
                V=pikepdf.String("Alice"),
                Rect=[20, 20, 200, 40],
                P=page,
            )
        )
        page.Annots = pikepdf.Array([field])
        doc.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
        doc.save(path)

    _pdf_from_text(out, save)


def _pdf_version(version: str) -> Callable[[Path], None]:
    return lambda out: _pdf_from_text(out, lambda d, p: d.save(p, force_version=version, compress_streams=False))


def _damaged_xref(out: Path) -> None:
    _pdf_from_text(out, lambda d, p: d.save(p, object_stream_mode=pikepdf.ObjectStreamMode.disable))
    data = bytearray(out.read_bytes())
    start = data.rindex(b"xref")
    data[start + 10 : start + 60] = b"9" * 50  # the offsets table is garbage; readers must rebuild it
    out.write_bytes(bytes(data))


# -- office, text, archives ------------------------------------------------------------------------


def _docx(out: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading("Lutra sample", level=1)
    doc.add_paragraph(TEXT)
    doc.save(out)


def _xlsx(out: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "city", "amount"])
    sheet.append(["Jürgen", "Zürich", 12.5])
    sheet.append(["Ana", "Lisboa", 7])
    book.save(out)


def _pptx(out: Path) -> None:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Lutra sample"
    slide.placeholders[1].text = TEXT
    deck.save(out)


_ODF_BODY = {
    "text": "<office:text><text:p>{text}</text:p></office:text>",
    "spreadsheet": '<office:spreadsheet><table:table table:name="Sheet1"><table:table-row><table:table-cell '
    'office:value-type="string"><text:p>name</text:p></table:table-cell><table:table-cell '
    'office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell></table:table-row>'
    "</table:table></office:spreadsheet>",
    "presentation": '<office:presentation><draw:page draw:name="p1"><draw:frame svg:x="1cm" svg:y="1cm" '
    'svg:width="20cm" svg:height="3cm"><draw:text-box><text:p>{text}</text:p></draw:text-box>'
    "</draw:frame></draw:page></office:presentation>",
}


def _odf(kind: str) -> Callable[[Path], None]:
    """A minimal OpenDocument file written by hand (mimetype first and stored, manifest, content)."""

    def make(out: Path) -> None:
        mime = f"application/vnd.oasis.opendocument.{kind}"
        ns = (
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
            'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"'
        )
        content = (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
            f"<office:body>{_ODF_BODY[kind].format(text=TEXT)}</office:body></office:document-content>"
        )
        manifest = (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
            f'manifest:full-path="/" manifest:media-type="{mime}"/><manifest:file-entry manifest:full-path='
            '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zipfile.ZipInfo("mimetype"), mime, compress_type=zipfile.ZIP_STORED)
            z.writestr("META-INF/manifest.xml", manifest)
            z.writestr("content.xml", content)

    return make


def _epub(out: Path) -> None:
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">'
        "urn:uuid:7e1f8c1a-0000-4000-8000-000000000001</dc:identifier><dc:title>Lutra sample</dc:title>"
        '<dc:language>en</dc:language><meta property="dcterms:modified">2026-01-01T00:00:00Z</meta></metadata>'
        '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref '
        'idref="c1"/></spine></package>'
    )
    page = (
        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>{t}</title></head><body>{b}</body></html>'
    )
    nav = page.format(t="Contents", b='<nav epub:type="toc"><ol><li><a href="c1.xhtml">One</a></li></ol></nav>')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:'
            'tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="content.opf" media-type='
            '"application/oebps-package+xml"/></rootfiles></container>',
        )
        z.writestr("content.opf", opf)
        z.writestr("nav.xhtml", nav)
        z.writestr("c1.xhtml", page.format(t="One", b=f"<h1>Chapter one</h1><p>{TEXT}</p>"))


def _text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda out: out.write_bytes(content.encode(encoding))


def _zip(out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes/readme.txt", TEXT)
        z.writestr("picture.png", picture().write_to_buffer(".png"))


_CSV = "name;city;amount\nJürgen;Zürich;12,5\nAna;Lisboa;7\n"
_RTF = r"{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}\f0\fs24 Lutra sample: Gr\'fc\'dfe aus Z\'fcrich.\par}"

# -- the catalog of samples ------------------------------------------------------------------------

# name -> (kind it sniffs as, file extension, maker)
Maker = Callable[[Path], None]
SAMPLES: dict[str, tuple[str, str, Maker]] = {
    # images
    "jpeg": ("jpeg", "jpg", _vips(".jpg", Q=90)),
    "png": ("png", "png", _vips(".png", _rgba)),
    "webp": ("webp", "webp", _vips(".webp")),
    "gif": ("gif", "gif", _vips(".gif")),
    "tiff": ("tiff", "tif", _vips(".tif")),
    "bmp": ("bmp", "bmp", _vips(".bmp")),
    "heif": ("heif", "heic", _vips(".heic")),
    "avif": ("avif", "avif", _vips(".avif")),
    "jxl": ("jxl", "jxl", _vips(".jxl")),
    "jp2": ("jp2", "jp2", _vips(".jp2")),
    "ico": ("ico", "ico", _ico),
    "svg": ("svg", "svg", _svg),
    "jpeg-cmyk": ("jpeg", "jpg", _cmyk_jpeg),
    "png-16bit": ("png", "png", _png16),
    "png-palette-alpha": ("png", "png", _palette_png),
    "png-grey": ("png", "png", _grey_png),
    "gif-animated": ("gif", "gif", _animated(".gif")),
    "webp-animated": ("webp", "webp", _animated(".webp")),
    "tiff-multipage": ("tiff", "tif", _multipage_tiff),
    **{f"jpeg-exif-{n}": ("jpeg", "jpg", _oriented(n)) for n in range(2, 9)},
    # audio
    "wav": ("wav", "wav", _tone(22050, 1, "-c:a", "pcm_s16le")),  # a voice recorder's: mono, 22.05 kHz
    "mp3": ("mp3", "mp3", _tone(44100, 2, "-c:a", "libmp3lame", "-b:a", "64k")),
    "ogg": ("ogg", "ogg", _tone(44100, 2, "-c:a", "libvorbis")),
    "flac": ("flac", "flac", _tone(44100, 2, "-c:a", "flac")),
    "m4a": ("m4a", "m4a", _tone(44100, 2, "-c:a", "aac", "-b:a", "64k", "-f", "ipod")),
    "wav-u8-8k": ("wav", "wav", _tone(8000, 1, "-c:a", "pcm_u8")),
    "wav-s16-44k-stereo": ("wav", "wav", _tone(44100, 2, "-c:a", "pcm_s16le")),
    "wav-s24-96k": ("wav", "wav", _tone(96000, 2, "-c:a", "pcm_s24le")),
    "wav-float-48k": ("wav", "wav", _tone(48000, 2, "-c:a", "pcm_f32le")),
    "wav-5.1": ("wav", "wav", _tone(48000, 6, "-c:a", "pcm_s16le")),
    "ogg-opus": ("ogg", "ogg", _tone(48000, 2, "-c:a", "libopus", "-b:a", "32k")),
    "mp3-mono-22k": ("mp3", "mp3", _tone(22050, 1, "-c:a", "libmp3lame", "-b:a", "32k")),
    # video
    "mp4": ("mp4", "mp4", _clip(*_SOUND, *_X264, "-c:a", "aac", "-shortest")),
    "mov": ("mov", "mov", _clip(*_SOUND, *_X264, "-c:a", "aac", "-shortest", "-f", "mov")),
    "webm": (
        "webm",
        "webm",
        _clip(*_SOUND, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus", "-shortest"),
    ),
    "mkv": ("mkv", "mkv", _mkv_with_subtitles),
    "avi": ("avi", "avi", _clip(*_SOUND, "-c:v", "mpeg4", "-c:a", "libmp3lame", "-shortest")),
    "mp4-hevc": (
        "mp4",
        "mp4",
        _clip(
            *_SOUND,
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error",
            "-c:a",
            "aac",
            "-shortest",
        ),
    ),
    "mp4-no-audio": ("mp4", "mp4", _clip(*_X264)),
    "mp4-rotated": ("mp4", "mp4", _rotated),
    "mp4-odd-size": (
        "mp4",
        "mp4",
        _clip(
            *_SOUND,
            *_X264,
            "-c:a",
            "aac",
            "-shortest",
            video=["-f", "lavfi", "-i", "testsrc2=size=63x47:rate=10:duration=1"],
        ),
    ),
    "mp4-vfr": ("mp4", "mp4", _vfr),
    "mp4-5.1": (
        "mp4",
        "mp4",
        _clip("-f", "lavfi", "-i", "sine=duration=1", "-ac", "6", *_X264, "-c:a", "aac", "-shortest"),
    ),
    # PDF
    "pdf": ("pdf", "pdf", _text_pdf),
    "pdf-scanned": ("pdf", "pdf", _scanned_pdf),
    "pdf-owner-password": ("pdf", "pdf", _owner_password_pdf),
    "pdf-form": ("pdf", "pdf", _form_pdf),
    "pdf-1.3": ("pdf", "pdf", _pdf_version("1.3")),
    "pdf-2.0": ("pdf", "pdf", _pdf_version("2.0")),
    "pdf-damaged-xref": ("pdf", "pdf", _damaged_xref),
    # office, text, archives
    "docx": ("docx", "docx", _docx),
    "xlsx": ("xlsx", "xlsx", _xlsx),
    "pptx": ("pptx", "pptx", _pptx),
    "odt": ("odt", "odt", _odf("text")),
    "ods": ("ods", "ods", _odf("spreadsheet")),
    "odp": ("odp", "odp", _odf("presentation")),
    "rtf": ("rtf", "rtf", _text(_RTF, "ascii")),
    "csv": ("csv", "csv", _text("name,city,amount\nJürgen,Zürich,12.5\nAna,Lisboa,7\n")),
    "csv-latin1-semicolon": ("csv", "csv", _text(_CSV, "latin-1")),
    "txt": ("txt", "txt", _text(TEXT + "\nA second line of plain text.\n")),
    "json": ("json", "json", _text('{"name": "Jürgen", "items": [{"a": 1}, {"a": 2}]}')),
    "xml": (
        "xml",
        "xml",
        _text('<?xml version="1.0"?><rows><row><a>1</a><b>x</b></row><row><a>2</a><b>y</b></row></rows>'),
    ),
    "yaml": ("yaml", "yaml", _text("name: Jürgen\nitems:\n  - a: 1\n  - a: 2\n")),
    "markdown": ("markdown", "md", _text("# Lutra sample\n\nSome *emphasis* and a list:\n\n- one\n- two\n")),
    "html": (
        "html",
        "html",
        _text(f"<!doctype html><html><head><title>Lutra</title></head><body><h1>Lutra</h1><p>{TEXT}</p></body></html>"),
    ),
    "epub": ("epub", "epub", _epub),
    "zip": ("zip", "zip", _zip),
    "srt": ("srt", "srt", _text("1\n00:00:00,000 --> 00:00:00,800\nHello from Lutra\n")),
    "vtt": ("vtt", "vtt", _text("WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nHello from Lutra\n")),
}

# The sample a declared kind gets in CI: the sample named like the kind.
BASE = {kind: name for name, (kind, _, _) in SAMPLES.items() if name == kind}
VARIANTS = {name: kind for name, (kind, _, _) in SAMPLES.items() if name != kind}


class SampleStore:
    """Makes each sample once, on first use, in `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        _kind, ext, make = SAMPLES[name]
        out = self.root / f"{name}.{ext}"
        if not out.exists():
            part = out.with_name(f"{name}.part.{ext}")
            make(part)
            part.replace(out)
        return out
