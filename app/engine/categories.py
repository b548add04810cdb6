"""The catalog's categories and icons: which group a client shows each tool under, and its picture.

The categories are the seed's headings, in its order. A tool may declare its own `category` and
`icon`; when it does not, it gets one from here: the seed's per-tool placement first, then its
section's default (so a tool added later, or one from TOOL_MODULES, still lands in a sensible group).
Icons are symbol ids in the one SVG sprite the browser UI ships (app/web/static/icons/sprite.svg).
"""

from __future__ import annotations

import re

CATEGORIES: tuple[str, ...] = (
    "Essentials",
    "Optimization",
    "Adjustments",
    "AI Tools",
    "Watermark & Overlay",
    "Utilities",
    "Layout & Composition",
    "Format & Conversion",
    "Video",
    "Audio",
    "Document",
    "File",
)


def category_slug(category: str) -> str:
    """A stable id for URLs and element ids: "Watermark & Overlay" -> "watermark-overlay"."""
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-")


# Where a tool of each section goes when the seed does not name it.
SECTION_DEFAULTS: dict[str, str] = {
    "image": "Utilities",
    "video": "Video",
    "audio": "Audio",
    "pdf": "Document",
    "files": "File",
}

# The seed's tables (Tools Reference), for the tools whose group differs from their section's default.
_PLACEMENT: dict[str, tuple[str, ...]] = {
    "Essentials": ("resize", "crop", "rotate", "convert", "compress"),
    "Optimization": ("optimize-for-web", "strip-metadata", "edit-metadata", "bulk-rename", "image-to-pdf", "favicon"),
    "Adjustments": (
        "adjust-colors",
        "sharpening",
        "replace-color",
        "color-blindness",
        "duotone",
        "pixelate",
        "vignette",
    ),
    "AI Tools": (
        "remove-background",
        "upscale",
        "erase-object",
        "ocr",
        "blur-faces",
        "smart-crop",
        "image-enhancement",
        "enhance-faces",
        "colorize",
        "noise-removal",
        "red-eye-removal",
        "restore-photo",
        "passport-photo",
        "content-aware-resize",
        "transparency-fixer",
        "background-replace",
        "blur-background",
        "ai-canvas-expand",
    ),
    "Watermark & Overlay": ("watermark-text", "watermark-image", "text-overlay", "compose", "meme-generator"),
    "Layout & Composition": (
        "collage",
        "stitch",
        "split",
        "border",
        "beautify",
        "circle-crop",
        "image-pad",
        "sprite-sheet",
    ),
    "Format & Conversion": ("svg-to-raster", "vectorize", "gif-tools", "pdf-to-image", "gif-webp"),
    # Office and markup converters live in the files section but are documents to a user.
    "Document": (
        "convert-document",
        "convert-presentation",
        "convert-spreadsheet",
        "excel-to-pdf",
        "word-to-pdf",
        "powerpoint-to-pdf",
        "html-to-pdf",
        "markdown-to-docx",
        "markdown-to-html",
        "markdown-to-pdf",
        "epub-convert",
        "to-epub",
    ),
}
TOOL_CATEGORY: dict[str, str] = {tool_id: category for category, ids in _PLACEMENT.items() for tool_id in ids}

# One symbol per category ("cat-" and its slug), for every tool without a picture of its own.
CATEGORY_ICONS: dict[str, str] = {category: "cat-" + category_slug(category) for category in CATEGORIES}


# Specific pictures for common tools (symbol id -> tools).
_ICON_TOOLS: dict[str, tuple[str, ...]] = {
    "resize": ("resize", "resize-video", "content-aware-resize"),
    "crop": ("crop", "crop-video", "crop-pdf", "smart-crop", "circle-crop"),
    "rotate": ("rotate", "rotate-video", "rotate-pdf"),
    "compress": ("compress", "compress-video", "compress-pdf", "optimize-for-web"),
    "convert": ("convert", "convert-video", "convert-audio", "convert-document", "gif-webp"),
    "merge": ("merge-pdf", "merge-videos", "merge-audio", "merge-csvs", "stitch", "collage"),
    "split": ("split", "split-pdf", "split-audio", "split-csv"),
    "text": ("ocr", "ocr-pdf", "pdf-to-text", "text-overlay", "watermark-text"),
    "lock": ("protect-pdf", "unlock-pdf", "redact-pdf"),
    "qr": ("qr-generate", "barcode-generate", "barcode-read"),
    "palette": ("color-palette", "adjust-colors", "replace-color", "duotone", "colorize"),
    "info": ("info", "histogram", "pdf-metadata", "video-metadata", "audio-metadata", "edit-metadata"),
    "scissors": ("trim-video", "trim-audio", "remove-pages", "extract-pages", "ringtone-maker"),
    "subtitles": ("auto-subtitles", "burn-subtitles", "embed-subtitles", "extract-subtitles", "transcribe-audio"),
    "archive": ("create-zip", "extract-zip"),
    "table": ("csv-excel", "csv-json", "xml-to-csv", "chart-maker", "excel-to-pdf", "convert-spreadsheet"),
    "eraser": ("remove-background", "erase-object", "strip-metadata", "background-replace", "blur-background"),
    "volume": ("volume-adjust", "normalize-audio", "video-loudnorm", "mute-video", "noise-reduction"),
}
TOOL_ICON: dict[str, str] = {tool_id: icon for icon, ids in _ICON_TOOLS.items() for tool_id in ids}


def category_for(tool_id: str, section: str) -> str:
    """The seed's group for a tool, else its section's default."""
    return TOOL_CATEGORY.get(tool_id) or SECTION_DEFAULTS.get(section, "Utilities")


def icon_for(tool_id: str, category: str) -> str:
    """The tool's own picture when it has one, else its category's."""
    return TOOL_ICON.get(tool_id) or CATEGORY_ICONS.get(category, "cat-utilities")
