"""Image metadata for the metadata tools: read EXIF, XMP, IPTC, ICC and comments into plain JSON,
build XMP packets and IPTC blocks, regenerate EXIF blobs with libvips, and swap metadata segments
in a JPEG without re-encoding its pixels.

All of this parses untrusted bytes: every reader is bounded and gives up quietly on damage.
"""

from __future__ import annotations

import re
import struct
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pyvips

# libvips renders an EXIF entry as "<raw> (<readable>, <Type>, <n> components, <n> bytes)".
_EXIF_VALUE = re.compile(r"^(?P<raw>.*?) \((?P<text>.*), (?P<type>[A-Za-z]+), \d+ components?, \d+ bytes\)$", re.S)
_EXIF_SKIP = {"MakerNote", "PrintImageMatching"}  # vendor blobs, not readable text
_IFD_NAMES = {"0": "IFD0", "1": "IFD1", "2": "EXIF", "3": "GPS", "4": "Interop"}
_MAX_VALUE = 512

NAMESPACES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/lightroom/1.0/": "lr",
}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# IPTC IIM record 2 datasets worth naming (IPTC IIM 4.2).
IPTC_NAMES = {
    0: "RecordVersion",
    5: "ObjectName",
    15: "Category",
    20: "SupplementalCategories",
    25: "Keywords",
    40: "SpecialInstructions",
    55: "DateCreated",
    60: "TimeCreated",
    80: "By-line",
    85: "By-lineTitle",
    90: "City",
    95: "Province-State",
    101: "Country",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "CopyrightNotice",
    120: "Caption-Abstract",
    122: "Writer-Editor",
}
IPTC_REPEATABLE = {20, 25}
_PHOTOSHOP = b"Photoshop 3.0\x00"
_XMP_JPEG_NS = b"http://ns.adobe.com/xap/1.0/\x00"


def _has(image: pyvips.Image, name: str) -> bool:
    return bool(image.get_typeof(name))


# --- reading -------------------------------------------------------------------------------------


def exif_fields(image: pyvips.Image) -> dict[str, str]:
    """Readable EXIF values keyed "IFD0.Artist", "EXIF.DateTimeOriginal", "GPS.GPSLatitude", ..."""
    tags: dict[str, str] = {}
    for name in image.get_fields():
        parts = name.split("-", 2)
        if len(parts) != 3 or parts[0] != "exif" or not parts[1].startswith("ifd"):
            continue
        tag = parts[2]
        if tag in _EXIF_SKIP:
            continue
        value = image.get(name)
        if not isinstance(value, str):
            continue
        match = _EXIF_VALUE.match(value)
        if match:
            # ASCII and XP (Byte) tags: the raw string is the value; libexif's "readable" form of
            # e.g. Copyright adds "(Photographer) - [None] (Editor)".
            text = match.group("raw") if match.group("type") in ("ASCII", "Byte") else match.group("text")
        else:
            text = value
        text = text.strip()
        if text and len(text) <= _MAX_VALUE and text.isprintable():
            tags[f"{_IFD_NAMES.get(parts[1][3:], parts[1])}.{tag}"] = text
    return tags


def _rational_degrees(raw: str) -> float | None:
    try:
        parts = [float(n) / float(d) for n, d in (p.split("/") for p in raw.split()[:3])]
    except (ValueError, ZeroDivisionError):
        return None
    while len(parts) < 3:
        parts.append(0.0)
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def exif_gps(image: pyvips.Image) -> dict[str, float] | None:
    """{"lat", "lon"} in signed decimal degrees from the EXIF GPS IFD, or None."""
    values: dict[str, float] = {}
    for axis, key, negative in (("Latitude", "lat", "S"), ("Longitude", "lon", "W")):
        field = f"exif-ifd3-GPS{axis}"
        if not _has(image, field):
            return None
        raw = str(image.get(field)).split(" (", 1)[0]
        degrees = _rational_degrees(raw)
        if degrees is None:
            return None
        ref_field = f"exif-ifd3-GPS{axis}Ref"
        ref = str(image.get(ref_field)).split(" ", 1)[0] if _has(image, ref_field) else ""
        values[key] = round(-degrees if ref.upper().startswith(negative) else degrees, 7)
    return values


