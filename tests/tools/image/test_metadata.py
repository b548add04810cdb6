"""strip-metadata and edit-metadata (and their /inspect routes) through the HTTP API, checked by
reading the written files back with libvips."""

from __future__ import annotations

import json

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, fetch_image, marked, noise, post, run_tool, solid

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    b'xmp:CreatorTool="Camera 1.0"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Old title</rdf:li>'
    b'</rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def tagged(image: pyvips.Image | None = None, suffix: str = ".jpg", **options: object) -> bytes:
    """An image with EXIF (camera, GPS, artist), XMP and a comment, as a photo from a phone has."""
    image = (image or noise(64, 48)).copy()
    for name, value in {
        "exif-ifd0-Make": "Lutra Cam",
        "exif-ifd0-Artist": "Somebody",
        "exif-ifd3-GPSLatitudeRef": "N",
        "exif-ifd3-GPSLatitude": "48/1 51/1 2964/100",
        "exif-ifd3-GPSLongitudeRef": "E",
        "exif-ifd3-GPSLongitude": "2/1 17/1 4020/100",
    }.items():
        image.set_type(pyvips.GValue.gstr_type, name, value)
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    if suffix == ".png":
        image.set_type(pyvips.GValue.gstr_type, "png-comment-0-Comment", "hello")
    data = image.write_to_buffer(suffix, **options)
    if suffix == ".png":
        # libvips' PNG saver needs the EXIF blob itself: take it from a JPEG encode.
        exif = pyvips.Image.new_from_buffer(image.write_to_buffer(".jpg"), "").get("exif-data")
        image = image.copy()  # never change metadata on an image libvips has already used
        image.set_type(pyvips.GValue.blob_type, "exif-data", exif)
        data = image.write_to_buffer(suffix, **options)
    return data


def exif_names(image: pyvips.Image) -> set[str]:
    return {f for f in image.get_fields() if f.startswith("exif-")}


def inspect(client: TestClient, tool: str, data: bytes, name: str = "a.jpg") -> dict:
    r = client.post(f"/api/v1/tools/image/{tool}/inspect", files={"file": (name, data)})
    assert r.status_code == 200, r.text
    return r.json()


# --- strip-metadata ------------------------------------------------------------------------------


def test_strip_metadata_inspect_lists_what_is_there(admin: TestClient) -> None:
    found = inspect(admin, "strip-metadata", tagged())
    assert {"exif", "xmp"} <= set(found["present"]) and found["hasMetadata"] is True
    assert found["exif"]["IFD0.Make"] == "Lutra Cam"
    assert found["gps"] == {"lat": pytest.approx(48.8582333, abs=1e-5), "lon": pytest.approx(2.2945, abs=1e-5)}
    assert found["xmp"]["dc:title"] == "Old title" and found["xmp"]["xmp:CreatorTool"] == "Camera 1.0"
    clean = inspect(admin, "strip-metadata", encode(solid(8, 8), ".png"), "c.png")
    assert clean["present"] == [] and clean["hasMetadata"] is False and clean["gps"] is None


def test_strip_metadata_jpeg_is_lossless_and_clean(admin: TestClient) -> None:
    data = tagged()
    body = run_tool(admin, "strip-metadata", data, {}, "photo.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/photo_stripped.jpg")
    assert body["reencoded"] is False and {"exif", "xmp"} <= set(body["removed"])
    out_bytes = download(admin, body)
    assert b"Exif\x00\x00" not in out_bytes and b"Lutra Cam" not in out_bytes and b"xmpmeta" not in out_bytes
    out = pyvips.Image.new_from_buffer(out_bytes, "")
    assert not exif_names(out) and not out.get_typeof("xmp-data")
    original = pyvips.Image.new_from_buffer(data, "")
    assert (out - original).abs().max() == 0  # same pixels: only segments were dropped


@pytest.mark.parametrize(("suffix", "name"), [(".png", "a.png"), (".webp", "a.webp")])
def test_strip_metadata_other_formats(admin: TestClient, suffix: str, name: str) -> None:
    data = tagged(suffix=suffix)
    before = pyvips.Image.new_from_buffer(data, "")
    assert exif_names(before) and before.get_typeof("xmp-data")
    body = run_tool(admin, "strip-metadata", data, {}, name)
    out = fetch_image(admin, body)
    assert not exif_names(out) and not out.get_typeof("xmp-data")
    assert not [f for f in out.get_fields() if f.startswith("png-comment")]
    assert (out.width, out.height) == (64, 48)


def test_strip_metadata_bakes_in_orientation(admin: TestClient) -> None:
    image = marked(60, 40).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)  # stored sideways, shown turned 90 degrees
    body = run_tool(admin, "strip-metadata", encode(image, ".jpg", Q=95), {}, "turned.jpg")
    assert body["reencoded"] is True
    out = fetch_image(admin, body)
    assert (out.width, out.height) == (40, 60)  # upright without the tag
    assert not exif_names(out)


