"""Why a tool failed, in words a user can act on: one place for ffmpeg, libvips, qpdf, LibreOffice and
ONNX Runtime errors.

Each engine's raw message (stderr, exception text) is matched against the causes known for it; the
client reads the input's property that could not be handled ("the JPEG is cut short"). A failure
with no known cause is not guessed at: the client reads "internal error, see log id X" and the raw
text goes to the log under that id, so an operator can find it. Raw engine output never reaches the
client (it holds server paths).
"""

from __future__ import annotations

import errno
import logging
import re
import uuid
from collections.abc import Sequence

log = logging.getLogger("lutra.failures")

Causes = tuple[tuple[re.Pattern[str], str], ...]


def _causes(pairs: Sequence[tuple[str, str]]) -> Causes:
    return tuple((re.compile(p, re.IGNORECASE), m) for p, m in pairs)


def _match(causes: Causes, text: str) -> str | None:
    for pattern, message in causes:
        found = pattern.search(text)
        if found:
            values = [g for g in found.groups() if g]
            try:
                return message.format(*values)
            except IndexError:  # the alternative that matched names no value: say it without one
                return re.sub(r" ?\(?\{\d\}\)?", "", message)
    return None


def internal(engine: str, detail: str) -> str:
    """The message for a failure with no known cause; the detail is logged under a fresh id."""
    log_id = uuid.uuid4().hex[:10]
    log.error("%s failed [log id %s]: %s", engine, log_id, detail[-3000:])
    return f"internal error, see log id {log_id}"


# -- ffmpeg --------------------------------------------------------------------------------------

FFMPEG: Causes = _causes([
    (r"Stream map '[^']*:a[^']*' matches no streams|does not contain any audio", "the input has no audio stream"),
    (r"Stream map '[^']*:v[^']*' matches no streams|does not contain any video", "the input has no video stream"),
    (r"Stream map '[^']*:s[^']*' matches no streams", "the input has no subtitle stream"),
    (r"Output file #?\d* does not contain any stream|matches no streams", "the input has no usable stream"),
    (r"Decoder \(codec ([\w-]+)\) not found|Unsupported codec with id \d+ for input stream|codec ([\w-]+) is not "
     r"supported", "the input's codec ({0}) cannot be decoded here"),
    (r"Could not find tag for codec (\w+)|codec (\w+) not currently supported in container",
     "the {0} codec cannot be stored in the chosen output format"),
    (r"Unknown encoder '([\w-]+)'|Encoder \(codec ([\w-]+)\) not found", "this server's ffmpeg has no {0} encoder"),
    (r"Specified sample rate (\d+) is not supported|sample rate (\d+) .*not supported",
     "the output format does not take the input's sample rate ({0} Hz)"),
    (r"Specified channel layout '([^']+)' is not supported|Unsupported channel layout|Invalid channel layout "
     r"(\S+)|Cannot select channel layout|as channel layout",
     "the input's channel layout could not be carried to the output"),
    (r"too many channels|channel count (\d+) .*not supported|Invalid number of channels",
     "the input has more audio channels than the output format takes"),
    (r"not divisible by 2|width not divisible|height not divisible", "the video size must be even"),
    (r"Picture size (\d+x\d+) is invalid|Invalid (?:image|frame) size|dimensions? too large",
     "the video's frame size is not supported"),
    (r"No space left on device", "the server ran out of disk space"),
    (r"Cannot allocate memory|Out of memory", "ran out of memory"),
    (r"moov atom not found", "the file is cut short: its index (moov atom) is missing"),
    (r"Invalid data found when processing input|Invalid NAL|error while decoding|Header missing|corrupt",
     "the input is damaged or not a supported media file"),
    (r"Protocol '[^']*' not on whitelist|Protocol not found", "the input refers to other files, which is not allowed"),
    (r"Error initializing filter '(\w+)'", "ffmpeg's {0} filter could not be set up for this input"),
])  # fmt: skip


def ffmpeg(stderr: str) -> str:
    """One short line naming why ffmpeg failed."""
    return _match(FFMPEG, stderr) or internal("ffmpeg", stderr)


# -- libvips ---------------------------------------------------------------------------------------

