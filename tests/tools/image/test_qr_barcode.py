"""QR codes and barcodes through the HTTP API, proven by reading them back with barcode-read."""

from __future__ import annotations

from typing import Any

import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import encode, fetch_image, run_tool, solid
from tests.tools.image.overlay_helpers import ok, post_json, post_parts


def read_back(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    png = client.get(body["downloadUrl"]).content
    return run_tool(client, "barcode-read", png, {}, "code.png")["barcodes"]


def test_qr_round_trip_with_styles_and_colours(admin: TestClient) -> None:
    url = "https://lutra.example/p?id=42&ref=qr"
    body = ok(post_json(admin, "qr-generate", {"data": url, "size": 300}))
    assert (body["width"], body["height"]) == (300, 300) and body["errorCorrectionLevel"] == "M"
    codes = read_back(admin, body)
    assert [(c["type"], c["text"]) for c in codes] == [("QRCode", url)]
    position = codes[0]["position"]
    assert position["topLeft"]["x"] < position["bottomRight"]["x"] < 300

    styled = {
        "data": "styled",
        "size": 256,
        "dotStyle": "dots",
        "cornerStyle": "dot",
        "colorDark": "#1d3557",
        "colorLight": "#ffe8a3",
        "errorCorrectionLevel": "Q",
        "margin": 2,
    }
    body = ok(post_json(admin, "qr-generate", styled))
    image = fetch_image(admin, body)
    assert list(image(2, 2))[:3] == [255, 232, 163]  # the quiet zone is the light colour
    assert [c["text"] for c in read_back(admin, body)] == ["styled"]
    for dots, corners in (("rounded", "rounded"), ("extra-rounded", "extra-rounded"), ("classy", "square")):
        body = ok(post_json(admin, "qr-generate", {"data": dots, "dotStyle": dots, "cornerStyle": corners}))
        assert [c["text"] for c in read_back(admin, body)] == [dots]


def test_qr_with_a_logo_and_a_transparent_background(admin: TestClient) -> None:
    logo = encode(solid(60, 60, (230, 30, 30)), ".png")
    r = post_parts(admin, "qr-generate", [("file", "logo.png", logo)], {"data": "with logo", "size": 320})
    body = ok(r)
    assert body["logo"] is True and body["errorCorrectionLevel"] == "H"
    image = fetch_image(admin, body)
    assert list(image(160, 160))[:3] == [230, 30, 30]
    assert [c["text"] for c in read_back(admin, body)] == ["with logo"]

    clear = ok(post_json(admin, "qr-generate", {"data": "clear", "colorLight": "#ffffff00", "size": 128}))
    image = fetch_image(admin, clear)
    assert image.bands == 4 and image(1, 1)[3] == 0


def test_qr_errors(admin: TestClient) -> None:
    assert_error(post_json(admin, "qr-generate", {}), 400, "VALIDATION_ERROR")
    assert_error(post_json(admin, "qr-generate", {"data": "x", "errorCorrectionLevel": "X"}), 400, "VALIDATION_ERROR")
    assert_error(post_json(admin, "qr-generate", {"data": "x", "colorDark": "darkish"}), 400, "VALIDATION_ERROR")
    assert_error(post_json(admin, "qr-generate", {"data": "x" * 2000, "errorCorrectionLevel": "H"}), 400)
    schema = admin.get("/api/v1/tools/image/qr-generate").json()["settingsSchema"]
    assert schema["properties"]["errorCorrectionLevel"]["enum"] == ["L", "M", "Q", "H"]


@pytest.mark.parametrize(
    ("kind", "text", "read_type", "read_text"),
    [
        ("code128", "Lutra-128/x", "Code128", "Lutra-128/x"),
        ("ean13", "590123412345", "EAN13", "5901234123457"),  # check digit added
        ("upca", "036000291452", None, "036000291452"),
        ("code39", "LUTRA 39", "Code39", "LUTRA 39"),
        ("itf14", "00012345678905", "ITF", "00012345678905"),
        ("datamatrix", "Lutra DataMatrix ü", "DataMatrix", "Lutra DataMatrix ü"),
    ],
)
def test_barcode_round_trip(admin: TestClient, kind: str, text: str, read_type: str | None, read_text: str) -> None:
    body = ok(post_json(admin, "barcode-generate", {"text": text, "type": kind, "scale": 3}))
    assert body["downloadUrl"].split("?")[0].endswith(f"/barcode-{kind}.png")
    codes = read_back(admin, body)
    assert len(codes) == 1
    assert codes[0]["text"].endswith(read_text)  # UPC-A may read back as EAN-13 with a leading 0
    if read_type:
        assert codes[0]["type"] == read_type


def test_barcode_text_and_scale(admin: TestClient) -> None:
    plain = fetch_image(admin, ok(post_json(admin, "barcode-generate", {"text": "ABC", "includeText": False})))
    texted = fetch_image(admin, ok(post_json(admin, "barcode-generate", {"text": "ABC"})))
    big = fetch_image(admin, ok(post_json(admin, "barcode-generate", {"text": "ABC", "scale": 4})))
    assert texted.height > plain.height and big.width == 2 * texted.width


BAD_BARCODES = [
    ({"text": "5901234123458", "type": "ean13"}, "check digit"),
    ({"text": "59012341234", "type": "ean13"}, "12 digits"),
    ({"text": "03600029145X", "type": "upca"}, "11 digits"),
    ({"text": "lower", "type": "code39"}, "upper case"),
    ({"text": "abc", "type": "qr"}, "type"),
    ({"text": "abc", "scale": 9}, "scale"),
]


def test_barcode_invalid_input_is_a_clear_400(admin: TestClient) -> None:
    for settings, needle in BAD_BARCODES:
        body = assert_error(post_json(admin, "barcode-generate", settings), 400, "VALIDATION_ERROR")
        assert needle in body["error"] + str(body.get("details")), settings


def test_barcode_read_finds_nothing_on_a_plain_image(admin: TestClient) -> None:
    body = run_tool(admin, "barcode-read", encode(solid(80, 60), ".jpg"), {}, "blank.jpg")
    assert body["barcodes"] == [] and body["count"] == 0
    assert isinstance(pyvips.Image.new_from_buffer(admin.get(body["downloadUrl"]).content, ""), pyvips.Image)
