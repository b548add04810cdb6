"""Meme Generator: bold stroked captions on a built-in template (JSON body with templateId) or on an
uploaded image (multipart), in text boxes from the template or from a preset layout."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyvips
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.engine.media import draw, memes, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

Layout = Literal["top-bottom", "top-only", "bottom-only", "center", "side-by-side"]
MemeFont = Literal["anton", "arial-black", "comic-sans", "montserrat", "bebas-neue", "permanent-marker", "roboto"]

# Text boxes for custom images, in percent of the image (x, y, width, height).
LAYOUTS: dict[str, tuple[memes.TextBox, ...]] = {
    "top-bottom": (memes.TextBox("top", 5, 2, 90, 20), memes.TextBox("bottom", 5, 78, 90, 20)),
    "top-only": (memes.TextBox("top", 5, 2, 90, 25),),
    "bottom-only": (memes.TextBox("bottom", 5, 75, 90, 23),),
    "center": (memes.TextBox("center", 10, 35, 80, 30),),
    "side-by-side": (memes.TextBox("left", 2, 35, 46, 30), memes.TextBox("right", 52, 35, 46, 30)),
}
MIN_SIZE = 8


class MemeText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, max_length=50, description="Text box id (e.g. top, bottom, left)")
    text: str = Field("", max_length=500)


class MemeSettings(ToolSettings):
    templateId: str | None = Field(
        None, max_length=100, description="A built-in template (GET /api/v1/meme-templates); else upload a file"
    )
    textLayout: Layout = Field("top-bottom", description="Text boxes for an uploaded image")
    textBoxes: list[MemeText] = Field(default_factory=list, max_length=20, description="Text for each box, by id")
    fontFamily: MemeFont = Field("anton", description="Font (rendered with the closest freely licensed face)")
    fontSize: int | None = Field(None, ge=8, le=200, description="Font size in pixels (default: fit each box)")
    textColor: draw.Color = Field("#ffffff", description="Text colour")
    strokeColor: draw.Color = Field("#000000", description="Outline colour")
    textAlign: draw.Align = Field("center", description="Horizontal alignment in each box")
    allCaps: bool = Field(True, description="Upper-case the text")

    @field_validator("templateId")
    @classmethod
    def _known_template(cls, value: str | None) -> str | None:
        if value is not None and memes.template(value) is None:
            known = ", ".join(memes.templates())
            raise ValueError(f"unknown template {value!r} (available: {known})")
        return value


def assign(boxes: tuple[memes.TextBox, ...], texts: list[MemeText]) -> list[tuple[memes.TextBox, str]]:
    """Pairs texts with boxes by id; texts with ids no box has fill the remaining boxes in order."""
    by_id = {t.id: t.text for t in texts}
    spare = [t.text for t in texts if t.id not in {b.id for b in boxes}]
    pairs = []
    for b in boxes:
        text = by_id[b.id] if b.id in by_id else (spare.pop(0) if spare else "")
        if text.strip():
            pairs.append((b, text))
    return pairs


def fit(text: str, settings: MemeSettings, width: int, height: int) -> tuple[str, int]:
    """The wrapped text and the font size: the user's, or the largest that fits the box."""
    size = settings.fontSize or max(MIN_SIZE, min(height, 160))
    while True:
        font = draw.load_font(settings.fontFamily, size)
        stroke = max(1, round(size / 14))
        wrapped = draw.wrap(text, font, width, stroke)
        w, h = draw.text_size(wrapped, font, stroke, spacing=0.1)
        if settings.fontSize or size <= MIN_SIZE or (w <= width and h <= height):
            return wrapped, size
        size = max(MIN_SIZE, int(size * 0.9))


def caption(
    box: memes.TextBox, text: str, settings: MemeSettings, size: tuple[int, int]
) -> tuple[pyvips.Image, int, int, int]:
    """One box's text as an RGBA layer and where it goes: (layer, x, y, font size)."""
    width, height = size
    left, top = round(box.x * width / 100), round(box.y * height / 100)
    bw, bh = max(1, round(box.width * width / 100)), max(1, round(box.height * height / 100))
    if settings.allCaps:
        text = text.upper()
    wrapped, font_size = fit(text, settings, bw, bh)
    layer = draw.to_vips(
        draw.render_text(
            wrapped,
            settings.fontFamily,
            font_size,
            draw.parse_color(settings.textColor),
            stroke=max(1, round(font_size / 14)),
            stroke_fill=draw.parse_color(settings.strokeColor),
            align=settings.textAlign,
            spacing=0.1,
        )
    )
    x = {"left": left, "center": left + (bw - layer.width) // 2, "right": left + bw - layer.width}[settings.textAlign]
    # Top captions hug the top edge, bottom ones the bottom edge; the rest sit in the middle of their box.
    if box.id == "top":
        y = top
    elif box.id == "bottom":
        y = top + bh - layer.height
    else:
        y = top + (bh - layer.height) // 2
    return layer, x, y, font_size


@tool(
    id="meme-generator",
    section="image",
    title="Meme Generator",
    description=(
        "Stroked meme captions on a built-in template (JSON body with templateId) or on your own image "
        "(multipart upload) with a preset text layout."
    ),
    settings=MemeSettings,
    inputs=Inputs(kinds=IMAGE_KINDS, min_files=0, max_files=1),
    formats=("jpeg", "png", "webp", "gif"),
)
def run(ctx: ToolContext, settings: MemeSettings) -> ToolResult:
    chosen = memes.template(settings.templateId) if settings.templateId else None
    if chosen is not None:
        path, kind, boxes = memes.TEMPLATES_DIR / "full" / chosen.filename, "png", chosen.textBoxes
        fmt, name = vips.FORMATS["png"], f"meme-{chosen.id}.png"
    elif ctx.inputs:
        source = ctx.input
        path, kind, boxes = Path(source.path), source.kind, LAYOUTS[settings.textLayout]
        fmt = vips.output_format(kind)
        name = f"{source.stem}_meme.{fmt.ext}"
    else:
        raise InputRejected("Send a templateId or upload an image", 400, "NO_FILE")
    ctx.progress(5, "Writing the captions")
    with vips.vips_errors():
        image = vips.load(path, kind, all_pages=fmt.animated)
        size = (image.width, vips.page_height(image))
        placed = [(caption(b, text, settings, size), b, text) for b, text in assign(boxes, settings.textBoxes)]

        def write(frame: pyvips.Image) -> pyvips.Image:
            for (layer, x, y, _), _box, _text in placed:
                frame = draw.overlay(frame, layer, x, y)
            return frame

        result = vips.map_pages(image, write)
        ctx.check_cancelled()
        out = vips.save(result, ctx.output_path(name), fmt)
    data = {
        "templateId": chosen.id if chosen else None,
        "width": size[0],
        "height": size[1],
        "textBoxes": [
            {"id": b.id, "text": text, "x": x, "y": y, "width": layer.width, "height": layer.height, "fontSize": fs}
            for (layer, x, y, fs), b, text in placed
        ],
    }
    ctx.progress(100, "Done")
    return ToolResult([out], data)
