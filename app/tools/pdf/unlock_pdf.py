"""Unlock PDF: remove the encryption of a PDF, given its password."""

from __future__ import annotations

from pydantic import Field

from app.engine.media import pdf
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class UnlockPdfSettings(ToolSettings):
    password: str = Field(
        "", max_length=127, description="The PDF's user or owner password (empty for files that only restrict rights)"
    )


@tool(
    id="unlock-pdf",
    section="pdf",
    title="Unlock PDF",
    description="Remove a PDF's password and restrictions, given its password.",
    settings=UnlockPdfSettings,
    inputs=Inputs(kinds=("pdf",)),
    formats=("pdf",),
)
def run(ctx: ToolContext, settings: UnlockPdfSettings) -> ToolResult:
    with pdf.open_pdf(ctx.input, password=settings.password, allow_encrypted=True) as doc:
        was_encrypted = doc.is_encrypted
        path = pdf.save_pdf(doc, ctx.output_path(f"{ctx.input.stem}_unlocked.pdf"))
        pages = len(doc.pages)
    return ToolResult([path], {"pages": pages, "wasEncrypted": was_encrypted})
