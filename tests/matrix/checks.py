"""What an output really is: its kind sniffed from the bytes (and matching its name), then the
properties that kind must have, read back with the engines (libvips, ffprobe, qpdf, poppler, zipfile,
the JSON/XML/YAML parsers)."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pyvips
import yaml
from defusedxml import ElementTree

from app.engine.media.sniff import AUDIO_KINDS, IMAGE_KINDS, VIDEO_KINDS, sniff_file

# The kind a file name's extension promises (an output named .jpg must be a JPEG).
EXT_KINDS = {
    "jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "gif": "gif", "tif": "tiff", "tiff": "tiff",
    "bmp": "bmp", "heic": "heif", "heif": "heif", "avif": "avif", "svg": "svg", "jxl": "jxl", "ico": "ico",
    "mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "mkv", "avi": "avi", "mp3": "mp3", "wav": "wav",
    "ogg": "ogg", "flac": "flac", "m4a": "m4a", "pdf": "pdf", "zip": "zip", "docx": "docx", "xlsx": "xlsx",
    "pptx": "pptx", "odt": "odt", "ods": "ods", "odp": "odp", "epub": "epub", "json": "json", "xml": "xml",
    "csv": "csv", "srt": "srt", "vtt": "vtt",
}  # fmt: skip
# Text outputs the sniffer may read as plain text or a neighbour (a one-column CSV looks like text).
TEXTUAL = {"txt", "csv", "json", "xml", "yaml", "markdown", "html", "srt", "vtt", "rtf"}


def _ffprobe(path: Path) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                          capture_output=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, f"ffprobe cannot read {path.name}: {done.stderr[-300:]!r}"
    return json.loads(done.stdout)


def _media(path: Path, kind: str) -> dict[str, Any]:
    info = _ffprobe(path)
    streams = info["streams"]
    duration = float(info["format"].get("duration") or 0)
    audio = [s for s in streams if s["codec_type"] == "audio"]
    video = [s for s in streams if s["codec_type"] == "video" and not s.get("disposition", {}).get("attached_pic")]
    if kind in AUDIO_KINDS:
        assert audio, f"{path.name}: no audio stream"
        assert int(audio[0]["channels"]) >= 1 and int(audio[0]["sample_rate"]) > 0
        assert duration > 0.05, f"{path.name}: {duration} s"
    else:
        assert video or audio, f"{path.name}: no stream"
        if video and kind != "gif":
            assert int(video[0]["width"]) > 0 and int(video[0]["height"]) > 0
    return {"duration": duration, "channels": int(audio[0]["channels"]) if audio else 0,
            "size": (int(video[0]["width"]), int(video[0]["height"])) if video else None}  # fmt: skip


def _image(path: Path) -> dict[str, Any]:
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    assert image.width > 0 and image.height > 0
    image.avg()  # decodes every pixel: a truncated file fails here
    return {"size": (image.width, image.height)}


def _pdf(path: Path, password: str) -> dict[str, Any]:
    with pikepdf.open(path, password=password) as doc:
        pages = len(doc.pages)
        assert pages >= 1
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "t.txt"
        subprocess.run(["pdftotext", "-q", "-upw", password, str(path), str(text)], check=True, timeout=60)
        return {"pages": pages, "text": text.read_text("utf-8", "replace")}


def _container(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None, f"{path.name}: a damaged entry"
        names = z.namelist()
    assert names, f"{path.name}: empty archive"
    return {"entries": names}


def _text(path: Path, kind: str, empty_ok: bool) -> dict[str, Any]:
    text = path.read_bytes().decode("utf-8")
    assert text.strip() or empty_ok, f"{path.name}: empty"
    if kind == "json":
        json.loads(text)
    elif kind == "xml":
        ElementTree.fromstring(text.encode())
    elif kind == "yaml":
        yaml.safe_load(text)
    return {"text": text}


def check(path: Path, *, empty_ok: bool = False, password: str = "") -> dict[str, Any]:
    """The output's kind and properties; fails when it is not a whole, readable file of the kind its name says.

    empty_ok: a text output may be empty (a transcript of audio without speech says so itself);
    password: what opens a PDF the tool encrypted."""
    if empty_ok and not path.read_bytes().strip():
        return {"kind": None, "text": ""}
    kind = sniff_file(path)
    ext = path.suffix.lower().lstrip(".")
    expected = EXT_KINDS.get(ext)
    assert kind is not None or ext in TEXTUAL | {"txt", "md", "yaml", "yml", "html", "ico"}, f"{path.name}: unknown"
    if expected and kind != expected and not (expected in TEXTUAL and kind in TEXTUAL):
        raise AssertionError(f"{path.name} is named .{ext} but its bytes are {kind}")
    if kind in IMAGE_KINDS:
        props = _image(path)
    elif kind in AUDIO_KINDS or kind in VIDEO_KINDS:
        props = _media(path, kind)
    elif kind == "pdf":
        props = _pdf(path, password)
    elif kind in ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"):
        props = _container(path)
    else:
        props = _text(path, kind or "txt", empty_ok)
    return {"kind": kind, **props}


def zip_members(path: Path, into: Path) -> list[Path]:
    """A ZIP output's files, extracted, each to be checked in turn."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        z.extractall(into)
        return [into / n for n in z.namelist() if not n.endswith("/")]
