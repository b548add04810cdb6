"""OCR / Text Extraction: the text of an image, with each line's box and confidence, and a .txt file.

quality fast: Tesseract; balanced: PaddleOCR's PP-OCRv6 models on ONNX Runtime (RapidOCR); best:
PP-OCRv6 plus the text-direction classifier, big pages searched for text in overlapping tiles at full
resolution, and small text read again from an enlargement.
enhance: grey, full-range contrast and small images enlarged 2x before reading.
Korean (ko) is always read by Tesseract: the PP-OCRv6 models have no Hangul.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.ai import bundles
from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

Language = Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko"]


class OcrSettings(ToolSettings):
    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced",
        description="fast: Tesseract; balanced: PP-OCRv6 (PaddleOCR models); "
        "best: PP-OCRv6 with text-direction detection and small text enlarged",
    )
    language: Language = Field(
        "auto",
        description="Language of the text. PP-OCRv6 reads Latin, Chinese and Japanese scripts in one model; "
        "Tesseract (fast, and always for ko) uses it to choose its dictionaries (auto: en+de+fr+es)",
    )
    enhance: bool = Field(False, description="Grey, stretch the contrast and enlarge small images before reading")


def uses_paddle(settings: OcrSettings) -> bool:
    """balanced and best read with PP-OCRv6, except Korean (no Hangul in those models: Tesseract)."""
    return settings.quality != "fast" and settings.language != "ko"


def check_models(settings: OcrSettings) -> None:
    """501 FEATURE_NOT_INSTALLED at once when the PP-OCR models the quality needs are missing."""
    if uses_paddle(settings):
        for part in ("det", "rec", "cls") if settings.quality == "best" else ("det", "rec"):
            bundles.model_path(f"ppocr-{part}", "ocr")


@tool(
    id="ocr",
    section="image",
    title="OCR / Text Extraction",
    description="Read the text in an image: the answer has the text and each line's box and confidence; the "
    "download is a .txt file. Tesseract (fast) or PaddleOCR's PP-OCRv6 models (balanced, best).",
    settings=OcrSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff", "bmp"),
    long=True,
    feature="ocr",
    preflight=check_models,
)
def run(ctx: ToolContext, settings: OcrSettings) -> ToolResult:
    from app.engine.media import adjust, ocr

    language = settings.language
    engine = "rapidocr" if uses_paddle(settings) else "tesseract"
    ctx.progress(5, "Loading the image")
    with vips.vips_errors():
        source = ctx.input
        image = adjust.to_rgb8(vips.first_page(vips.load(source.path, source.kind, sequential=False)))
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])  # text on a transparent sheet: on white
        factor = 1.0
        if settings.enhance:
            image, factor = ocr.enhance(image)
        image = image.copy_memory()
    ctx.check_cancelled()
    ctx.progress(20, "Reading the text")
    if engine == "tesseract":
        lines = ocr.tesseract(ctx, image, language)
    else:
        lines = ocr.rapid(image.numpy(), best=settings.quality == "best", ctx=ctx)
    if factor != 1.0:
        lines = [line.scaled(factor) for line in lines]
    text = ocr.full_text(lines)
    out = ctx.output_path(f"{source.stem}.txt")
    out.write_text(text + ("\n" if text else ""), encoding="utf-8")
    ctx.progress(100, "Done")
    data = {
        "text": text,
        "lines": [line.as_json() for line in lines],
        "engine": engine,
        "quality": settings.quality,
        "language": language,
        "enhanced": settings.enhance,
    }
    if engine == "tesseract" and settings.quality != "fast":
        data["note"] = "Korean is read by Tesseract: the PP-OCRv6 models have no Hangul"
    return ToolResult([out], data)
