"""Smart Crop: crop to what matters.

- mode subject: the AI saliency mask (U2-Net-p) finds the subject; with `strategy` attention or entropy,
  libvips's smartcrop picks the most interesting window instead (no model needed). When the
  background-removal feature is not installed, subject mode uses attention and says so (`method`).
- mode face: the faces OpenCV (or YuNet, when installed) finds, framed by `facePreset`.
- mode trim: cuts away uniform borders (libvips find_trim; `threshold` is how far from the border
  colour a pixel must be to count as content).

The region found is padded by `padding` percent, widened to the width:height aspect when both are
given, cropped and scaled to that size. `padToSquare` and `targetSize` shape the result further.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyvips
from pydantic import Field

from app.engine.ai import bundles
from app.engine.media import adjust, segment, vips
from app.engine.media.adjust import HexOrTransparent
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_SIDE = 16384

# Frames around one face box (x, y, w, h): (width in face widths, top and bottom in face heights
# from the box's top edge). The cascade's box runs from mid-forehead to the chin.
FACE_PRESETS: dict[str, tuple[float, float, float]] = {
    "closeup": (1.5, -0.45, 1.25),
    "head-shoulders": (2.4, -0.6, 2.0),
    "upper-body": (3.4, -0.7, 3.6),
    "half-body": (4.4, -0.8, 5.2),
}


class SmartCropSettings(ToolSettings):
    mode: Literal["subject", "face", "trim"] = Field("subject", description="What to crop to")
    strategy: Literal["attention", "entropy"] | None = Field(
        None,
        description="Subject mode without AI: libvips smartcrop by attention (skin, saturation, edges) or "
        "entropy (detail); empty = the AI saliency mask",
    )
    width: int | None = Field(None, ge=1, le=MAX_SIDE, description="Output width in pixels")
    height: int | None = Field(None, ge=1, le=MAX_SIDE, description="Output height in pixels")
    padding: float = Field(10, ge=0, le=100, description="Space kept around the subject, face or content (%)")
    facePreset: Literal["closeup", "head-shoulders", "upper-body", "half-body"] = Field(
        "head-shoulders", description="How much around the face to keep (face mode)"
    )
    sensitivity: float = Field(0.5, ge=0, le=1, description="Face detection sensitivity (0-1; higher finds more)")
    threshold: int = Field(10, ge=0, le=255, description="Trim mode: how different from the border a pixel must be")
    padToSquare: bool = Field(False, description="Pad the result to a square with padColor")
    padColor: HexOrTransparent = Field("#ffffff", description="Colour for padToSquare (or 'transparent')")
    targetSize: int | None = Field(
        None, ge=1, le=MAX_SIDE, description="Longest side of the result (ignored when width and height are set)"
    )
    quality: int = Field(90, ge=1, le=100, description="Quality for lossy formats")


@dataclass
class Box:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def union(self, other: Box) -> Box:
        return Box(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def padded(self, percent: float) -> Box:
        dx, dy = self.width * percent / 100, self.height * percent / 100
        return Box(self.left - dx, self.top - dy, self.right + dx, self.bottom + dy)


def fit(box: Box, width: int, height: int, aspect: float | None) -> tuple[int, int, int, int]:
    """The crop (left, top, w, h) inside a width x height image: `box` grown to `aspect` around its
    centre, moved inside the image, and cut down (keeping the aspect) only if it is bigger."""
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    w, h = max(1.0, box.width), max(1.0, box.height)
    if aspect is not None:
        if w / h < aspect:
            w = h * aspect
        else:
            h = w / aspect
        k = min(1.0, width / w, height / h)
        w, h = w * k, h * k
    w, h = min(w, width), min(h, height)
    left = min(max(0.0, cx - w / 2), width - w)
    top = min(max(0.0, cy - h / 2), height - h)
    iw, ih = max(1, round(w)), max(1, round(h))
    il, it = min(round(left), width - iw), min(round(top), height - ih)
    return max(0, il), max(0, it), iw, ih


def trim_box(image: pyvips.Image, threshold: int) -> Box | None:
    """The content inside uniform borders: alpha decides for transparent borders, colour otherwise."""
    colour, alpha = adjust.split_alpha(adjust.to_rgb8(image))
    if alpha is not None and alpha(0, 0)[0] < 128:
        left, top, w, h = alpha.find_trim(threshold=max(threshold, 1), background=[0])
    else:
        flat = colour if alpha is None else adjust.to_rgb8(image).flatten(background=[255, 255, 255])
        corner = list(flat(0, 0))[:3]
        left, top, w, h = flat.find_trim(threshold=max(threshold, 1), background=corner)
    if w <= 0 or h <= 0:
        return None
    return Box(left, top, left + w, top + h)


def subject_box(ctx: ToolContext, image: pyvips.Image) -> Box | None:
    import numpy as np

    rgb, _ = adjust.split_alpha(adjust.to_rgb8(image))
    found = segment.subject_mask(ctx.input.path, rgb.copy_memory(), segment.U2NETP)
    strong = segment.to_array(found.mask)[:, :, 0] >= 128
    rows, columns = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    if rows.size == 0:
        return None
    return Box(float(columns[0]), float(rows[0]), float(columns[-1] + 1), float(rows[-1] + 1))


def face_box(image: pyvips.Image, preset: str, sensitivity: float) -> tuple[Box | None, int, str]:
    from app.engine.media import faces

    rgb, _ = adjust.split_alpha(adjust.to_rgb8(image))
    found = faces.detect_faces(segment.to_array(rgb), sensitivity)
    widths, top, bottom = FACE_PRESETS[preset]
    box = None
    for f in found:
        one = Box(f.cx - f.w * widths / 2, f.y + f.h * top, f.cx + f.w * widths / 2, f.y + f.h * bottom)
        box = one if box is None else box.union(one)
    return box, len(found), faces.detector_name()


def pad_square(image: pyvips.Image, colour: str) -> pyvips.Image:
    side = max(image.width, image.height)
    if image.width == image.height:
        return image
    r, g, b, a = adjust.parse_hex(colour)
    if a < 255 and not image.hasalpha():
        image = image.addalpha()
    fill = [r, g, b, a][: image.bands] if image.hasalpha() else [r, g, b][: image.bands]
    return image.embed((side - image.width) // 2, (side - image.height) // 2, side, side, background=fill)


@tool(
    id="smart-crop",
    section="image",
    title="Smart Crop",
    description="Crop to the subject (AI saliency or libvips attention/entropy), to faces with framing "
    "presets, or trim uniform borders; optional exact size, square padding and target size.",
    settings=SmartCropSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "gif", "tiff"),
)
def run(ctx: ToolContext, settings: SmartCropSettings) -> ToolResult:
    source = ctx.input
    fmt = vips.output_format(source.kind)
    s = settings
    data: dict = {"mode": s.mode}
    with vips.vips_errors():
        image = vips.first_page(vips.load(Path(source.path), source.kind, sequential=False)).copy_memory()
        ctx.progress(10, "Finding the crop")
        both = s.width is not None and s.height is not None
        method = {"subject": "saliency", "face": "face", "trim": "trim"}[s.mode]
        if s.mode == "subject" and (s.strategy is not None or not bundles.model_present("u2netp")):
            method = s.strategy or "attention"
        box: Box | None = None
        if method == "saliency":
            box = subject_box(ctx, image)
            data["model"] = "u2netp"
        elif method == "face":
            box, data["facesFound"], data["faceDetector"] = face_box(image, s.facePreset, s.sensitivity)
        elif method == "trim":
            box = trim_box(image, s.threshold)
        if box is None and method in ("saliency", "face"):
            method = "attention"  # nothing found: fall back to libvips' choice
        data["method"] = method
        ctx.check_cancelled()
        if method in ("attention", "entropy"):
            if both:
                out = image.thumbnail_image(s.width, height=s.height, crop=method)
                region = None
            else:
                side = min(image.width, image.height)
                out = image.smartcrop(side, side, interesting=method)
                region = out
            data["region"] = None
        else:
            if box is None:  # trim found no content (a blank picture): keep it whole
                box = Box(0, 0, image.width, image.height)
            box = box.padded(s.padding)
            aspect = s.width / s.height if both else None  # type: ignore[operator]
            left, top, w, h = fit(box, image.width, image.height, aspect)
            data["region"] = {"left": left, "top": top, "width": w, "height": h}
            out = image.crop(left, top, w, h)
            region = out
        if region is not None:
            if both:
                out = segment.resize_to(out, s.width, s.height, kernel="lanczos3")  # type: ignore[arg-type]
            elif s.width is not None:
                out = out.resize(s.width / out.width)
            elif s.height is not None:
                out = out.resize(s.height / out.height)
        if s.padToSquare:
            out = pad_square(out, s.padColor)
        if s.targetSize is not None and not both:
            out = out.resize(s.targetSize / max(out.width, out.height))
        if out.hasalpha() and not fmt.alpha:
            fmt = vips.FORMATS["png"]
        path = vips.save(out, vips.output_path(ctx, fmt.ext, "cropped"), fmt, s.quality if fmt.lossy else None)
        data.update({"width": out.width, "height": out.height})
    ctx.progress(100, "Done")
    return ToolResult([path], data)
