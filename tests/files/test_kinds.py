"""Library files carry the kind Lutra detected, the listing filters by kind, and every catalog entry
says which kinds it takes (`inputs.accepts`): what the UI uses so a file choice never ends in a 415."""

from __future__ import annotations

import pyvips
from fastapi.testclient import TestClient

from tests.files.helpers import upload
from tests.tools.pdf.helpers import text_pdf


def png() -> bytes:
    return (pyvips.Image.black(20, 10, bands=3) + [10, 20, 30]).cast("uchar").write_to_buffer(".png")


def test_files_say_their_kind_and_the_listing_filters_by_kind(admin: TestClient) -> None:
    picture = upload(admin, png(), "picture.jpg")  # named .jpg, but a PNG: the content decides
    document = upload(admin, text_pdf(1), "doc.pdf")
    assert picture["kind"] == "png" and document["kind"] == "pdf"

    listed = admin.get("/api/v1/files", params={"kinds": "jpeg,png,webp"}).json()
    assert [f["id"] for f in listed["files"]] == [picture["id"]] and listed["total"] == 1
    listed = admin.get("/api/v1/files", params={"kinds": "pdf"}).json()
    assert [f["id"] for f in listed["files"]] == [document["id"]]
    assert admin.get("/api/v1/files", params={"kinds": "mp4"}).json()["files"] == []
    assert admin.get("/api/v1/files").json()["total"] == 2
    assert admin.get(f"/api/v1/files/{document['id']}").json()["file"]["kind"] == "pdf"


def test_the_catalog_spells_out_the_kinds_each_tool_takes(admin: TestClient) -> None:
    tools = {t["id"]: t for t in admin.get("/api/v1/tools").json()["tools"]}
    resize = tools["resize"]["inputs"]
    assert {"jpeg", "png", "webp", "avif"} <= set(resize["accepts"]) and "pdf" not in resize["accepts"]
    assert tools["merge-pdf"]["inputs"]["accepts"] == ["pdf"]
    # The library's filter and the catalog speak the same names: a PDF fits merge-pdf, not resize.
    document = upload(admin, text_pdf(1), "doc.pdf")
    assert document["kind"] in tools["merge-pdf"]["inputs"]["accepts"]
    assert document["kind"] not in resize["accepts"]