# --- edit-metadata -------------------------------------------------------------------------------

SETTINGS = {
    "title": "Eiffel at noon",
    "description": "The tower, from the Trocadéro",
    "author": "Ann Author",
    "copyright": "(c) 2024 Ann Author",
    "keywords": ["paris", "tower"],
    "gps": {"lat": -33.8568, "lon": 151.2153},
    "dateTime": "2024-05-06T07:08:09",
}


def test_edit_metadata_jpeg_writes_exif_xmp_iptc_without_reencoding(admin: TestClient) -> None:
    data = tagged()
    body = run_tool(admin, "edit-metadata", data, SETTINGS, "photo.jpg")
    assert body["downloadUrl"].split("?")[0].endswith("/photo_metadata.jpg")
    assert body["reencoded"] is False
    out = fetch_image(admin, body)
    get = out.get
    assert get("exif-ifd0-Artist").startswith("Ann Author ")
    assert get("exif-ifd0-ImageDescription").startswith("The tower")
    assert get("exif-ifd0-Copyright").startswith("(c) 2024 Ann Author ")
    assert get("exif-ifd0-DateTime").startswith("2024:05:06 07:08:09")
    assert get("exif-ifd2-DateTimeOriginal").startswith("2024:05:06 07:08:09")
    assert get("exif-ifd3-GPSLatitudeRef").startswith("S") and get("exif-ifd3-GPSLongitudeRef").startswith("E")
    assert get("exif-ifd0-Make").startswith("Lutra Cam")  # untouched fields stay
    assert (out - pyvips.Image.new_from_buffer(data, "")).abs().max() == 0  # pixels bit for bit

    fields = inspect(admin, "edit-metadata", download(admin, body))
    f = fields["fields"]
    assert f["title"] == "Eiffel at noon" and f["author"] == "Ann Author"
    assert f["description"] == "The tower, from the Trocadéro"
    assert f["keywords"] == ["paris", "tower"] and f["copyright"] == "(c) 2024 Ann Author"
    assert f["gps"] == {"lat": pytest.approx(-33.8568, abs=1e-4), "lon": pytest.approx(151.2153, abs=1e-4)}
    assert f["dateTime"] == "2024:05:06 07:08:09"
    assert fields["iptc"]["ObjectName"] == "Eiffel at noon" and fields["iptc"]["Keywords"] == ["paris", "tower"]
    assert fields["xmp"]["dc:subject"] == ["paris", "tower"]
    assert fields["xmp"]["xmp:CreatorTool"] == "Camera 1.0"  # other XMP kept
    assert fields["exif"]["IFD0.XPKeywords"] == "paris;tower"
    assert body["metadata"]["exif"]["IFD0.Artist"] == "Ann Author"


@pytest.mark.parametrize(("suffix", "name", "loader"), [(".png", "a.png", "pngload"), (".webp", "a.webp", "webpload")])
def test_edit_metadata_png_and_webp(admin: TestClient, suffix: str, name: str, loader: str) -> None:
    body = run_tool(admin, "edit-metadata", encode(marked(40, 30), suffix), SETTINGS, name)
    out = fetch_image(admin, body)
    assert out.get("vips-loader").startswith(loader)
    assert out.get("exif-ifd0-Artist").startswith("Ann Author")
    assert out.get("exif-ifd3-GPSLatitude").startswith("33/1 51/1")
    assert b"Eiffel at noon" in out.get("xmp-data")


def test_edit_metadata_removes_and_keeps(admin: TestClient) -> None:
    data = tagged()
    body = run_tool(admin, "edit-metadata", data, {"author": "", "clearGps": True, "title": "New"}, "p.jpg")
    out = fetch_image(admin, body)
    names = exif_names(out)
    assert "exif-ifd0-Artist" not in names and "exif-ifd3-GPSLatitude" not in names
    assert "exif-ifd0-Make" in names
    found = inspect(admin, "edit-metadata", download(admin, body))
    assert found["gps"] is None and found["fields"]["title"] == "New"
    # keywords as one comma-separated string, EXIF-style date
    body = run_tool(admin, "edit-metadata", data, {"keywords": "a, b ,c", "dateTime": "2020:01:02 03:04:05"})
    assert inspect(admin, "edit-metadata", download(admin, body))["fields"]["keywords"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"gps": {"lat": 91, "lon": 0}}, "lat"),
        ({"gps": {"lat": 0}}, "lon"),
        ({"dateTime": "yesterday"}, "dateTime"),
        ({"title": "x" * 2001}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_edit_metadata_invalid_settings(admin: TestClient, settings: dict, needle: str) -> None:
    body = assert_error(post(admin, "edit-metadata", tagged(), settings), 400, "VALIDATION_ERROR")
    assert needle in json.dumps(body)
