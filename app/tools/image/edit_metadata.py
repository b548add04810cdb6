"""Edit Metadata: title, description, author, copyright, keywords, GPS and date, written as EXIF,
XMP and (JPEG/TIFF) IPTC so every viewer finds them.

A field left out keeps what the file has; an empty string (or an empty keyword list, or gps null
with clearGps) removes it. JPEGs are edited without re-encoding: only their metadata segments
change, the compressed pixels are copied bit for bit.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyvips
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.engine.media import image_meta, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, ToolSettings, action, tool

_TEXT = 2000
_QUALITY = 92  # formats we must re-encode (WebP, AVIF, HEIC) lose as little as possible
# Formats whose savers carry EXIF and XMP; others (GIF, BMP, SVG, ...) are written as PNG, which does.
_KEEP = {"jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "heif": "heic", "tiff": "tiff"}
_IPTC_FORMATS = ("jpeg", "tiff")  # libvips writes IPTC blocks only there


class Gps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(..., ge=-90, le=90, description="Latitude in decimal degrees (south negative)")
    lon: float = Field(..., ge=-180, le=180, description="Longitude in decimal degrees (west negative)")


class EditMetadataSettings(ToolSettings):
    title: str | None = Field(None, max_length=_TEXT, description="Title ('' removes it)")
    description: str | None = Field(None, max_length=_TEXT, description="Description / caption ('' removes it)")
    author: str | None = Field(None, max_length=_TEXT, description="Author / artist ('' removes it)")
    copyright: str | None = Field(None, max_length=_TEXT, description="Copyright notice ('' removes it)")
    keywords: list[str] | None = Field(
        None, max_length=200, description="Keywords (a list, or one comma-separated string; [] removes them)"
    )
    gps: Gps | None = Field(None, description="GPS position {lat, lon} in decimal degrees")
    clearGps: bool = Field(False, description="Remove the GPS position (ignored when gps is given)")
    dateTime: datetime | None = Field(
        None, description="Date and time taken, ISO 8601 (2024-05-06T07:08:09) or EXIF style (2024:05:06 07:08:09)"
    )

    @field_validator("keywords", mode="before")
    @classmethod
    def _split_keywords(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [k.strip() for k in value if k.strip()]
        if any(len(k) > 200 for k in cleaned):
            raise ValueError("each keyword must be at most 200 characters")
        return cleaned

    @field_validator("dateTime", mode="before")
    @classmethod
    def _exif_style_date(cls, value: Any) -> Any:
        # EXIF writes "2024:05:06 07:08:09"; accept it as well as ISO 8601.
        if isinstance(value, str) and len(value) >= 19 and value[4] == ":" and value[7] == ":":
            return value[:10].replace(":", "-") + "T" + value[11:]
        return value


def _dms(value: float) -> str:
    """Decimal degrees -> EXIF rational triple "d/1 m/1 s*10000/10000"."""
    value = abs(value)
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = Fraction(round((minutes_f - minutes) * 60 * 10000), 10000)
    return f"{degrees}/1 {minutes}/1 {seconds.numerator}/{seconds.denominator}"


def _xmp_gps(value: float, positive: str, negative: str) -> str:
    """XMP's GPSCoordinate form: "DDD,MM.mmmmmmR"."""
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees},{minutes:.6f}{positive if value >= 0 else negative}"


def exif_edits(s: EditMetadataSettings) -> dict[str, str | None]:
    edits: dict[str, str | None] = {}

    def put(name: str, value: str | None) -> None:
        if value is not None:
            edits[name] = value or None

    put("exif-ifd0-XPTitle", s.title)
    put("exif-ifd0-ImageDescription", s.description)
    put("exif-ifd0-Artist", s.author)
    put("exif-ifd0-XPAuthor", s.author)
    put("exif-ifd0-Copyright", s.copyright)
    if s.keywords is not None:
        edits["exif-ifd0-XPKeywords"] = ";".join(s.keywords) or None
    if s.dateTime is not None:
        stamp = s.dateTime.strftime("%Y:%m:%d %H:%M:%S")
        for name in ("exif-ifd0-DateTime", "exif-ifd2-DateTimeOriginal", "exif-ifd2-DateTimeDigitized"):
            edits[name] = stamp
    if s.gps is not None:
        edits.update(
            {
                "exif-ifd3-GPSVersionID": "2 3 0 0",
                "exif-ifd3-GPSLatitudeRef": "N" if s.gps.lat >= 0 else "S",
                "exif-ifd3-GPSLatitude": _dms(s.gps.lat),
                "exif-ifd3-GPSLongitudeRef": "E" if s.gps.lon >= 0 else "W",
                "exif-ifd3-GPSLongitude": _dms(s.gps.lon),
            }
        )
    elif s.clearGps:
        for tag in ("VersionID", "LatitudeRef", "Latitude", "LongitudeRef", "Longitude", "AltitudeRef", "Altitude"):
            edits[f"exif-ifd3-GPS{tag}"] = None
    return edits


def xmp_props(existing: dict[str, Any], s: EditMetadataSettings) -> dict[str, Any]:
    props = dict(existing)

    def put(keys: tuple[str, ...], value: Any) -> None:
        if value is None:
            return
        for key in keys:
            if value in ("", []):
                props.pop(key, None)
            else:
                props[key] = value

    put(("dc:title",), s.title)
    put(("dc:description",), s.description)
    put(("dc:creator",), [s.author] if s.author else s.author)
    put(("dc:rights",), s.copyright)
    put(("dc:subject",), s.keywords)
    if s.dateTime is not None:
        stamp = s.dateTime.isoformat()
        put(("xmp:CreateDate", "photoshop:DateCreated", "exif:DateTimeOriginal"), stamp)
    if s.gps is not None:
        props["exif:GPSLatitude"] = _xmp_gps(s.gps.lat, "N", "S")
        props["exif:GPSLongitude"] = _xmp_gps(s.gps.lon, "E", "W")
    elif s.clearGps:
        props.pop("exif:GPSLatitude", None)
        props.pop("exif:GPSLongitude", None)
    return props


