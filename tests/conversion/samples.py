"""Tiny generated inputs of every kind the conversion presets and any-to-any conversion take, and a
check of what a result really is (sniffed from its bytes, then decoded by the matching engine)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips
from fastapi.testclient import TestClient

from app.engine.media.sniff import AUDIO_KINDS, IMAGE_KINDS, VIDEO_KINDS, sniff_file


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _picture() -> pyvips.Image:
    """48x32: left half red, right half blue, so a conversion that loses the picture shows."""
    left = (pyvips.Image.black(24, 32, bands=3) + [220, 30, 30]).cast("uchar")
    right = (pyvips.Image.black(24, 32, bands=3) + [30, 30, 220]).cast("uchar")
    return left.join(right, "horizontal").copy(interpretation="srgb")


_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
_SOUND = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=1"]
_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _video(path: Path, *codec: str) -> None:
    _ffmpeg(*_VIDEO, *_SOUND, *codec, "-shortest", str(path))


def _xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["city", "people"], ["Lyon", 522], ["Nantes", 320]):
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Otters", 1)
    document.add_paragraph("Otters hold hands while they sleep.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _pptx() -> bytes:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "Otters"
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=(200, 150))
    page.setFont("Helvetica", 18)
    page.drawString(20, 70, "Otters")
    page.showPage()
    page.save()
    return buf.getvalue()


def _epub() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">otters</dc:identifier>'
            "<dc:title>Otters</dc:title><dc:language>en</dc:language></metadata>"
            '<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        z.writestr(
            "OEBPS/nav.xhtml",
            '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
            '<body><nav epub:type="toc"><ol><li><a href="c1.xhtml">Otters</a></li></ol></nav></body></html>',
        )
        z.writestr(
            "OEBPS/c1.xhtml",
            '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Otters</title></head>'
            "<body><h1>Otters</h1><p>Otters hold hands while they sleep.</p></body></html>",
        )
    return buf.getvalue()


def _soffice(data: bytes, source_ext: str, target: str, work: Path) -> bytes:
    src = work / f"sample.{source_ext}"
    src.write_bytes(data)
    profile = (work / "profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", str(work),
         str(src)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return (work / f"sample.{target.split(':')[0]}").read_bytes()


def _eps() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(_picture().write_to_buffer(".png"))).convert("RGB").save(buf, format="EPS")
    return buf.getvalue()


class Samples:
    """One tiny file per kind, made on first use in `root` and kept for the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[str, bytes]] = {}

    def get(self, kind: str) -> tuple[str, bytes]:
        """(file name, bytes) of a sample whose content is of `kind` (sniff.py names)."""
        if kind not in self._cache:
            self._cache[kind] = self._make(kind)
        return self._cache[kind]

    def _media(self, name: str, make: Callable[[Path], None]) -> tuple[str, bytes]:
        path = self.root / name
        make(path)
        return name, path.read_bytes()

    def _make(self, kind: str) -> tuple[str, bytes]:
        image = _picture()
        images: dict[str, Callable[[], bytes]] = {
            "jpeg": lambda: image.write_to_buffer(".jpg", Q=90),
            "png": lambda: image.write_to_buffer(".png"),
            "webp": lambda: image.write_to_buffer(".webp", Q=90),
            "gif": lambda: image.write_to_buffer(".gif"),
            "tiff": lambda: image.write_to_buffer(".tif"),
            "heif": lambda: image.heifsave_buffer(compression="hevc", Q=90),
            "avif": lambda: image.heifsave_buffer(compression="av1", Q=90),
            "psd": lambda: image.magicksave_buffer(format="psd"),
            "eps": _eps,
            "svg": lambda: (
                b'<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32">'
                b'<rect width="24" height="32" fill="#dc1e1e"/><rect x="24" width="24" height="32" fill="#1e1edc"/>'
                b"</svg>"
            ),
        }
        ext = {"jpeg": "jpg", "heif": "heic", "markdown": "md"}.get(kind, kind)
        if kind in images:
            return f"sample.{ext}", images[kind]()
        media: dict[str, list[str]] = {
            "mp4": [*_X264, "-c:a", "aac"],
            "mov": [*_X264, "-c:a", "aac"],
            "mkv": [*_X264, "-c:a", "aac"],
            "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"],
            "avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"],
        }
        if kind in media:
            return self._media(f"sample.{ext}", lambda p: _video(p, *media[kind]))
        sounds: dict[str, list[str]] = {
            "mp3": ["-c:a", "libmp3lame"],
            "wav": ["-c:a", "pcm_s16le"],
            "ogg": ["-c:a", "libvorbis"],
            "flac": ["-c:a", "flac"],
            "m4a": ["-c:a", "aac", "-f", "ipod"],
            "aac": ["-c:a", "aac", "-f", "adts"],
        }
        if kind in sounds:
            return self._media(f"sample.{ext}", lambda p: _ffmpeg(*_SOUND, *sounds[kind], str(p)))
        texts: dict[str, str] = {
            "csv": "city,people\nLyon,522\nNantes,320\n",
            "json": json.dumps([{"city": "Lyon", "people": 522}, {"city": "Nantes", "people": 320}]),
            "xml": '<?xml version="1.0"?><cities><city><name>Lyon</name><people>522</people></city>'
            "<city><name>Nantes</name><people>320</people></city></cities>",
            "yaml": "cities:\n  - name: Lyon\n    people: 522\n  - name: Nantes\n    people: 320\n",
            "markdown": "# Otters\n\nOtters **hold hands** while they sleep.\n\n- river\n- sea\n",
            "html": "<!DOCTYPE html><html><body><h1>Otters</h1><p>Otters hold hands.</p></body></html>",
            "txt": "Otters hold hands while they sleep.\nThey live by rivers and seas.\n",
        }
        if kind in texts:
            return f"sample.{ext}", texts[kind].encode()
        docs: dict[str, Callable[[], bytes]] = {
            "xlsx": _xlsx,
            "docx": _docx,
            "pptx": _pptx,
            "pdf": _pdf,
            "epub": _epub,
        }
        if kind in docs:
            return f"sample.{ext}", docs[kind]()
        # Legacy and OpenDocument formats: LibreOffice writes them from the modern ones.
        via = {"xls": ("xlsx", "xls"), "ods": ("xlsx", "ods"), "odt": ("docx", "odt"), "rtf": ("docx", "rtf"),
               "odp": ("pptx", "odp")}  # fmt: skip
        if kind in via:
            source, target = via[kind]
            work = self.root / f"soffice-{kind}"
            work.mkdir(exist_ok=True)
            try:
                return f"sample.{ext}", _soffice(self.get(source)[1], source, target, work)
            finally:
                shutil.rmtree(work / "profile", ignore_errors=True)
        raise KeyError(f"no sample for {kind}")


