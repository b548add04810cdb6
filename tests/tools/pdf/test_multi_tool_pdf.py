"""multi-tool-pdf: page operations applied in order, checked on the resulting pages' text, sizes and turns."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from fastapi.testclient import TestClient

from tests.tools.pdf.helpers import download, pdf_text, post, refused, text_pdf

PAGES = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]


def edit(client: TestClient, operations: list[dict[str, Any]], data: bytes | None = None) -> tuple[dict, pikepdf.Pdf]:
    r = post(
        client, "multi-tool-pdf", [("doc.pdf", data or text_pdf(PAGES, size=(300, 200)))], {"operations": operations}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return body, pikepdf.open(io.BytesIO(download(client, body)))


def texts(doc: pikepdf.Pdf) -> list[str]:
    buf = io.BytesIO()
    doc.save(buf)
    pages = pdf_text(buf.getvalue()).split("\f")[: len(doc.pages)]
    return [" ".join(p.split()) for p in pages]


def turns(doc: pikepdf.Pdf) -> list[int]:
    return [int(p.obj.get("/Rotate", 0)) % 360 for p in doc.pages]


def test_operations_apply_in_order(av: TestClient) -> None:
    operations = [
        {"op": "rotate", "pages": "2", "angle": 90},
        {"op": "delete", "pages": "3"},  # CHARLIE
        {"op": "reorder", "order": "3,1,2"},  # DELTA ALPHA BRAVO
        {"op": "duplicate", "pages": "1"},  # DELTA DELTA ALPHA BRAVO
        {"op": "insert-blank", "after": 2},  # DELTA DELTA _ ALPHA BRAVO
        {"op": "rotate", "pages": "z", "angle": 180},  # BRAVO: 90 + 180
    ]
    body, doc = edit(av, operations)
    assert texts(doc) == ["DELTA", "DELTA", "", "ALPHA", "BRAVO"]
    assert turns(doc) == [0, 0, 0, 0, 270]
    assert (body["pages"], body["operations"], body["sourcePages"]) == (5, 6, [4, 4, None, 1, 2])
    # The blank page takes its neighbour's size and has no content.
    assert [float(v) for v in doc.pages[2].mediabox] == [0, 0, 300, 200]
    assert doc.pages[2].obj.get("/Contents") is None
    # A duplicated page is a page of its own: turning one leaves the other.
    _, doc = edit(av, [{"op": "duplicate", "pages": "1", "copies": 2}, {"op": "rotate", "pages": "2", "angle": -90}])
    assert texts(doc)[:3] == ["ALPHA"] * 3 and turns(doc)[:3] == [0, 270, 0]


def test_extract_keeps_pages_in_the_given_order(av: TestClient) -> None:
    body, doc = edit(av, [{"op": "extract", "pages": "z,2"}])
    assert texts(doc) == ["DELTA", "BRAVO"] and body["sourcePages"] == [4, 2]
    _, doc = edit(av, [{"op": "insert-blank", "after": 0, "count": 2, "width": 100, "height": 50}])
    assert texts(doc) == ["", "", *PAGES]
    assert [float(v) for v in doc.pages[0].mediabox] == [0, 0, 100, 50]


@pytest.mark.parametrize(
    ("operations", "status", "code", "words"),
    [
        ([{"op": "delete", "pages": "1-z"}], 400, "NO_PAGES_LEFT", "Operation 1 (delete)"),
        ([{"op": "rotate", "pages": "1"}, {"op": "delete", "pages": "9"}], 400, "PAGE_OUT_OF_RANGE", "Operation 2"),
        ([{"op": "reorder", "order": "1,2"}], 400, "INVALID_ORDER", "each of the 4 pages"),
        ([{"op": "insert-blank", "after": 5}], 400, "PAGE_OUT_OF_RANGE", "the PDF has 4 pages"),
        ([{"op": "rotate", "pages": "1", "angle": 45}], 400, "VALIDATION_ERROR", "angle"),
        ([{"op": "shred", "pages": "1"}], 400, "VALIDATION_ERROR", "operations"),
        ([], 400, "VALIDATION_ERROR", "operations"),
    ],
)
def test_refusals_name_the_operation(av: TestClient, operations: list, status: int, code: str, words: str) -> None:
    r = post(av, "multi-tool-pdf", [("doc.pdf", text_pdf(PAGES, size=(300, 200)))], {"operations": operations})
    assert words in refused(r, status, code)["error"]
