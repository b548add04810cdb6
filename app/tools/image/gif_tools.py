"""GIF Tools: resize, optimize, reverse, change speed, extract frames, rotate or caption an animated GIF
(animated WebP too), frame by frame, keeping timing and looping; and /info for its frames and duration."""

from __future__ import annotations

import math
from typing import Any, Literal

import pyvips
from pydantic import Field

from app.engine.media import layout, vips
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, action, tool

MIN_DELAY_MS = 20  # browsers play anything faster than 20 ms per frame at 100 ms
DEFAULT_DELAY_MS = 100


class GifToolsSettings(ToolSettings):
    action: Literal["resize", "optimize", "reverse", "speed", "extract-frames", "rotate", "add-text"] = Field(
        "optimize", description="What to do with the animation; the settings below apply to their action"
    )
    width: int | None = Field(None, ge=1, le=4096, description="resize: target width (keeps the aspect ratio)")
    height: int | None = Field(None, ge=1, le=4096, description="resize: target height (keeps the aspect ratio)")
    percentage: float | None = Field(None, ge=1, le=400, description="resize: scale by this percentage instead")
    colors: int = Field(256, ge=2, le=256, description="optimize: palette size")
    lossy: int = Field(0, ge=0, le=100, description="optimize: allowed frame-to-frame error (0 = exact)")
    speedFactor: float = Field(1.0, ge=0.1, le=10, description="speed: 2 plays twice as fast, 0.5 half as fast")
    frameStart: int = Field(1, ge=1, description="extract-frames: first frame (1-based)")
    frameEnd: int | None = Field(None, ge=1, description="extract-frames: last frame (default: the last one)")
    angle: Literal[0, 90, 180, 270] = Field(90, description="rotate: clockwise angle")
    flip: Literal["none", "horizontal", "vertical"] = Field("none", description="rotate: mirror after rotating")
    text: str = Field("", max_length=200, description="add-text: the caption")
    fontSize: int = Field(32, ge=6, le=300, description="add-text: font size in pixels")
    color: str = Field("#FFFFFF", pattern=layout.HEX_PATTERN, description="add-text: text colour (hex)")
    position: Literal["top", "center", "bottom"] = Field("bottom", description="add-text: where the caption sits")


class Animation:
    """Frames (RGBA) with per-frame delays in ms and the loop count (0 = forever)."""

    def __init__(self, frames: list[pyvips.Image], delays: list[int], loop: int) -> None:
        self.frames, self.delays, self.loop = frames, delays, loop

    @classmethod
    def load(cls, ctx: ToolContext) -> Animation:
        source = ctx.input
        strip = vips.load(source.path, source.kind, sequential=False, all_pages=True)
        frames = [layout.to_rgba(f) for f in vips.split_pages(strip)]
        delays = list(strip.get("delay")) if strip.get_typeof("delay") else []
        delays = (delays + [DEFAULT_DELAY_MS] * len(frames))[: len(frames)]
        loop = int(strip.get("loop")) if strip.get_typeof("loop") else 0
        return cls(frames, [d if d > 0 else DEFAULT_DELAY_MS for d in delays], loop)

    def strip(self) -> pyvips.Image:
        out = vips.join_pages(self.frames).copy()
        out.set_type(pyvips.GValue.gint_type, "page-height", self.frames[0].height)
        out.set_type(pyvips.GValue.array_int_type, "delay", self.delays)
        out.set_type(pyvips.GValue.gint_type, "loop", self.loop)
        return out

    def info(self) -> dict[str, Any]:
        duration = sum(self.delays)
        return {
            "frameCount": len(self.frames),
            "width": self.frames[0].width,
            "height": self.frames[0].height,
            "duration": duration,
            "delays": self.delays,
            "loop": self.loop,
            "fps": round(len(self.frames) * 1000 / duration, 2) if duration else None,
        }


def _resize(anim: Animation, s: GifToolsSettings) -> None:
    w, h = anim.frames[0].width, anim.frames[0].height
    if s.percentage is not None:
        factor = s.percentage / 100
    elif s.width and s.height:
        factor = min(s.width / w, s.height / h)
    elif s.width or s.height:
        factor = s.width / w if s.width else (s.height or h) / h
    else:
        raise ToolFailure("resize needs a width, height or percentage")
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    anim.frames = [layout.resize(f, factor).gravity("north-west", *size, extend="copy") for f in anim.frames]


