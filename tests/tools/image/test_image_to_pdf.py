"""image-to-pdf through the HTTP API, the PDF checked by qpdf: page count, page sizes, embedding, target size."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.image.helpers import download, encode, marked, noise
from tests.tools.image.multi_helpers import filters, pdf_pages, post_files


def make_pdf(admin: TestClient, files: list[tuple[str, bytes]], settings: dict) -> tuple[dict, bytes]:
    r = post_files(admin, "image-to-pdf", files, settings)
    assert r.status_code == 200, r.text
    body = r.json()
    return body, download(admin, body)


def test_one_page_per_image_on_a4(admin: TestClient) -> None:
    jpeg = encode(noise(120, 80), ".jpg", Q=80)
    files = [("a.jpg", jpeg), ("b.png", encode(marked(50, 90), ".png")), ("c.webp", encode(marked(40, 40), ".webp"))]
    body, pdf = make_pdf(admin, files, {})
    assert body["downloadUrl"].split("?")[0].endswith("/images.pdf") and body["pages"] == 3
    assert pdf_pages(pdf) == [pytest.approx((595.28, 841.89), abs=0.01)] * 3
    assert jpeg in pdf  # the JPEG is embedded as it is, not re-encoded
    assert filters(pdf).count("DCTDecode") == 3


@pytest.mark.parametrize(
    ("size", "expected"),
    [("Letter", (792, 612)), ("Legal", (1008, 612)), ("A3", (1190.55, 841.89)), ("A5", (595.28, 419.53))],
)
def test_page_sizes_in_landscape(admin: TestClient, size: str, expected: tuple[float, float]) -> None:
    _, pdf = make_pdf(
        admin, [("a.png", encode(marked(30, 20), ".png"))], {"pageSize": size, "orientation": "landscape"}
    )
    assert pdf_pages(pdf) == [pytest.approx(expected, abs=0.01)]


def test_fit_pages_follow_each_image_plus_margin(admin: TestClient) -> None:
    files = [("a.png", encode(marked(96, 48), ".png")), ("b.png", encode(marked(48, 192), ".png"))]
    body, pdf = make_pdf(admin, files, {"pageSize": "fit", "margin": 10})
    # 96 dpi when the file says nothing: 96 px = 72 pt.
    assert pdf_pages(pdf) == [pytest.approx((92, 56), abs=0.01), pytest.approx((56, 164), abs=0.01)]
    assert body["downloadUrl"].split("?")[0].endswith("/images.pdf")


def test_transparency_is_kept_with_a_soft_mask(admin: TestClient) -> None:
    image = marked(40, 40).bandjoin(128).copy(interpretation="srgb")
    body, pdf = make_pdf(admin, [("t.png", encode(image, ".png"))], {"margin": 36})
    assert b"/SMask" in pdf and filters(pdf).count("FlateDecode") == 2
    assert body["downloadUrl"].split("?")[0].endswith("/t.pdf")


def test_target_size_is_reached(admin: TestClient) -> None:
    files = [(f"{i}.png", encode(noise(200, 150), ".png")) for i in range(2)]
    _, big = make_pdf(admin, files, {})
    body, pdf = make_pdf(admin, files, {"targetSize": {"value": 30, "unit": "KB"}})
    assert len(big) > 30_000
    assert body["targetReached"] is True and len(pdf) <= 30_000
    assert len(pdf_pages(pdf)) == 2
    body, _ = make_pdf(admin, files, {"targetSize": {"value": 0.001, "unit": "MB"}})
    assert body["targetReached"] is False


def test_invalid_settings_and_counts(admin: TestClient) -> None:
    png = encode(marked(10, 10), ".png")
    for settings, needle in (
        ({"pageSize": "B5"}, "pageSize"),
        ({"orientation": "sideways"}, "orientation"),
        ({"margin": -1}, "margin"),
        ({"targetSize": {"value": 1, "unit": "GB"}}, "unit"),
    ):
        assert needle in str(assert_error(post_files(admin, "image-to-pdf", [("a.png", png)], settings), 400))
    assert_error(post_files(admin, "image-to-pdf", [("a.png", png)] * 201, {}), 400, "TOO_MANY_FILES")
    schema = admin.get("/api/v1/tools/image/image-to-pdf").json()["settingsSchema"]
    assert schema["properties"]["pageSize"]["enum"] == ["A4", "Letter", "Legal", "A3", "A5", "fit"]