VIPS: Causes = _causes([
    (r"Premature end of (\w+) file|unexpected end of (?:file|data)|truncated|read error at|bad seek|"
     r"TIFFFetchDirectory|Failed to read directory|Premature EOF|no frames in GIF|datastream contains no image",
     "the image is cut short or damaged (its data ends too early)"),
    (r"is not a known (?:file )?format|unsupported image format|not in a known format",
     "the file is not in an image format that can be read"),
    (r"heif: (?:Unsupported|No decoder|Decoder plugin)[^\n]*", "this HEIC/AVIF uses a codec or feature the server's "
     "libheif cannot decode"),
    (r"heif: Invalid input", "the HEIC/AVIF file is damaged or cut short"),
    (r"svgload[^\n]*|librsvg|rsvg", "the SVG could not be drawn (it is not valid SVG)"),
    (r"image too large|width and height must be|exceeds? (?:the )?(?:pixel|size) limit|too many pixels",
     "the image is too large"),
    (r"no known route from '(\w+)' to '(\w+)'", "the image's colour space ({0}) cannot be converted to {1}"),
    (r"\bicc\b|lcms|colour profile|color profile", "the image's embedded colour profile (ICC) could not be applied"),
    (r"compression method is not configured|tiff2vips: unsupported|not supported by tiff",
     "this TIFF uses a layout or compression that cannot be read"),
    (r"corrupt|unable to parse image|bad (?:huffman|marker|data)|crc error|damaged|not a (?:jpeg|png|gif|webp)",
     "the image is damaged"),
    (r"out of memory|memory allocation|unable to allocate", "ran out of memory"),
    (r"No space left on device", "the server ran out of disk space"),
])  # fmt: skip
_LOADER = re.compile(r"VipsForeignLoad(\w+?)(?:Buffer|File|Source)\b")
_LOADER_NAMES = {"Jpeg": "JPEG", "Png": "PNG", "Webp": "WebP", "Nsgif": "GIF", "Gif": "GIF", "Heif": "HEIC/AVIF",
                 "Tiff": "TIFF", "Svg": "SVG", "Pdf": "PDF", "Jxl": "JPEG XL", "Magick": "image"}  # fmt: skip


def vips(text: str) -> str | None:
    """The reason for a libvips error, if its cause is known (a loader failing without one says which)."""
    reason = _match(VIPS, text)
    if reason is None and (loader := _LOADER.search(text)):
        name = _LOADER_NAMES.get(loader.group(1), loader.group(1).upper())
        reason = f"the {name} file could not be read (it is damaged or cut short)"
    return reason


# -- qpdf (pikepdf) ----------------------------------------------------------------------------------

QPDF: Causes = _causes([
    (r"invalid password|password", "the PDF is password-protected"),
    (r"unsupported encryption|unknown encryption", "the PDF's encryption method is not supported"),
    (r"unable to find trailer|xref not found|can't find startxref|file is damaged|reconstructing",
     "the PDF is damaged (its cross-reference table is broken); try repair-pdf"),
    (r"object stream|expected n n obj|unexpected (?:eof|token)|parse error", "the PDF is damaged; try repair-pdf"),
    (r"No space left on device", "the server ran out of disk space"),
])  # fmt: skip


def qpdf(text: str) -> str | None:
    return _match(QPDF, text)


# -- LibreOffice -----------------------------------------------------------------------------------

SOFFICE: Causes = _causes([
    (r"source file could not be loaded", "LibreOffice could not open the document (damaged, password-protected "
     "or not the format its name says)"),
    (r"password", "the document is password-protected"),
    (r"no export filter", "LibreOffice cannot write this document to the asked format"),
    (r"No space left on device", "the server ran out of disk space"),
])  # fmt: skip


def soffice(output: str) -> str | None:
    return _match(SOFFICE, output)


# -- ONNX Runtime ----------------------------------------------------------------------------------

ONNX: Causes = _causes([
    (r"(?:CUDA|cuda).*out of memory|Failed to allocate memory|bad_alloc|std::bad_alloc",
     "the AI model ran out of memory on this input; try a smaller image or a lower quality setting"),
    (r"INVALID_ARGUMENT.*(?:dimension|shape)|Got invalid dimensions", "the AI model cannot take this input's size"),
    (r"NO_SUCHFILE|INVALID_PROTOBUF|Load model .* failed", "the AI model file is missing or damaged; reinstall the "
     "feature"),
])  # fmt: skip


def onnx(text: str) -> str | None:
    return _match(ONNX, text)


# -- any exception ---------------------------------------------------------------------------------


def explain(exc: BaseException) -> str:
    """The message for an exception a tool let through (no ToolFailure of its own)."""
    text = str(exc)
    module = type(exc).__module__
    if isinstance(exc, MemoryError):
        return "ran out of memory"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the server ran out of disk space"
    if module.startswith("pyvips"):
        return vips(text) or internal("libvips", text)
    if module.startswith("pikepdf"):
        return qpdf(text) or internal("qpdf", text)
    if module.startswith("onnxruntime"):
        return onnx(text) or internal("onnxruntime", text)
    log_id = uuid.uuid4().hex[:10]
    log.error("tool crashed [log id %s]", log_id, exc_info=exc)
    return f"internal error, see log id {log_id}"