def real_kind(data: bytes, tmp: Path) -> str:
    """What a result really is: sniffed from its bytes, then opened by the engine for that kind."""
    path = tmp / "result.bin"
    path.write_bytes(data)
    kind = sniff_file(path) or "unknown"
    if kind in IMAGE_KINDS and kind != "svg":
        image = pyvips.Image.new_from_buffer(data, "")
        assert image.width > 0 and image.avg() >= 0
    elif kind in VIDEO_KINDS or kind in AUDIO_KINDS:
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)], capture_output=True, check=True
        )
        assert float(json.loads(probe.stdout)["format"]["duration"]) > 0
    elif kind == "pdf":
        import pikepdf

        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) >= 1
    elif kind == "svg":
        assert b"<path" in data or b"<rect" in data
    return kind


def download(client: TestClient, body: dict[str, Any]) -> bytes:
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


def finish(client: TestClient, r: Any) -> dict[str, Any]:
    """The result of a tool answer: 200 at once, or 202 followed on the job's SSE stream to its end."""
    if r.status_code == 200:
        return r.json()
    assert r.status_code == 202, r.text
    with client.stream("GET", f"/api/v1/jobs/{r.json()['jobId']}/progress") as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                frame = json.loads(line[6:])
                if frame["status"] in ("completed", "failed", "canceled"):
                    assert frame["status"] == "completed", frame
                    return frame["result"]
    raise AssertionError("the job's event stream ended without a final frame")