def parse_xmp(blob: bytes) -> dict[str, Any]:
    """Simple and list-valued XMP properties keyed "dc:title", "xmp:CreateDate", ..."""
    if not blob or len(blob) > 4_000_000 or b"<!DOCTYPE" in blob or b"<!ENTITY" in blob:
        return {}  # no DTDs: XMP never needs one, and entities are how XML bombs work
    start = blob.find(b"<x:xmpmeta")
    if start < 0:
        start = blob.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if blob[start : start + 10] == b"<x:xmpmeta" else b"</rdf:RDF>"
    end = blob.find(end_tag, start)
    if start < 0 or end < 0:
        return {}
    try:
        root = ElementTree.fromstring(blob[start : end + len(end_tag)])
    except ElementTree.ParseError:
        return {}
    props: dict[str, Any] = {}
    for desc in root.iter(f"{{{_RDF}}}Description"):
        for attr, value in desc.attrib.items():
            key = _qname(attr)
            if key:
                props[key] = value
        for child in desc:
            key = _qname(child.tag)
            if not key:
                continue
            items = [li.text or "" for li in child.iter(f"{{{_RDF}}}li")]
            if items:
                container = next(iter(child), None)
                alt = container is not None and container.tag == f"{{{_RDF}}}Alt"
                props[key] = items[0] if alt else items
            elif child.text and child.text.strip():
                props[key] = child.text.strip()
    return props


def _qname(tag: str) -> str | None:
    if not tag.startswith("{"):
        return None
    uri, _, local = tag[1:].partition("}")
    prefix = NAMESPACES.get(uri)
    return f"{prefix}:{local}" if prefix else None


def iim_records(blob: bytes) -> list[tuple[int, int, bytes]]:
    """(record, dataset, value) triples from an IPTC block: raw IIM, or inside Photoshop 8BIM 0x0404."""
    data = blob
    if blob.startswith(_PHOTOSHOP):
        data = _photoshop_resource(blob[len(_PHOTOSHOP) :], 0x0404) or b""
    records: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C and len(records) < 10_000:
        record, dataset, length = data[pos + 1], data[pos + 2], struct.unpack(">H", data[pos + 3 : pos + 5])[0]
        pos += 5
        if length & 0x8000:  # extended length: skip the rest, it's never text we show
            break
        records.append((record, dataset, data[pos : pos + length]))
        pos += length
    return records


def _photoshop_resource(data: bytes, wanted: int) -> bytes | None:
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == b"8BIM":
        resource = struct.unpack(">H", data[pos + 4 : pos + 6])[0]
        name_len = data[pos + 6]
        pos += 6 + ((name_len + 2) & ~1)  # Pascal name, padded to an even length
        if pos + 4 > len(data):
            return None
        size = struct.unpack(">I", data[pos : pos + 4])[0]
        pos += 4
        if resource == wanted:
            return data[pos : pos + size]
        pos += size + (size & 1)
    return None


def parse_iptc(blob: bytes) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for record, dataset, raw in iim_records(blob):
        if record != 2 or dataset == 0:
            continue
        name = IPTC_NAMES.get(dataset, f"2:{dataset}")
        text = raw.decode("utf-8", "replace").strip("\x00 ")
        if dataset in IPTC_REPEATABLE:
            values.setdefault(name, []).append(text)
        else:
            values[name] = text
    return values


def icc_description(profile: bytes) -> str | None:
    """The profile's 'desc' text (ICC v2 'desc' or v4 'mluc'), or None."""
    if len(profile) < 132:
        return None
    count = struct.unpack(">I", profile[128:132])[0]
    for i in range(min(count, 100)):
        entry = profile[132 + 12 * i : 144 + 12 * i]
        if len(entry) < 12:
            return None
        sig, offset, size = entry[:4], *struct.unpack(">II", entry[4:12])
        if sig != b"desc":
            continue
        tag = profile[offset : offset + size]
        if tag[:4] == b"desc" and len(tag) >= 12:
            length = struct.unpack(">I", tag[8:12])[0]
            return tag[12 : 12 + length].split(b"\x00", 1)[0].decode("latin-1").strip() or None
        if tag[:4] == b"mluc" and len(tag) >= 28:
            rec_len, rec_off = struct.unpack(">II", tag[20:28])
            return tag[rec_off : rec_off + rec_len].decode("utf-16-be", "replace").strip() or None
    return None