def iptc_records(existing: list[tuple[int, int, bytes]], s: EditMetadataSettings) -> list[tuple[int, int, bytes]]:
    changes: dict[int, list[str] | None] = {}

    def put(dataset: int, value: str | list[str] | None) -> None:
        if value is None:
            return
        values = value if isinstance(value, list) else [value]
        changes[dataset] = [v for v in values if v] or None

    put(5, s.title)
    put(120, s.description)
    put(80, s.author)
    put(116, s.copyright)
    put(25, s.keywords)
    if s.dateTime is not None:
        put(55, s.dateTime.strftime("%Y%m%d"))
        put(60, s.dateTime.strftime("%H%M%S"))
    records = [(r, d, v) for r, d, v in existing if not (r == 2 and d in changes) and not (r == 1 and d == 90)]
    if not any(r == 2 and d == 0 for r, d, _ in records):
        records.insert(0, (2, 0, b"\x00\x04"))
    for dataset, values in changes.items():
        for value in values or []:
            records.append((2, dataset, value.encode("utf-8")))
    return records


@tool(
    id="edit-metadata",
    section="image",
    title="Edit Metadata",
    description="Set or remove title, description, author, copyright, keywords, GPS position and date "
    "(EXIF, XMP and IPTC). JPEGs are edited without re-encoding.",
    settings=EditMetadataSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
)
def run(ctx: ToolContext, settings: EditMetadataSettings) -> ToolResult:
    source = ctx.input
    ctx.progress(5, "Writing metadata")
    fmt = vips.FORMATS[_KEEP.get(source.kind, "png")]
    exif = exif_edits(settings)
    with vips.vips_errors():
        head = pyvips.Image.new_from_file(str(source.path))
        xmp_old = image_meta.parse_xmp(head.get("xmp-data")) if head.get_typeof("xmp-data") else {}
        iptc_old = image_meta.iim_records(head.get("iptc-data")) if head.get_typeof("iptc-data") else []
        xmp = image_meta.build_xmp(xmp_props(xmp_old, settings))
        iptc = image_meta.build_iptc(iptc_records(iptc_old, settings)) if fmt.name in _IPTC_FORMATS else None
        out = vips.output_path(ctx, fmt.ext, "metadata")
        reencoded = True
        if source.kind == "jpeg":
            try:
                blob = image_meta.exif_carrier_blob(head, exif)
                data = image_meta.replace_jpeg_metadata(Path(source.path).read_bytes(), blob or None, xmp, iptc)
                out.write_bytes(data)
                reencoded = False
            except image_meta.JpegStructureError:
                pass
        if reencoded:
            # Keep the stored orientation (and pixels as they are): only metadata changes.
            image = pyvips.Image.new_from_file(str(source.path), fail_on="truncated").copy()
            image_meta.apply_exif_fields(image, exif)
            if fmt.name in ("png", "jpeg"):
                # The PNG saver writes an EXIF blob as it is: build it from the edited fields.
                blob = image_meta.exif_carrier_blob(image, {})
                image = image.copy()
                image.set_type(pyvips.GValue.blob_type, "exif-data", blob)
            image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp)
            if iptc is not None:
                image.set_type(pyvips.GValue.blob_type, "iptc-data", iptc)
            vips.save(image, out, fmt, _QUALITY if fmt.lossy else None)
        written = pyvips.Image.new_from_file(str(out))
        data_out = image_meta.read_all(written)
    ctx.progress(100, "Done")
    return ToolResult([out], {"reencoded": reencoded, "format": fmt.name, "metadata": data_out})


@action("edit-metadata", "inspect", summary="Read an image's EXIF, IPTC and XMP metadata", settings=NoSettings)
def inspect(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    with vips.vips_errors():
        image = pyvips.Image.new_from_file(str(ctx.input.path))
        data = image_meta.read_all(image)
    exif, xmp, iptc = data["exif"], data["xmp"], data["iptc"]

    def first(*values: Any) -> Any:
        for value in values:
            if value:
                return value[0] if isinstance(value, list) else value
        return None

    # The same fields the tool writes, read back from whichever block has them.
    data["fields"] = {
        "title": first(xmp.get("dc:title"), iptc.get("ObjectName"), exif.get("IFD0.XPTitle")),
        "description": first(
            xmp.get("dc:description"), iptc.get("Caption-Abstract"), exif.get("IFD0.ImageDescription")
        ),
        "author": first(xmp.get("dc:creator"), iptc.get("By-line"), exif.get("IFD0.Artist")),
        "copyright": first(xmp.get("dc:rights"), iptc.get("CopyrightNotice"), exif.get("IFD0.Copyright")),
        "keywords": xmp.get("dc:subject") or iptc.get("Keywords") or _split(exif.get("IFD0.XPKeywords")),
        "gps": data["gps"],
        "dateTime": first(exif.get("EXIF.DateTimeOriginal"), exif.get("IFD0.DateTime"), xmp.get("xmp:CreateDate")),
    }
    return ToolResult([], data)


def _split(value: str | None) -> list[str]:
    return [k.strip() for k in value.split(";") if k.strip()] if value else []
