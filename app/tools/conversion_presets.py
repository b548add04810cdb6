"""One-click "X to Y" conversion presets: 83 catalog tools generated from the PRESETS table below.

Each preset is a tool of its own (catalog, OpenAPI, UI, batch, pipelines) that accepts one input type
only (judged by content, as everywhere: a PNG named .jpg is a PNG and is refused by jpg-to-png with
415) and runs its base tool with the output format forced and only a few settings open. Adding a row
adds a preset; nothing else needs editing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from app.engine import registry
from app.engine.tool import Inputs, NoSettings, Tool, ToolContext, ToolResult, ToolSettings

CATEGORY = "Format & Conversion"


@dataclass(frozen=True)
class Preset:
    id: str
    section: str  # where the base tool lives
    input: str  # an input type of INPUT_TYPES
    output: str  # shown in the title ("png", "mp4", ...)
    base: str  # the tool it runs
    forced: dict[str, Any] = field(default_factory=dict)  # settings of the base tool it fixes


@dataclass(frozen=True)
class InputType:
    label: str
    kinds: tuple[str, ...]  # content kinds (sniff.py) it accepts
    extensions: tuple[str, ...]  # for search and the UI's file picker


INPUT_TYPES: dict[str, InputType] = {
    "jpg": InputType("JPG", ("jpeg",), ("jpg", "jpeg")),
    "png": InputType("PNG", ("png",), ("png",)),
    "webp": InputType("WebP", ("webp",), ("webp",)),
    "gif": InputType("GIF", ("gif",), ("gif",)),
    "heic": InputType("HEIC", ("heif",), ("heic", "heif")),
    "tiff": InputType("TIFF", ("tiff",), ("tif", "tiff")),
    "psd": InputType("PSD", ("psd",), ("psd",)),
    "eps": InputType("EPS", ("eps",), ("eps",)),
    "svg": InputType("SVG", ("svg", "svgz"), ("svg", "svgz")),
    "pdf": InputType("PDF", ("pdf",), ("pdf",)),
    "mp4": InputType("MP4", ("mp4",), ("mp4",)),
    "mov": InputType("MOV", ("mov",), ("mov",)),
    "webm": InputType("WebM", ("webm",), ("webm",)),
    "mkv": InputType("MKV", ("mkv",), ("mkv",)),
    "avi": InputType("AVI", ("avi",), ("avi",)),
    "m4a": InputType("M4A", ("m4a",), ("m4a",)),
    "aac": InputType("AAC", ("aac",), ("aac",)),
    "ogg": InputType("OGG", ("ogg",), ("ogg",)),
    "wav": InputType("WAV", ("wav",), ("wav",)),
    "mp3": InputType("MP3", ("mp3",), ("mp3",)),
    "flac": InputType("FLAC", ("flac",), ("flac",)),
    "excel": InputType("Excel", ("xlsx", "xls"), ("xlsx", "xls")),
}


class QualitySettings(ToolSettings):
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy formats (tool default if unset)")


class ImageEncodeSettings(QualitySettings):
    effort: int | None = Field(
        None,
        ge=0,
        le=9,
        description="Encoder effort for AVIF (0-9): higher is slower, a little smaller; tool default if unset",
    )


class WebpEncodeSettings(QualitySettings):
    effort: int | None = Field(
        None, ge=0, le=6, description="Encoder effort (0-6): higher is slower, a little smaller; 4 if unset"
    )


class VideoQualitySettings(ToolSettings):
    quality: Literal["high", "balanced", "small"] | None = Field(
        None, description="high (larger files), balanced, or small (smaller files); balanced if unset"
    )
    speed: Literal["fast", "balanced", "thorough"] | None = Field(
        None, description="Encoding speed: fast (larger file), balanced, or thorough (smaller file); balanced if unset"
    )


class PageSettings(ToolSettings):
    pageSize: Literal["A4", "Letter", "A3", "A5"] | None = Field(None, description="Page size (A4 if unset)")
    orientation: Literal["portrait", "landscape"] | None = Field(None, description="Page orientation")


# The few settings a preset passes on, per base tool; every other base tool's presets take none.
OPEN_SETTINGS: dict[str, type[ToolSettings]] = {
    "convert": ImageEncodeSettings,
    "svg-to-raster": QualitySettings,
    "convert-video": VideoQualitySettings,
    "image-to-pdf": PageSettings,
}

PRESETS: tuple[Preset, ...] = (
    Preset("jpg-to-png", "image", "jpg", "png", "convert", {"format": "png"}),
    Preset("png-to-jpg", "image", "png", "jpg", "convert", {"format": "jpg"}),
    Preset("jpg-to-webp", "image", "jpg", "webp", "convert", {"format": "webp"}),
    Preset("png-to-webp", "image", "png", "webp", "convert", {"format": "webp"}),
    Preset("webp-to-jpg", "image", "webp", "jpg", "convert", {"format": "jpg"}),
    Preset("webp-to-png", "image", "webp", "png", "convert", {"format": "png"}),
    Preset("jpg-to-avif", "image", "jpg", "avif", "convert", {"format": "avif"}),
    Preset("png-to-avif", "image", "png", "avif", "convert", {"format": "avif"}),
    Preset("webp-to-avif", "image", "webp", "avif", "convert", {"format": "avif"}),
    Preset("heic-to-jpg", "image", "heic", "jpg", "convert", {"format": "jpg"}),
    Preset("heic-to-png", "image", "heic", "png", "convert", {"format": "png"}),
    Preset("heic-to-avif", "image", "heic", "avif", "convert", {"format": "avif"}),
    Preset("jpg-to-gif", "image", "jpg", "gif", "convert", {"format": "gif"}),
    Preset("png-to-gif", "image", "png", "gif", "convert", {"format": "gif"}),
    Preset("gif-to-jpg", "image", "gif", "jpg", "convert", {"format": "jpg"}),
    Preset("gif-to-png", "image", "gif", "png", "convert", {"format": "png"}),
    Preset("webp-to-gif", "image", "webp", "gif", "convert", {"format": "gif"}),
    Preset("jpg-to-tiff", "image", "jpg", "tiff", "convert", {"format": "tiff"}),
    Preset("png-to-tiff", "image", "png", "tiff", "convert", {"format": "tiff"}),
    Preset("tiff-to-jpg", "image", "tiff", "jpg", "convert", {"format": "jpg"}),
    Preset("tiff-to-png", "image", "tiff", "png", "convert", {"format": "png"}),
    Preset("psd-to-jpg", "image", "psd", "jpg", "convert", {"format": "jpg"}),
    Preset("psd-to-png", "image", "psd", "png", "convert", {"format": "png"}),
    Preset("png-to-eps", "image", "png", "eps", "convert", {"format": "eps"}),
    Preset("jpg-to-eps", "image", "jpg", "eps", "convert", {"format": "eps"}),
    Preset("eps-to-png", "image", "eps", "png", "convert", {"format": "png"}),
    Preset("eps-to-jpg", "image", "eps", "jpg", "convert", {"format": "jpg"}),
    Preset("png-to-svg", "image", "png", "svg", "vectorize", {}),
    Preset("jpg-to-svg", "image", "jpg", "svg", "vectorize", {}),
    Preset("tiff-to-svg", "image", "tiff", "svg", "vectorize", {}),
    Preset("psd-to-svg", "image", "psd", "svg", "vectorize", {}),
    Preset("eps-to-svg", "image", "eps", "svg", "vectorize", {}),
    Preset("svg-to-png", "image", "svg", "png", "svg-to-raster", {"format": "png"}),
    Preset("svg-to-jpg", "image", "svg", "jpg", "svg-to-raster", {"format": "jpeg"}),
    Preset("jpg-to-pdf", "image", "jpg", "pdf", "image-to-pdf", {}),
    Preset("png-to-pdf", "image", "png", "pdf", "image-to-pdf", {}),
    Preset("heic-to-pdf", "image", "heic", "pdf", "image-to-pdf", {}),
    Preset("tiff-to-pdf", "image", "tiff", "pdf", "image-to-pdf", {}),
    Preset("webp-to-pdf", "image", "webp", "pdf", "image-to-pdf", {}),
    Preset("gif-to-pdf", "image", "gif", "pdf", "image-to-pdf", {}),
    Preset("eps-to-pdf", "image", "eps", "pdf", "image-to-pdf", {}),
    Preset("pdf-to-jpg", "pdf", "pdf", "jpg", "pdf-to-image", {"format": "jpg"}),
    Preset("pdf-to-png", "pdf", "pdf", "png", "pdf-to-image", {"format": "png"}),
    Preset("pdf-to-tiff", "pdf", "pdf", "tiff", "pdf-to-image", {"format": "tiff"}),
    Preset("mov-to-mp4", "video", "mov", "mp4", "convert-video", {"format": "mp4"}),
    Preset("webm-to-mp4", "video", "webm", "mp4", "convert-video", {"format": "mp4"}),
    Preset("mkv-to-mp4", "video", "mkv", "mp4", "convert-video", {"format": "mp4"}),
    Preset("avi-to-mp4", "video", "avi", "mp4", "convert-video", {"format": "mp4"}),
    Preset("mp4-to-mov", "video", "mp4", "mov", "convert-video", {"format": "mov"}),
    Preset("mp4-to-webm", "video", "mp4", "webm", "convert-video", {"format": "webm"}),
    Preset("webm-to-mov", "video", "webm", "mov", "convert-video", {"format": "mov"}),
    Preset("mkv-to-mov", "video", "mkv", "mov", "convert-video", {"format": "mov"}),
    Preset("avi-to-mov", "video", "avi", "mov", "convert-video", {"format": "mov"}),
    Preset("mp4-to-avi", "video", "mp4", "avi", "convert-video", {"format": "avi"}),
    Preset("mov-to-avi", "video", "mov", "avi", "convert-video", {"format": "avi"}),
    Preset("mkv-to-avi", "video", "mkv", "avi", "convert-video", {"format": "avi"}),
    Preset("avi-to-mkv", "video", "avi", "mkv", "convert-video", {"format": "mkv"}),
    Preset("mp4-to-gif", "video", "mp4", "gif", "video-to-gif", {}),
    Preset("mov-to-gif", "video", "mov", "gif", "video-to-gif", {}),
    Preset("mkv-to-gif", "video", "mkv", "gif", "video-to-gif", {}),
    Preset("avi-to-gif", "video", "avi", "gif", "video-to-gif", {}),
    Preset("gif-to-mp4", "video", "gif", "mp4", "gif-to-video", {"format": "mp4"}),
    Preset("gif-to-webm", "video", "gif", "webm", "gif-to-video", {"format": "webm"}),
    Preset("gif-to-mov", "video", "gif", "mov", "gif-to-video", {"format": "mov"}),
    Preset("mp4-to-mp3", "video", "mp4", "mp3", "extract-audio", {"format": "mp3"}),
    Preset("mov-to-mp3", "video", "mov", "mp3", "extract-audio", {"format": "mp3"}),
    Preset("mkv-to-mp3", "video", "mkv", "mp3", "extract-audio", {"format": "mp3"}),
    Preset("webm-to-mp3", "video", "webm", "mp3", "extract-audio", {"format": "mp3"}),
    Preset("avi-to-mp3", "video", "avi", "mp3", "extract-audio", {"format": "mp3"}),
    Preset("mp4-to-wav", "video", "mp4", "wav", "extract-audio", {"format": "wav"}),
    Preset("mov-to-wav", "video", "mov", "wav", "extract-audio", {"format": "wav"}),
    Preset("mp4-to-ogg", "video", "mp4", "ogg", "extract-audio", {"format": "ogg"}),
    Preset("m4a-to-mp3", "audio", "m4a", "mp3", "convert-audio", {"format": "mp3"}),
    Preset("m4a-to-wav", "audio", "m4a", "wav", "convert-audio", {"format": "wav"}),
    Preset("aac-to-mp3", "audio", "aac", "mp3", "convert-audio", {"format": "mp3"}),
    Preset("aac-to-wav", "audio", "aac", "wav", "convert-audio", {"format": "wav"}),
    Preset("aac-to-flac", "audio", "aac", "flac", "convert-audio", {"format": "flac"}),
    Preset("ogg-to-mp3", "audio", "ogg", "mp3", "convert-audio", {"format": "mp3"}),
    Preset("ogg-to-wav", "audio", "ogg", "wav", "convert-audio", {"format": "wav"}),
    Preset("wav-to-mp3", "audio", "wav", "mp3", "convert-audio", {"format": "mp3"}),
    Preset("mp3-to-wav", "audio", "mp3", "wav", "convert-audio", {"format": "wav"}),
    Preset("flac-to-mp3", "audio", "flac", "mp3", "convert-audio", {"format": "mp3"}),
    Preset("excel-to-csv", "files", "excel", "csv", "convert-spreadsheet", {"format": "csv"}),
)

_OUTPUT_LABELS = {"jpg": "JPG", "webp": "WebP", "webm": "WebM", "excel": "Excel"}


def _label(name: str) -> str:
    return INPUT_TYPES[name].label if name in INPUT_TYPES else _OUTPUT_LABELS.get(name, name.upper())


def _runner(preset: Preset, base: Tool) -> Any:
    def run(ctx: ToolContext, settings: ToolSettings) -> ToolResult:
        values = {**settings.model_dump(exclude_none=True), **preset.forced}
        return base.run(ctx, base.settings.model_validate(values))

    run.__name__ = f"run_{preset.id.replace('-', '_')}"
    return run


def as_tool(preset: Preset) -> Tool:
    """The catalog tool a preset row stands for, built on its registered base tool."""
    base = registry.get(preset.base)
    if base is None:
        raise registry.RegistryError(f"preset {preset.id!r}: unknown base tool {preset.base!r}")
    source = INPUT_TYPES[preset.input]
    settings = OPEN_SETTINGS.get(preset.base, NoSettings)
    if settings is ImageEncodeSettings and preset.forced.get("format") == "webp":
        settings = WebpEncodeSettings  # the WebP encoder's effort stops at 6: refused at the request, not the run
    forced = ", ".join(f"{k}={v}" for k, v in preset.forced.items())
    return Tool(
        id=preset.id,
        section=preset.section,
        title=f"{_label(preset.input)} to {_label(preset.output)}",
        description=f"Convert {_label(preset.input)} to {_label(preset.output)} in one click: runs {base.title} "
        f"({base.id}{', ' + forced if forced else ''}) and takes {source.label} files only.",
        settings=settings,
        inputs=Inputs(kinds=source.kinds),
        run=_runner(preset, base),
        long=base.long,
        formats=source.extensions,
        timeout_s=base.timeout_s,
        category=CATEGORY,
    )


@registry.after_load
def register_presets() -> None:
    for preset in PRESETS:
        registry.register(as_tool(preset))