def read_all(image: pyvips.Image) -> dict[str, Any]:
    """Everything the metadata tools show: EXIF, GPS, XMP, IPTC, ICC, PNG comments, and a summary."""
    exif = exif_fields(image)
    xmp = parse_xmp(image.get("xmp-data")) if _has(image, "xmp-data") else {}
    iptc = parse_iptc(image.get("iptc-data")) if _has(image, "iptc-data") else {}
    icc: dict[str, Any] | None = None
    if _has(image, "icc-profile-data"):
        profile = image.get("icc-profile-data")
        icc = {"description": icc_description(profile), "size": len(profile)}
    comments = [
        str(image.get(name))
        for name in image.get_fields()
        if name.startswith("png-comment-") or name in ("gif-comment", "jpeg-comment")
    ]
    present = [
        kind
        for kind, found in (
            ("exif", _has(image, "exif-data") or bool(exif)),
            ("xmp", _has(image, "xmp-data")),
            ("iptc", _has(image, "iptc-data")),
            ("icc", icc is not None),
            ("comments", bool(comments)),
        )
        if found
    ]
    return {
        "present": present,
        "hasMetadata": bool(set(present) - {"icc"}),
        "exif": exif,
        "gps": exif_gps(image),
        "xmp": xmp,
        "iptc": iptc,
        "icc": icc,
        "comments": comments,
        "fieldCount": len(exif) + len(xmp) + len(iptc) + len(comments),
    }


# --- writing -------------------------------------------------------------------------------------


def exif_carrier_blob(image: pyvips.Image, edits: dict[str, str | None]) -> bytes:
    """An EXIF blob holding `image`'s EXIF with `edits` applied (value None removes the tag).

    libvips builds EXIF from an image's exif-* fields only when it saves JPEG/WebP/HEIF; for other
    savers (PNG) and for the lossless JPEG path we need the blob itself, so we let libvips build it
    on a black image of the same size (cheap to encode; the size feeds PixelX/YDimension).
    """
    carrier = pyvips.Image.black(image.width, image.height).copy(xres=image.xres, yres=image.yres)
    for name in image.get_fields():
        if name.startswith("exif-") or name == "orientation":
            carrier.set_type(image.get_typeof(name), name, image.get(name))
    apply_exif_fields(carrier, edits)
    encoded = pyvips.Image.new_from_buffer(carrier.write_to_buffer(".jpg", Q=1), "")
    return encoded.get("exif-data") if _has(encoded, "exif-data") else b""


def apply_exif_fields(image: pyvips.Image, edits: dict[str, str | None]) -> None:
    """Sets (or, for None, removes) exif-ifdN-Tag string fields on an image in place (a copy())."""
    for name, value in edits.items():
        if value is None:
            if _has(image, name):
                image.remove(name)
        else:
            image.set_type(pyvips.GValue.gstr_type, name, value)


def build_xmp(props: dict[str, Any]) -> bytes:
    """An XMP packet from {"dc:title": "x", "dc:subject": ["a", "b"], ...}; lists become Bag/Seq."""
    alt = {"dc:title", "dc:description", "dc:rights"}
    seq = {"dc:creator"}
    used = {key.split(":", 1)[0] for key in props}
    xmlns = " ".join(f'xmlns:{p}="{u}"' for u, p in NAMESPACES.items() if p in used)
    body: list[str] = []
    for key, value in props.items():
        if value is None or value == "" or value == []:
            continue
        if key in alt:
            text = value[0] if isinstance(value, list) else value
            body.append(f'<{key}><rdf:Alt><rdf:li xml:lang="x-default">{escape(str(text))}</rdf:li></rdf:Alt></{key}>')
        elif isinstance(value, list) or key in seq:
            items = value if isinstance(value, list) else [value]
            kind = "Seq" if key in seq else "Bag"
            lis = "".join(f"<rdf:li>{escape(str(v))}</rdf:li>" for v in items)
            body.append(f"<{key}><rdf:{kind}>{lis}</rdf:{kind}></{key}>")
        else:
            body.append(f"<{key}>{escape(str(value))}</{key}>")
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" {xmlns}>{"".join(body)}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def build_iptc(records: list[tuple[int, int, bytes]]) -> bytes:
    """A Photoshop APP13 block (8BIM 0x0404) holding these IIM records, declared UTF-8."""
    iim = bytearray()
    have_charset = any(r == 1 and d == 90 for r, d, _ in records)
    head = [] if have_charset else [(1, 90, b"\x1b%G")]  # ESC % G: the text is UTF-8
    for record, dataset, value in head + records:
        value = value[:32767]
        iim += bytes([0x1C, record, dataset]) + struct.pack(">H", len(value)) + value
    size = len(iim)
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", size) + bytes(iim)
    if size & 1:
        resource += b"\x00"
    return _PHOTOSHOP + resource


