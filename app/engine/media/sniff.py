"""Content detection from the bytes, never the file name: uploads are hostile until proven otherwise."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

HEAD_BYTES = 4096

IMAGE_KINDS = ("jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "avif", "svg", "jxl", "jp2", "ico")
# Design files: Photoshop (read by libvips through ImageMagick) and EPS (rasterized by Ghostscript,
# see eps.py). Only the conversion tools take them, so other tools never meet their decoders.
DESIGN_KINDS = ("psd", "eps")
VIDEO_KINDS = ("mp4", "mov", "webm", "mkv", "avi")
AUDIO_KINDS = ("mp3", "wav", "ogg", "flac", "m4a", "aac")
SUBTITLE_KINDS = ("srt", "vtt")
# Office documents are ZIP containers told apart by their entries (see _zip_kind); rtf is text.
DOCUMENT_KINDS = ("docx", "odt", "rtf")
SPREADSHEET_KINDS = ("xlsx", "ods")
PRESENTATION_KINDS = ("pptx", "odp")
# Plain-text formats, classified from the content (see _text_kind); ambiguous text is "txt".
TEXT_KINDS = ("txt", "csv", "json", "xml", "yaml", "markdown", "html")

MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "pkcs12": "application/x-pkcs12",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heif": "image/heif",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    "jxl": "image/jxl",
    "jp2": "image/jp2",
    "ico": "image/x-icon",
    "psd": "image/vnd.adobe.photoshop",
    "eps": "application/postscript",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xls": "application/vnd.ms-excel",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "epub": "application/epub+zip",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
    "xml": "application/xml",
    "yaml": "application/yaml",
    "markdown": "text/markdown",
    # html is left out on purpose: user HTML is never served as a page on our origin.
}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QT_BRANDS = {b"qt  "}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_DOS_EPS = b"\xc5\xd0\xd3\xc6"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)
# SubRip: a cue number, then a "00:00:01,000 --> 00:00:02,500" timing line.
_SRT = re.compile(rb"\d{1,9}[ \t]*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]+-->[ \t]+\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}")


def _ftyp(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    major = head[8:12]
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    if major in _QT_BRANDS:
        return "mov"
    if major in _M4A_BRANDS:
        return "m4a"
    if brands & _AVIF_BRANDS:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heif"
    return "mp4"


def _is_pkcs12(head: bytes) -> bool:
    """A PKCS#12 key store (.p12/.pfx): an ASN.1 SEQUENCE whose first element is INTEGER 3 (RFC 7292)."""
    if len(head) < 8 or head[0] != 0x30:
        return False
    size = head[1]
    start = 2 + (size & 0x7F if size > 0x80 else 0)  # long-form length bytes; 0x80 is BER's indefinite
    return head[start : start + 3] == b"\x02\x01\x03"


def sniff_bytes(head: bytes) -> str | None:
    """Returns the content kind of a file from its first bytes, or None when unrecognised."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"BM") and len(head) >= 26:
        return "bmp"
    if head.startswith(b"\x00\x00\x01\x00") and len(head) >= 22:
        return "ico"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "jxl"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"8BPS\x00\x01"):
        return "psd"
    if head.startswith(_DOS_EPS) or (head.startswith(b"%!PS-Adobe-") and b"EPSF" in head.split(b"\n", 1)[0]):
        return "eps"
    if head.startswith(_OLE2):
        return "ole2"  # told apart by its streams in sniff_file
    if head.startswith(b"\x1f\x8b"):
        return "gzip"  # a compressed SVG (svgz) is told apart in sniff_file
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "mkv"
    # ADTS AAC shares MPEG audio's sync word; its layer bits are 00, which no MP3 frame uses.
    if len(head) > 6 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"
    if head.startswith(b"ID3") or (len(head) > 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] != 0xFF):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if _is_pkcs12(head):
        return "pkcs12"
    kind = _ftyp(head)
    if kind:
        return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"WEBVTT") and text[6:7] in (b"", b" ", b"\t", b"\r", b"\n"):
        return "vtt"
    if _SRT.match(text):
        return "srt"
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")) and _SVG.search(head):
        return "svg"
    if text.startswith(b"{\\rtf"):
        return "rtf"
    return _text_kind(head)


# -- text formats ---------------------------------------------------------------------------------

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_JSON_START = re.compile(r'\s*(\{\s*("|\})|\[\s*("|\[|\{|-|\d|true|false|null|\]))')
_HTML_DOC = re.compile(r"<(!doctype\s+html|html|head|body)[\s>/]", re.I)
_HTML_START = re.compile(r"<(meta|div|p|h[1-6]|table|ul|ol|span|a|br|img|style|section|article)[\s>/]", re.I)
_XML = re.compile(r"<\?xml\s|<[A-Za-z_][\w.:-]*[\s>/]")
_YAML_LINE = re.compile(r"(-\s+\S|-$|[\w\"'.$/ -]{1,80}:(\s|$)|#|\.\.\.$|---)")
_MARKDOWN = re.compile(r"^(#{1,6}\s+\S|\s{0,3}([-*+]|\d{1,3}[.)])\s+\S|```|>\s|\|.*\|\s*$)|\]\(|\*\*\S", re.M)


def _decode_text(head: bytes) -> str | None:
    """The head as text, or None for binary content: UTF-8 (a character cut at the end is fine), or
    an 8-bit encoding when no control character shows up (random bytes always have some)."""
    if not head or _CONTROL.search(head):
        return None
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    for cut in range(4):
        try:
            return body[: len(body) - cut].decode("utf-8")
        except UnicodeDecodeError:
            if len(head) < HEAD_BYTES:
                break
    return body.decode("latin-1")


def _looks_csv(lines: list[str]) -> bool:
    """Two or more lines cut into the same number (2+) of fields by one delimiter."""
    import csv

    sample = [ln for ln in lines[:20] if ln.strip()]
    if len(sample) > 2 and len(sample) == len(lines[:20]) and sample[-1] == lines[-1]:
        sample = sample[:-1]  # the last line of a head may be cut short
    if len(sample) < 2:
        return False
    for delimiter in (",", ";", "\t", "|"):
        counts = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(counts) == 1 and counts.pop() >= 2:
            return True
    return False


def _text_kind(head: bytes) -> str | None:
    text = _decode_text(head)
    if text is None:
        return None
    stripped = text.lstrip()
    if not stripped:
        return "txt"
    if _JSON_START.match(stripped):
        return "json"
    if stripped.startswith("<"):
        if _HTML_DOC.search(stripped[:1024]) or _HTML_START.match(stripped):
            return "html"
        return "xml" if _XML.match(stripped) else "txt"
    lines = text.splitlines()
    if stripped.startswith("---") and re.search(r"^#{1,6}\s", text, re.M):
        return "markdown"  # YAML front matter, then a markdown body
    content = [ln.strip() for ln in lines[:50] if ln.strip()]
    # Before CSV: "key: [a, b]" lines have commas too, but a CSV row is never all "key: " lines.
    if stripped.startswith(("---", "%YAML")) or (
        all(_YAML_LINE.match(ln) for ln in content) and any(re.search(r":(\s|$)", ln) for ln in content)
    ):
        return "yaml"
    if _looks_csv(lines):
        return "csv"
    if _MARKDOWN.search(text):
        return "markdown"
    return "txt"


def _zip_kind(path: Path) -> str:
    """Office documents and EPUBs are ZIPs: the entries say which (the central directory is read,
    never the data, except an ODF/EPUB `mimetype` entry of a few bytes)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "mimetype" in names:
                info = z.getinfo("mimetype")
                mimetype = z.read(info).decode("ascii", "replace").strip() if info.file_size < 100 else ""
                return _ODF.get(mimetype, "zip")
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError):
        return "zip"
    if "[Content_Types].xml" in names:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(n.startswith(prefix) for n in names):
                return kind
    return "zip"