def _rotate(anim: Animation, s: GifToolsSettings) -> None:
    def turn(frame: pyvips.Image) -> pyvips.Image:
        if s.angle:
            frame = getattr(frame, f"rot{s.angle}")()
        if s.flip != "none":
            frame = frame.flip(s.flip)
        return frame

    anim.frames = [turn(f) for f in anim.frames]


def _caption(anim: Animation, s: GifToolsSettings) -> None:
    if not s.text.strip():
        raise ToolFailure("add-text needs a text")
    width, height = anim.frames[0].width, anim.frames[0].height
    text = layout.text_layer(s.text.strip(), s.fontSize, layout.parse_colour(s.color), bold=True, stroke=(0, 0, 0, 255))
    if text.width > width - 4:
        text = layout.resize(text, (width - 4) / text.width)
    x = (width - text.width) // 2
    margin = max(2, height // 20)
    y = {"top": margin, "center": (height - text.height) // 2, "bottom": height - text.height - margin}[s.position]
    anim.frames = [layout.composite(f, [(text, x, max(0, y))]) for f in anim.frames]


@tool(
    id="gif-tools",
    section="image",
    title="GIF Tools",
    description="Resize, optimize, reverse, change speed, extract frames, rotate or add text to animated GIFs.",
    settings=GifToolsSettings,
    inputs=Inputs(kinds=("gif", "webp")),
    formats=("gif", "webp"),
)
def run(ctx: ToolContext, settings: GifToolsSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.FORMATS["webp" if source.kind == "webp" else "gif"]
    with vips.vips_errors():
        anim = Animation.load(ctx)
        ctx.progress(20, f"{settings.action} ({len(anim.frames)} frames)")
        if settings.action == "extract-frames":
            return _extract(ctx, anim, settings)
        extra: dict[str, Any] = {}
        if settings.action == "resize":
            _resize(anim, settings)
        elif settings.action == "reverse":
            anim.frames.reverse()
            anim.delays.reverse()
        elif settings.action == "speed":
            anim.delays = [max(MIN_DELAY_MS, round(d / settings.speedFactor)) for d in anim.delays]
        elif settings.action == "rotate":
            _rotate(anim, settings)
        elif settings.action == "add-text":
            _caption(anim, settings)
        elif fmt.name == "gif":  # optimize
            extra = {
                "bitdepth": max(1, math.ceil(math.log2(settings.colors))),
                "effort": 10,
                "interframe_maxerror": settings.lossy * 0.32,
                "interpalette_maxerror": 3 + settings.lossy * 0.5,
            }
        else:
            extra = {"effort": 6, "min_size": True}
        ctx.check_cancelled()
        out = vips.save(anim.strip(), vips.output_path(ctx, fmt.ext, settings.action.replace("-", "_")), fmt, **extra)
    return ToolResult([out], {"action": settings.action, **anim.info()})


def _extract(ctx: ToolContext, anim: Animation, s: GifToolsSettings) -> ToolResult:
    last = min(s.frameEnd or len(anim.frames), len(anim.frames))
    if s.frameStart > last:
        raise ToolFailure(f"frameStart is past the last frame ({len(anim.frames)})")
    digits = max(3, len(str(last)))
    png = vips.FORMATS["png"]
    files = []
    for index in range(s.frameStart - 1, last):
        ctx.check_cancelled()
        name = f"{ctx.input.stem}_frame_{index + 1:0{digits}d}.png"
        files.append((name, vips.encode(vips.prepare_for(anim.frames[index], png), png)))
    out = layout.write_zip(vips.output_path(ctx, "zip", "frames"), files)
    return ToolResult([out], {"action": "extract-frames", "extracted": len(files), **anim.info()})


@action("gif-tools", "info", summary="Get GIF metadata (frame count, dimensions, duration, loop)")
def info(ctx: ToolContext, settings: GifToolsSettings) -> ToolResult:
    with vips.vips_errors():
        return ToolResult([], Animation.load(ctx).info())
