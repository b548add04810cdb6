"""Content detection from the bytes, never the file name: uploads are hostile until proven otherwise."""

from __future__ import annotations

import re
from pathlib import Path

HEAD_BYTES = 4096

IMAGE_KINDS = ("jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "avif", "svg", "jxl", "jp2", "ico")
VIDEO_KINDS = ("mp4", "mov", "webm", "mkv", "avi")
AUDIO_KINDS = ("mp3", "wav", "ogg", "flac", "m4a")
SUBTITLE_KINDS = ("srt", "vtt")

MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
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
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QT_BRANDS = {b"qt  "}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
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
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "mkv"
    if head.startswith(b"ID3") or (len(head) > 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] != 0xFF):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
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
    return None


def sniff_file(path: Path) -> str | None:
    with path.open("rb") as f:
        return sniff_bytes(f.read(HEAD_BYTES))


def mime_for(kind: str) -> str:
    return MIME.get(kind, "application/octet-stream")


# Group names a tool may use in Inputs.kinds instead of listing every format.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "image": IMAGE_KINDS,
    "video": VIDEO_KINDS,
    "audio": AUDIO_KINDS,
    "subtitle": SUBTITLE_KINDS,
}


def accepts(kinds: tuple[str, ...], kind: str) -> bool:
    """Whether a detected kind satisfies a tool's accepted kinds (formats or group names)."""
    if not kinds:
        return True
    return any(kind in KIND_GROUPS.get(k, (k,)) for k in kinds)
