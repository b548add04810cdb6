"""Convert Presentation: PowerPoint (.pptx) to OpenDocument (.odp) and back, with LibreOffice."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import office
from app.engine.tool import Inputs, Produces, ToolContext, ToolResult, ToolSettings, tool

KINDS = ("pptx", "odp")


class ConvertPresentationSettings(ToolSettings):
    format: Literal["pptx", "odp"] = Field("pptx", description="Output format")


@tool(
    id="convert-presentation",
    section="files",
    title="Convert Presentation",
    description="Convert a presentation between PowerPoint (.pptx) and OpenDocument (.odp) with LibreOffice "
    "(headless, macros off).",
    settings=ConvertPresentationSettings,
    inputs=Inputs(kinds=KINDS),
    formats=KINDS,
    long=True,
    produces=tuple(Produces(fmt, {"format": fmt}, preference=10) for fmt in ("pptx", "odp")),
)
def run(ctx: ToolContext, settings: ConvertPresentationSettings) -> ToolResult:
    ctx.progress(5, "Converting with LibreOffice")
    out = office.soffice_convert(ctx, ctx.input, settings.format, what="Presentation conversion")
    return ToolResult([out], {"format": settings.format, "from": ctx.input.kind})