# --- JPEG without re-encoding --------------------------------------------------------------------


class JpegStructureError(ValueError):
    pass


def _check_complete(data: bytes) -> None:
    # A truncated upload must not pass through untouched: without its end marker, let the decoder judge it.
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise JpegStructureError("no end-of-image marker")


def replace_jpeg_metadata(data: bytes, exif: bytes | None, xmp: bytes | None, iptc: bytes | None) -> bytes:
    """Returns the JPEG with its EXIF, XMP and IPTC segments replaced by these (None: drop it),
    the compressed pixels untouched. Raises JpegStructureError when the file isn't a plain JPEG."""
    if not data.startswith(b"\xff\xd8"):
        raise JpegStructureError("not a JPEG")
    pos = 2
    keep_front: list[bytes] = []  # JFIF/Adobe APP segments that belong right after SOI
    rest: list[bytes] = []
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise JpegStructureError("damaged marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            _check_complete(data)
            rest.append(data[pos:])
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segment = data[pos : pos + 2 + length]
        if len(segment) < 2 + length or length < 2:
            raise JpegStructureError("truncated segment")
        payload = segment[4:]
        is_exif = marker == 0xE1 and payload.startswith(b"Exif\x00\x00")
        is_xmp = marker == 0xE1 and payload.startswith(_XMP_JPEG_NS)
        is_iptc = marker == 0xED and payload.startswith(_PHOTOSHOP)
        if not (is_exif or is_xmp or is_iptc):
            (keep_front if marker == 0xE0 and not rest else rest).append(segment)
        pos += 2 + length
    new: list[bytes] = []
    for marker, payload in (
        (0xE1, exif),
        (0xE1, _XMP_JPEG_NS + xmp if xmp else None),
        (0xED, iptc),
    ):
        if not payload:
            continue
        if len(payload) > 65533:
            raise JpegStructureError("metadata too large for one JPEG segment")
        new.append(bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload)
    return b"\xff\xd8" + b"".join(keep_front) + b"".join(new) + b"".join(rest)


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without APP1-APP13/APP15 (EXIF, XMP, ICC, IPTC, vendor data) and comments, pixels untouched.

    APP0 (JFIF) and APP14 (Adobe, which says how to read the colour channels) stay.
    """
    if not data.startswith(b"\xff\xd8"):
        raise JpegStructureError("not a JPEG")
    pos, kept = 2, [b"\xff\xd8"]
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise JpegStructureError("damaged marker")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            _check_complete(data)
            kept.append(data[pos:])
            return b"".join(kept)
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            raise JpegStructureError("truncated segment")
        if not (0xE1 <= marker <= 0xED or marker == 0xEF or marker == 0xFE):
            kept.append(data[pos : pos + 2 + length])
        pos += 2 + length


def strip_webp(data: bytes) -> bytes:
    """The WebP without its EXIF, XMP and ICCP chunks (and their VP8X flags).

    libvips 8.14's WebP saver writes a small EXIF block even when told to strip; this finishes the job.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    chunks: list[bytearray] = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        end = pos + 8 + size + (size & 1)
        if end > len(data) + 1:
            return data  # damaged: leave it to the decoder
        if fourcc not in (b"EXIF", b"XMP ", b"ICCP"):
            chunks.append(bytearray(data[pos:end]))
        pos = end
    for chunk in chunks:
        if chunk[:4] == b"VP8X" and len(chunk) > 8:
            chunk[8] &= ~(0x20 | 0x08 | 0x04) & 0xFF  # ICC, EXIF, XMP present flags
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
