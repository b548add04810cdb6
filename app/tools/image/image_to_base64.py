"""Image to Base64: the file as a data URI or plain Base64 string (in the answer and as a .txt)."""

from __future__ import annotations

import base64
from typing import Literal

import pyvips
from pydantic import Field

from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS, mime_for
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# Longer strings are left out of the JSON answer (it is stored with the job); the .txt always has it.
INLINE_LIMIT = 1_000_000


class ImageToBase64Settings(ToolSettings):
    format: Literal["data-uri", "plain"] = Field("data-uri", description="A data: URI or the bare Base64 text")
    mimeType: str | None = Field(
        None,
        pattern=r"^[a-z]+/[a-z0-9.+-]+$",
        max_length=100,
        description="MIME type for the data URI (default: detected from the file's content)",
    )


@tool(
    id="image-to-base64",
    section="image",
    title="Image to Base64",
    description="Encode an image as a data URI or plain Base64 (returned inline and as a .txt file).",
    settings=ImageToBase64Settings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "gif", "svg"),
)
def run(ctx: ToolContext, settings: ImageToBase64Settings) -> ToolResult:
    source = ctx.input
    with vips.vips_errors():
        # The bytes go out unchanged, but a broken image should not be handed on as if it were fine:
        # a small shrink-on-load thumbnail reads the whole file and fails on damage.
        pyvips.Image.thumbnail(str(source.path), 32, fail_on="truncated").avg()
        width, height = vips.upright_size(source.path)
    mime = settings.mimeType or mime_for(source.kind)
    encoded = base64.b64encode(source.path.read_bytes()).decode("ascii")
    text = f"data:{mime};base64,{encoded}" if settings.format == "data-uri" else encoded
    out = vips.output_path(ctx, "txt", "base64")
    out.write_text(text, encoding="ascii")
    inline = len(text) <= INLINE_LIMIT
    data = {
        "base64": text if inline else None,
        "inlined": inline,
        "format": settings.format,
        "mimeType": mime,
        "length": len(text),
        "width": width,
        "height": height,
    }
    return ToolResult([out], data)
