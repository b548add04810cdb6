"""chart-maker through the HTTP API: the PNG's size, and bar heights, slice areas and line colours
measured from its pixels."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from PIL import Image

from tests.tools.files.helpers import fetch, post, refused, run

BLUE, ORANGE, RED = (0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0xE1, 0x57, 0x59)


def image_of(av: TestClient, body: dict) -> Image.Image:
    image = Image.open(io.BytesIO(fetch(av, body)))
    assert image.format == "PNG"
    return image.convert("RGB")


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def count(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 2) -> int:
    colours = image.getcolors(image.width * image.height) or []
    return sum(n for n, pixel in colours if near(pixel, colour, tolerance))


def column_runs(image: Image.Image, colour: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Horizontal extents of the columns holding `colour` (the bars), left to right."""
    px = image.load()
    hits = [any(near(px[x, y], colour) for y in range(image.height)) for x in range(image.width)]
    runs, start = [], None
    for x, hit in enumerate([*hits, False]):
        if hit and start is None:
            start = x
        elif not hit and start is not None:
            runs.append((start, x - 1))
            start = None
    return runs


def test_bar_chart_from_csv(av: TestClient) -> None:
    csv = b"month,sales\nJan,10\nFeb,20\nMar,30\n"
    body = run(av, "chart-maker", [("sales.csv", csv)], {"kind": "bar", "title": "Sales", "width": 600, "height": 400})
    assert body["points"] == 3 and body["series"] == ["sales"]
    image = image_of(av, body)
    assert image.size == (600, 400)
    runs = column_runs(image, BLUE)
    assert len(runs) == 3
    px = image.load()
    heights = []
    for left, right in runs:
        x = (left + right) // 2
        heights.append(sum(near(px[x, y], BLUE) for y in range(image.height)))
    assert abs(heights[1] / heights[0] - 2) < 0.1 and abs(heights[2] / heights[0] - 3) < 0.1
    # The title is dark text near the top centre; the corners stay white.
    assert any(sum(px[x, y]) < 200 for x in range(250, 350) for y in range(5, 40))
    assert px[0, 0] == (255, 255, 255) and px[599, 399] == (255, 255, 255)


def test_bar_chart_from_a_european_csv(av: TestClient) -> None:
    """Semicolons, decimal commas and Latin-1, as spreadsheet programs write CSV in much of Europe."""
    csv = "Monat;Umsatz\nJänner;1.000,5\nFebruar;2.000,5\nMärz;3.001,5\n".encode("latin-1")
    body = run(av, "chart-maker", [("umsatz.csv", csv)], {"kind": "bar", "width": 600, "height": 400})
    assert body["points"] == 3 and body["series"] == ["Umsatz"]
    image = image_of(av, body)
    px = image.load()
    heights = [sum(near(px[(a + b) // 2, y], BLUE) for y in range(image.height)) for a, b in column_runs(image, BLUE)]
    assert len(heights) == 3 and abs(heights[2] / heights[0] - 3) < 0.1


def test_line_and_pie_charts_from_json(av: TestClient) -> None:
    rows = [{"day": "Mon", "a": 1, "b": 5}, {"day": "Tue", "a": 3, "b": 4}, {"day": "Wed", "a": 2, "b": 6}]
    body = run(
        av, "chart-maker", [("d.json", json.dumps(rows).encode())], {"kind": "line", "width": 500, "height": 300}
    )
    assert body["series"] == ["a", "b"]
    image = image_of(av, body)
    assert image.size == (500, 300)
    assert count(image, BLUE, 12) > 150 and count(image, ORANGE, 12) > 150
    assert column_runs(image, RED) == []

    body = run(av, "chart-maker", [("p.json", b'{"cats": 1, "dogs": 1, "fish": 2}')],
               {"kind": "pie", "width": 400, "height": 400})  # fmt: skip
    image = image_of(av, body)
    blue, orange, red = count(image, BLUE), count(image, ORANGE), count(image, RED)
    assert blue > 5000 and abs(orange / blue - 1) < 0.1 and abs(red / blue - 2) < 0.15

    refused(post(av, "chart-maker", [("p.json", b'{"a": -1, "b": 2}')], {"kind": "pie"}), 400)
    refused(post(av, "chart-maker", [("t.csv", b"name,city\nAnn,Oslo\nBo,Rome\n")]), 400)
    body = refused(post(av, "chart-maker", [("t.csv", b"a,b\n1,2\n")], {"kind": "donut"}), 400, "VALIDATION_ERROR")
    assert "kind" in body["details"]
    refused(post(av, "chart-maker", [("t.csv", b"a,b\n1,2\n")], {"width": 50}), 400, "VALIDATION_ERROR")
    schema = av.get("/api/v1/tools/files/chart-maker").json()["settingsSchema"]
    assert schema["properties"]["kind"]["enum"] == ["bar", "line", "pie"]
