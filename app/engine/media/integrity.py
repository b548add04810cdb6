"""Truncation checks from a file's structure: chunk and marker walks, never a pixel decode.

libvips reads lazily, so a tool that needs only part of an image (a crop, the header for `info`)
would happily answer for a file cut short. Walking the container instead costs a few seeks (PNG,
ISO-BMFF, WebP) or one byte scan of the compressed data (JPEG), and anything after the end marker
(a motion photo's video, say) is left alone.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
# A marker after a scan: 0xFF followed by anything but 0x00 (stuffed byte), 0xD0-D7 (restart
# markers) or 0xFF (fill), which all belong to the scan itself.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _png_complete(f: BinaryIO) -> bool:
    f.seek(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            return False
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return True
        f.seek(length + 4, 1)  # data and CRC


def _jpeg_scan_end(f: BinaryIO) -> bool:
    """Moves past entropy-coded data to the next marker's 0xFF; False at end of file."""
    carry = b""
    while True:
        pos = f.tell() - len(carry)
        block = carry + f.read(_CHUNK)
        if len(block) < 2:
            return False
        # One C-speed search instead of a Python loop over every 0xFF in the entropy-coded data.
        found = _JPEG_MARKER.search(block)
        if found is not None:
            f.seek(pos + found.start())
            return True
        if len(block) == len(carry):  # nothing new was read
            return False
        carry = block[-1:]


def _ends_with_eoi(f: BinaryIO, size: int) -> bool:
    """The common case, decided from the last two bytes: a file that still ends with its end-of-image
    marker was not cut short (inside a scan 0xFF is always followed by 0x00 or a restart marker, so
    FF D9 there can only be the marker). Files with data after the marker take the full walk."""
    if size < 4:
        return False
    f.seek(size - 2)
    return f.read(2) == b"\xff\xd9"


def _jpeg_complete(f: BinaryIO) -> bool:
    f.seek(2)
    while True:
        byte = f.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            marker = f.read(1)
            if marker != b"\xff":
                break
        else:
            return False  # no marker where one must be: cut short (or not a JPEG at all)
        if not marker:
            return False
        m = marker[0]
        if m == 0xD9:
            return True
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            continue
        size = f.read(2)
        if len(size) < 2:
            return False
        f.seek(struct.unpack(">H", size)[0] - 2, 1)
        if m == 0xDA and not _jpeg_scan_end(f):
            return False


def _isobmff_complete(f: BinaryIO, size: int) -> bool:
    """HEIF/AVIF: every top-level box must lie wholly inside the file (bytes that don't even look
    like a box header, after a `meta` box, are trailing data, not a cut)."""
    pos = 0
    seen_meta = False
    while pos < size:
        f.seek(pos)
        head = f.read(16)
        if len(head) >= 8 and not all(0x20 <= c < 0x7F for c in head[4:8]):
            return seen_meta
        if len(head) < 8:
            return False
        seen_meta = seen_meta or head[4:8] == b"meta"
        box = struct.unpack(">I", head[:4])[0]
        if box == 1:
            if len(head) < 16:
                return False
            box = struct.unpack(">Q", head[8:16])[0]
        elif box == 0:
            return True  # the box runs to the end of the file
        if box < 8 or pos + box > size:
            return False
        pos += box
    return True


def is_truncated(path: Path, kind: str) -> bool:
    """True when the file's own structure says it ends early (formats not walked here: False)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        if kind == "png":
            return not _png_complete(f)
        if kind == "jpeg":
            return not (_ends_with_eoi(f, size) or _jpeg_complete(f))
        if kind == "webp":
            head = f.read(8)
            return len(head) < 8 or 8 + struct.unpack("<I", head[4:8])[0] > size
        if kind in ("heif", "avif"):
            return not _isobmff_complete(f, size)
    return False
