"""ocr on the packaged PP-OCRv6 models (balanced, best) and Debian's Tesseract (fast): sentences drawn
with libvips are read exactly, boxes lie where the text was drawn, the .txt download holds the text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest
import pyvips
from fastapi.testclient import TestClient

from tests.ai.photo_helpers import app_client
from tests.ai.scenes import fetch, png, post, run_long

SENTENCE = "The quick brown fox jumps over the lazy dog 1234"
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from app_client(tmp_path_factory.mktemp("ocr"))


def page(lines: list[tuple[str, int, int]], width: int = 1000, height: int = 300, size: int = 28) -> np.ndarray:
    """Black DejaVu Sans text on white, each (text, left, top); returns RGB."""
    sheet = np.full((height, width), 255, np.uint8)
    for text, left, top in lines:
        ink = pyvips.Image.text(text, font=f"DejaVu Sans {size}", dpi=72).numpy()
        h, w = ink.shape
        sheet[top : top + h, left : left + w] = np.minimum(sheet[top : top + h, left : left + w], 255 - ink)
    return np.stack([sheet] * 3, axis=-1)


def drawn_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) around the dark pixels."""
    ys, xs = np.nonzero(rgb[..., 0] < 128)
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def assert_box_around(box: list[int], drawn: tuple[int, int, int, int], slack: int = 14) -> None:
    """The answer's box holds the drawn text and is at most `slack` px bigger on each side."""
    x, y, w, h = box
    dx, dy, dw, dh = drawn
    assert x <= dx + 2 and y <= dy + 2 and x + w >= dx + dw - 2 and y + h >= dy + dh - 2, (box, drawn)
    assert x >= dx - slack and y >= dy - slack and x + w <= dx + dw + slack and y + h <= dy + dh + slack, (box, drawn)


@pytest.mark.parametrize("quality", ["balanced", "best", pytest.param("fast", marks=needs_tesseract)])
def test_reads_a_rendered_sentence_exactly(app: TestClient, quality: str) -> None:
    rgb = page([(SENTENCE, 60, 120)])
    body = run_long(app, "ocr", png(rgb), {"quality": quality}, name="note.png")
    assert body["text"] == SENTENCE
    assert body["engine"] == ("tesseract" if quality == "fast" else "rapidocr")
    assert body["quality"] == quality and body["language"] == "auto"
    (line,) = body["lines"]
    assert line["text"] == SENTENCE and 0.8 < line["confidence"] <= 1
    assert_box_around(line["box"], drawn_box(rgb))
    assert len(line["points"]) == 4
    assert body["downloadUrl"].split("?")[0].endswith("/note.txt")
    assert fetch(app, body).decode("utf-8") == SENTENCE + "\n"


def test_lines_come_back_in_reading_order_with_their_boxes(app: TestClient) -> None:
    top, bottom = "Invoice number 4711", "Total due 99.50 EUR"
    rgb = page([(bottom, 420, 200), (top, 80, 40)])
    body = run_long(app, "ocr", png(rgb), {"quality": "balanced"})
    assert body["text"] == f"{top}\n{bottom}"
    first, second = sorted(body["lines"], key=lambda ln: ln["box"][1])
    assert (first["text"], second["text"]) == (top, bottom)
    assert_box_around(first["box"], drawn_box(rgb[:150]))
    lower = rgb.copy()
    lower[:150] = 255
    assert_box_around(second["box"], drawn_box(lower))


@needs_tesseract
def test_german_umlauts_with_tesseract(app: TestClient) -> None:
    sentence = "Größere Äpfel schmecken süß über Übermaß"
    body = run_long(app, "ocr", png(page([(sentence, 40, 100)])), {"quality": "fast", "language": "de"})
    assert body["text"] == sentence and body["language"] == "de"


def test_enhance_reads_faint_small_text_and_maps_boxes_back(app: TestClient) -> None:
    # Grey on grey, small: enhance stretches the contrast and reads a 2x enlargement.
    rgb = page([(SENTENCE, 20, 30)], width=560, height=100, size=18)
    faint = (150 + rgb.astype(np.float32) * (60 / 255)).astype(np.uint8)
    body = run_long(app, "ocr", png(faint), {"quality": "balanced", "enhance": True})
    assert body["text"] == SENTENCE and body["enhanced"] is True
    assert_box_around(body["lines"][0]["box"], drawn_box(rgb), slack=10)


@needs_tesseract
def test_korean_is_read_by_tesseract_at_every_quality(app: TestClient) -> None:
    body = run_long(app, "ocr", png(page([("Seoul 2024", 40, 100)])), {"quality": "balanced", "language": "ko"})
    assert body["engine"] == "tesseract" and "Hangul" in body["note"]


def test_no_text_gives_an_empty_answer(app: TestClient) -> None:
    body = run_long(app, "ocr", png(np.full((120, 200, 3), 255, np.uint8)), {})
    assert body["text"] == "" and body["lines"] == []


def test_bad_settings_are_a_400(app: TestClient) -> None:
    r = post(app, "ocr", png(page([("x", 5, 5)], 40, 40)), {"language": "xx"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


def test_best_finds_small_text_on_a_big_page_tile_by_tile(app: TestClient) -> None:
    # Seen whole, the detector finds nothing of 12 px text on a 2400x1600 page; best searches it in
    # overlapping tiles (the page splits at x 1136..1264 and y 736..864). The middle line straddles both
    # splits, so each tile holds only part of it: the parts are one line, read once.
    lines = [("Invoice number 4711", 180, 140), ("Payment reference LUTRA-2026-0042", 1050, 790),
             ("Thank you for your order", 1700, 1420)]  # fmt: skip
    rgb = page(lines, width=2400, height=1600, size=12)
    body = run_long(app, "ocr", png(rgb), {"quality": "best"}, name="letter.png")
    assert body["text"] == "\n".join(text for text, _, _ in lines)
    assert [line["text"] for line in body["lines"]] == [text for text, _, _ in lines]
    for line, drawn in zip(body["lines"], lines, strict=True):
        assert_box_around(line["box"], drawn_box(page([drawn], width=2400, height=1600, size=12)))
