"""PDF Metadata: read the title, author, subject and keywords, or write the ones given.

Fields are written both to the document information dictionary and to the XMP packet, so viewers
that read either agree. An empty string clears a field.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

_FIELDS = {"title": "/Title", "author": "/Author", "subject": "/Subject", "keywords": "/Keywords"}


class PdfMetadataSettings(ToolSettings):
    title: str | None = Field(None, max_length=2000, description="Document title; empty string clears it")
    author: str | None = Field(None, max_length=2000, description="Author; empty string clears it")
    subject: str | None = Field(None, max_length=2000, description="Subject; empty string clears it")
    keywords: str | None = Field(None, max_length=2000, description="Keywords, comma-separated; empty clears them")


def _current(doc: Any) -> dict[str, Any]:
    info = doc.docinfo
    found: dict[str, Any] = {}
    for name, key in _FIELDS.items():
        value = info.get(key)
        found[name] = str(value) if value is not None else None
    for name, key in (("creator", "/Creator"), ("producer", "/Producer"), ("created", "/CreationDate"),
                      ("modified", "/ModDate")):  # fmt: skip
        value = info.get(key)
        if value is not None:
            found[name] = str(value)
    return found


@tool(
    id="pdf-metadata",
    section="pdf",
    title="PDF Metadata",
    description="Read a PDF's title, author, subject and keywords, or set the ones you give.",
    settings=PdfMetadataSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: PdfMetadataSettings) -> ToolResult:
    changes = {k: v for k, v in settings.model_dump().items() if v is not None}
    with pdf.open_pdf(ctx.input) as doc, pdf.pdf_errors():
        before = _current(doc)
        if changes:
            # The XMP packet first (it syncs from docinfo for the fields it knows), then docinfo itself.
            with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
                xmp = {"title": "dc:title", "author": "dc:creator", "subject": "dc:description",
                       "keywords": "pdf:Keywords"}  # fmt: skip
                for name, value in changes.items():
                    key = xmp[name]
                    if value:
                        meta[key] = [value] if name == "author" else value
                    elif key in meta:
                        del meta[key]
            for name, value in changes.items():
                key = _FIELDS[name]
                if value:
                    doc.docinfo[key] = value
                elif key in doc.docinfo:
                    del doc.docinfo[key]
        after = _current(doc)
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}{'_metadata' if changes else ''}.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"metadata": after, "previous": before if changes else None, "pages": pages,
                               "changed": sorted(changes)})  # fmt: skip
