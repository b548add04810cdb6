"""Convert Document: Word, OpenDocument, RTF and plain text into one another, with LibreOffice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import office
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool

KINDS = ("docx", "odt", "rtf", "txt")


class ConvertDocumentSettings(ToolSettings):
    format: Literal["docx", "odt", "rtf", "txt"] = Field("docx", description="Output format")


@tool(
    id="convert-document",
    section="files",
    title="Convert Document",
    description="Convert a text document between Word (.docx), OpenDocument (.odt), RTF and plain text with "
    "LibreOffice (headless, macros off).",
    settings=ConvertDocumentSettings,
    inputs=Inputs(kinds=KINDS),
    formats=KINDS,
    long=True,
    produces=tuple(Produces(fmt, {"format": fmt}, preference=10) for fmt in ("docx", "odt", "rtf", "txt")),
)
def run(ctx: ToolContext, settings: ConvertDocumentSettings) -> ToolResult:
    ctx.progress(5, "Converting with LibreOffice")
    out = office.soffice_convert(ctx, ctx.input, settings.format, what="Document conversion")
    return ToolResult([out], {"format": settings.format, "from": ctx.input.kind})
