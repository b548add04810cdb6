"""Ghostscript tools through the HTTP API: compress (quality and target size), grayscale, PDF/A-2b."""

from __future__ import annotations

import io

import pikepdf
import pytest
import pyvips
from fastapi.testclient import TestClient
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as rl_canvas

from tests.tools.av import fail_long, run_long
from tests.tools.pdf.helpers import download, encrypted_pdf, page_texts, pdf_text, text_pdf


@pytest.fixture(scope="module")
def photo_pdf() -> bytes:
    """Two pages, each a 900 px noisy photo (about 190 dpi) under a line of text, and a red box."""
    noise = pyvips.Image.gaussnoise(900, 900, sigma=50, mean=128)
    photo = noise.bandjoin([noise * 0.8, noise * 0.6]).cast("uchar").copy(interpretation="srgb")
    jpeg = photo.write_to_buffer(".jpg", Q=95)
    buf = io.BytesIO()
    canvas = rl_canvas.Canvas(buf)
    for n in (1, 2):
        canvas.drawImage(ImageReader(io.BytesIO(jpeg)), 72, 300, width=340, height=340)
        canvas.setFillColorRGB(1, 0, 0)
        canvas.rect(72, 100, 200, 100, fill=1, stroke=0)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont("Helvetica", 24)
        canvas.drawString(72, 720, f"PHOTO PAGE {n}")
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _pdf(data: bytes) -> list[tuple[str, bytes]]:
    return [("input.pdf", data)]


def test_compress_pdf_quality_mode_shrinks_images_and_keeps_text(av: TestClient, photo_pdf: bytes) -> None:
    result = run_long(av, "pdf/compress-pdf", _pdf(photo_pdf), {"quality": 30})
    out = download(av, result)
    assert result["keptOriginal"] is False and result["imageDpi"] < 100
    assert len(out) < len(photo_pdf) * 0.5
    assert page_texts(out) == ["PHOTO PAGE 1", "PHOTO PAGE 2"]

    # A text-only PDF doesn't get bigger: the original comes back.
    small = text_pdf(1)
    result = run_long(av, "pdf/compress-pdf", _pdf(small), {"quality": 90})
    assert result["processedSize"] <= len(small) + 200


def test_compress_pdf_target_size_lands_under_or_says_it_cannot(av: TestClient, photo_pdf: bytes) -> None:
    target_kb = len(photo_pdf) * 0.25 / 1000
    result = run_long(av, "pdf/compress-pdf", _pdf(photo_pdf), {"mode": "targetSize", "targetSizeKb": target_kb})
    assert result["targetReached"] is True
    assert result["processedSize"] <= target_kb * 1000
    assert result["quality"] < 85
    assert page_texts(download(av, result)) == ["PHOTO PAGE 1", "PHOTO PAGE 2"]

    result = run_long(av, "pdf/compress-pdf", _pdf(photo_pdf), {"mode": "targetSize", "targetSizeKb": 1})
    assert result["targetReached"] is False and "Could not get under 1 KB" in result["message"]

    r = av.post("/api/v1/tools/pdf/compress-pdf", files={"file": ("a.pdf", photo_pdf)},
                data={"settings": '{"mode": "targetSize"}'})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    failed = fail_long(av, "pdf/compress-pdf", _pdf(encrypted_pdf()))
    assert "encrypted" in failed["error"]


def test_grayscale_pdf_removes_colour(av: TestClient, photo_pdf: bytes) -> None:
    result = run_long(av, "pdf/grayscale-pdf", _pdf(photo_pdf))
    out = download(av, result)
    before = pyvips.Image.pdfload_buffer(photo_pdf, dpi=36)
    after = pyvips.Image.pdfload_buffer(out, dpi=36)
    x, y = int(170 / 2), int((842 - 150) / 2)  # the red box, at 36 dpi
    r, g, b = before(x, y)[:3]
    assert r > 200 and g < 50
    r, g, b = after(x, y)[:3]
    assert abs(r - g) < 3 and abs(g - b) < 3 and 40 < r < 200
    assert page_texts(out) == ["PHOTO PAGE 1", "PHOTO PAGE 2"]


def test_pdfa_convert_makes_a_checked_pdfa_2b(av: TestClient) -> None:
    result = run_long(av, "pdf/pdfa-convert", _pdf(text_pdf(2)))
    assert result["pdfa"]["part"] == 2 and result["pdfa"]["conformance"] == "B"
    assert all(result["pdfa"]["checks"].values())
    out = download(av, result)
    with pikepdf.open(io.BytesIO(out)) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        font = next(iter(pdf.pages[0].Resources.Font.values()))
        assert (
            "/FontFile" in font.FontDescriptor
            or "/FontFile2" in font.FontDescriptor
            or "/FontFile3" in font.FontDescriptor
        )
    assert "PAGE 2" in pdf_text(out)