_ODF = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/epub+zip": "epub",
}


# Legacy Office files are OLE2 compound files: the directory names the main stream, UTF-16 encoded.
_OLE_STREAMS = (("Workbook".encode("utf-16-le"), "xls"), ("Book\x00".encode("utf-16-le"), "xls"))
_OLE_SCAN_BYTES = 8 * 1024 * 1024


def _ole2_kind(path: Path) -> str | None:
    """An Excel 97-2003 workbook, or None for other OLE2 files (Word, PowerPoint, MSI: not taken)."""
    with path.open("rb") as f:
        data = f.read(_OLE_SCAN_BYTES)
    return next((kind for name, kind in _OLE_STREAMS if name in data), None)


def svgz_text(path: Path, limit: int) -> bytes:
    """The SVG inside a gzip file, at most `limit` bytes (a small .svgz may unpack to gigabytes)."""
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    with path.open("rb") as f:
        while len(out) <= limit and (chunk := f.read(64 * 1024)):
            out += unpack.decompress(chunk, limit + 1 - len(out))
            while unpack.unconsumed_tail and len(out) <= limit:
                out += unpack.decompress(unpack.unconsumed_tail, limit + 1 - len(out))
    return bytes(out)


def _gzip_kind(path: Path) -> str | None:
    try:
        head = svgz_text(path, HEAD_BYTES)
    except (OSError, EOFError, ValueError, zlib.error):
        return None
    return "svgz" if sniff_bytes(head) == "svg" else None


# Kinds sniff_bytes can only name as a container: sniff_file opens them to tell what is inside.
DEEPER_SNIFF = frozenset({"zip", "ole2", "gzip"})


def sniff_file(path: Path) -> str | None:
    with path.open("rb") as f:
        kind = sniff_bytes(f.read(HEAD_BYTES))
    if kind == "zip":
        return _zip_kind(path)
    if kind == "ole2":
        return _ole2_kind(path)
    if kind == "gzip":
        return _gzip_kind(path)
    return kind


def mime_for(kind: str) -> str:
    return MIME.get(kind, "application/octet-stream")


# Group names a tool may use in Inputs.kinds instead of listing every format.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "image": IMAGE_KINDS,
    "video": VIDEO_KINDS,
    "audio": AUDIO_KINDS,
    "subtitle": SUBTITLE_KINDS,
    "text": TEXT_KINDS,
    "document": DOCUMENT_KINDS,
    "spreadsheet": SPREADSHEET_KINDS,
    "presentation": PRESENTATION_KINDS,
    "design": DESIGN_KINDS,
    # Every ZIP container, for tools that take any archive.
    "archive": ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"),
}


def expand_kinds(kinds: tuple[str, ...]) -> list[str]:
    """A tool's accepted kinds with the groups spelled out ("image" -> jpeg, png, ...), in order."""
    return list(dict.fromkeys(k for group in kinds for k in KIND_GROUPS.get(group, (group,))))


def accepts(kinds: tuple[str, ...], kind: str) -> bool:
    """Whether a detected kind satisfies a tool's accepted kinds (formats or group names)."""
    if not kinds:
        return True
    return any(kind in KIND_GROUPS.get(k, (k,)) for k in kinds)
