"""Passport Photo: a compliant passport or visa photo from a portrait, for 37 countries' specifications
(app/engine/media/passport_specs.py), optionally tiled on a 4x6 in or A4 print sheet.

Two phases, as SnapOtter splits them:
- `/analyze` finds the face (OpenCV Haar, or YuNet when installed) and the person (U2-Net-p
  segmentation), and measures the head (crown from the mask, chin and eyes from the face); the
  analysis is cached under the upload's SHA-256 and returned with its `analysisId`;
- `/generate` scales the head to the country's head height, places the eye line or crown where the
  specification wants it, centres the face, replaces the background and tiles the sheet, from the
  cached analysis (no model runs when it is there).
The main route does both and returns the sheet (when a layout is chosen) and the single photo.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import pyvips
from pydantic import Field, field_validator

from app.engine.media import adjust, segment, vips
from app.engine.media.adjust import HexColor
from app.engine.media.passport_specs import COUNTRY_CODES, MM_PER_INCH, SHEETS, SPECS, PhotoSpec
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolFailure, ToolResult, ToolSettings, action, tool

ANALYSIS_VERSION = "passport-analysis-1"
ALIASES = {"UK": "GB", "SCHENGEN": "EU"}
QUALITY = 95
# (margin, gap) in mm, tried in turn: photo labs print 4x6 borderless, so edge to edge is the fallback
# when gaps would cost copies; A4 goes through office printers, which need a margin.
SPACING = {"4x6": ((2.0, 2.0), (0.0, 0.0)), "A4": ((5.0, 2.0),)}
CUT_LINE = [200, 200, 200]

Country = Literal[COUNTRY_CODES]  # type: ignore[valid-type]


class PassportSettings(ToolSettings):
    country: Country = Field("US", description="Country code of the specification (ISO 3166, EU = Schengen visa)")
    printLayout: Literal["4x6", "A4", "none"] = Field(
        "4x6", description="Tile copies on a 4x6 in or A4 print sheet (300 dpi), or only the single photo"
    )
    backgroundColor: HexColor | None = Field(
        None, description="Background colour; empty = the country's (white or light grey)"
    )

    @field_validator("country", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            return ALIASES.get(value, value)
        return value


@dataclass
class Analysis:
    """What /analyze measures, in the upright input's pixels."""

    imageWidth: int
    imageHeight: int
    face: dict[str, float]  # x, y, width, height
    eyes: list[list[float]]  # [[x, y], [x, y]], left to right in the image
    eyesDetected: bool
    crown: float  # top of the head (hair included)
    chin: float
    detector: str
    model: str
    facesFound: int

    @property
    def head(self) -> float:
        return max(1.0, self.chin - self.crown)

    @property
    def eye_y(self) -> float:
        return (self.eyes[0][1] + self.eyes[1][1]) / 2

    @property
    def cx(self) -> float:
        return self.face["x"] + self.face["width"] / 2


def _analysis_key(ctx: ToolContext) -> str:
    return segment.cache_key(segment.file_sha256(ctx.input.path), ANALYSIS_VERSION)


def measure(ctx: ToolContext, rgb: pyvips.Image) -> tuple[Analysis, segment.MaskResult]:
    """Face detection plus the person's mask: where the head starts and ends."""
    import numpy as np

    from app.engine.media import faces

    detector = faces.detector_name()
    found = faces.detect_faces(segment.to_array(rgb), 0.5)
    if not found:
        raise ToolFailure("No face found: use a front-facing portrait with the whole head visible")
    face = found[0]  # the largest
    ctx.progress(35, "Separating the person from the background")
    cut = segment.subject_mask(ctx.input.path, rgb, segment.U2NETP)
    mask = segment.to_array(cut.mask)[:, :, 0] >= 128
    # The chin: the bottom of YuNet's box; a little below the bottom of the cascade's box.
    chin = face.y + face.h * (1.0 if detector == "yunet" else 1.08)
    # The crown: the first row, above the face, where the person covers most of the face's middle.
    left, right = int(max(0, face.cx - face.w * 0.25)), int(min(rgb.width, face.cx + face.w * 0.25))
    start = int(max(0, face.y - face.h * 1.2))
    stop = int(min(rgb.height, face.y + face.h * 0.3))
    rows = np.flatnonzero(mask[start:stop, left:right].mean(axis=1) > 0.5) if right > left else []
    crown = float(start + rows[0]) if len(rows) else max(0.0, face.y - face.h * 0.3)
    if face.eyes and len(face.eyes) == 2:
        eyes, detected = [list(e) for e in face.eyes], True
    else:
        eye_y = face.y + face.h * 0.4
        eyes, detected = [[face.cx - face.w * 0.2, eye_y], [face.cx + face.w * 0.2, eye_y]], False
    box = {"x": face.x, "y": face.y, "width": face.w, "height": face.h}
    analysis = Analysis(rgb.width, rgb.height, box, eyes, detected, crown, chin, detector, cut.model, len(found))
    return analysis, cut


def analyse(ctx: ToolContext) -> tuple[pyvips.Image, pyvips.Image | None, Analysis, pyvips.Image, bool]:
    """(rgb, alpha, analysis, person mask, whether both came from the cache)."""
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        rgb, alpha = segment.load_rgb(ctx.input)
    key = _analysis_key(ctx)
    cache = segment.mask_cache()
    stored = cache.data_get(key, "json")
    if stored is not None:
        try:
            analysis = Analysis(**json.loads(stored))
        except (TypeError, ValueError):
            analysis = None
        if analysis is not None and (analysis.imageWidth, analysis.imageHeight) == (rgb.width, rgb.height):
            cut = segment.subject_mask(ctx.input.path, rgb, analysis.model)
            if cut.cached:
                return rgb, alpha, analysis, cut.mask, True
    ctx.check_cancelled()
    ctx.progress(15, "Finding the face")
    analysis, cut = measure(ctx, rgb)
    cache.data_put(key, "json", json.dumps(asdict(analysis)).encode())
    return rgb, alpha, analysis, cut.mask, False


def place(spec: PhotoSpec, a: Analysis) -> tuple[float, float, float]:
    """(scale, left, top): the input scaled by `scale`, then the photo is the window at (left, top)."""
    scale = spec.px(spec.head_target_mm) / a.head
    width, height = spec.width_px, spec.height_px
    if spec.eyes_mm:
        eye_out = height - spec.px(sum(spec.eyes_mm) / 2)
        crown_out = eye_out - (a.eye_y - a.crown) * scale
        # Keep a little air above the head even when the eye estimate is off.
        crown_out = min(max(crown_out, height * 0.04), height - spec.px(spec.head_target_mm) - height * 0.02)
    else:
        spare = spec.height_mm - spec.head_target_mm
        top_mm = spec.top_mm if spec.top_mm is not None else min(0.4 * spare, 0.12 * spec.height_mm)
        crown_out = spec.px(top_mm)
    left = a.cx * scale - width / 2
    top = a.crown * scale - crown_out
    return scale, left, top


def compose_photo(
    spec: PhotoSpec, rgb: pyvips.Image, alpha: pyvips.Image | None, mask: pyvips.Image, a: Analysis, colour: str
) -> pyvips.Image:
    background = adjust.rgb(colour)
    person = segment.compose(rgb, mask, segment.solid(rgb.width, rgb.height, background), alpha=alpha)
    scale, left, top = place(spec, a)
    scaled = person.resize(scale, kernel="lanczos3")
    photo = scaled.embed(
        -round(left), -round(top), spec.width_px, spec.height_px, extend="background", background=background
    )
    return with_dpi(photo.copy_memory(), spec.dpi)


def with_dpi(image: pyvips.Image, dpi: int) -> pyvips.Image:
    per_mm = dpi / MM_PER_INCH
    return image.copy(xres=per_mm, yres=per_mm)


def sheet_of(photo: pyvips.Image, layout: str, dpi: int) -> tuple[pyvips.Image, int]:
    """Copies of the photo on a white print sheet (the orientation that fits the most), with light
    cut lines around each; returns (sheet, copies)."""
    short_mm, long_mm = SHEETS[layout]
    px = lambda mm: round(mm / MM_PER_INCH * dpi)  # noqa: E731
    best = (0, 0, 0, 0, 0, 0)  # (count, sheet w, sheet h, across, down, gap)
    for sw, sh in ((px(short_mm), px(long_mm)), (px(long_mm), px(short_mm))):
        for margin_mm, gap_mm in SPACING[layout]:
            m, g = px(margin_mm), px(gap_mm)
            across, down = (sw - 2 * m + g) // (photo.width + g), (sh - 2 * m + g) // (photo.height + g)
            if across * down > best[0]:
                best = (across * down, sw, sh, across, down, g)
    count, sw, sh, across, down, g = best
    if count == 0:
        raise ToolFailure(f"A {layout} sheet is too small for this photo size")
    grid_w, grid_h = across * photo.width + (across - 1) * g, down * photo.height + (down - 1) * g
    x0, y0 = (sw - grid_w) // 2, (sh - grid_h) // 2
    sheet = (pyvips.Image.black(sw, sh, bands=3) + 255).cast("uchar").copy(interpretation="srgb")
    for row in range(down):
        for col in range(across):
            x, y = x0 + col * (photo.width + g), y0 + row * (photo.height + g)
            sheet = sheet.insert(photo, x, y)
            sheet = sheet.draw_rect(CUT_LINE, x - 1, y - 1, photo.width + 2, photo.height + 2, fill=False)
    return with_dpi(sheet.copy_memory(), dpi), count


def generate(ctx: ToolContext, settings: PassportSettings) -> ToolResult:
    spec = SPECS[settings.country]
    rgb, alpha, analysis, mask, cached = analyse(ctx)
    ctx.check_cancelled()
    ctx.progress(70, "Composing the photo")
    colour = settings.backgroundColor or spec.background
    with vips.vips_errors():
        photo = compose_photo(spec, rgb, alpha, mask, analysis, colour)
        jpeg = vips.FORMATS["jpeg"]
        stem = f"passport_{spec.code.lower()}"
        outputs = []
        data: dict[str, Any] = {
            "country": spec.code,
            "countryName": spec.name,
            "spec": spec.to_json(),
            "backgroundColor": colour,
            "analysisCached": cached,
            "faceDetector": analysis.detector,
            "headHeightPx": spec.px(spec.head_target_mm),
            "widthPx": photo.width,
            "heightPx": photo.height,
        }
        if settings.printLayout != "none":
            ctx.progress(85, "Tiling the print sheet")
            sheet, count = sheet_of(photo, settings.printLayout, spec.dpi)
            outputs.append(vips.save(sheet, ctx.output_path(f"{stem}_{settings.printLayout}.jpg"), jpeg, QUALITY))
            data.update({"printLayout": settings.printLayout, "copies": count, "sheetWidthPx": sheet.width})
            data["sheetHeightPx"] = sheet.height
        outputs.append(vips.save(photo, ctx.output_path(f"{stem}.jpg"), jpeg, QUALITY))
    ctx.progress(100, "Done")
    return ToolResult(outputs, data)


@tool(
    id="passport-photo",
    section="image",
    title="Passport Photo",
    description="Make a passport or visa photo for 37 countries' specifications (head size, eye line, "
    "background) from a portrait, single or tiled on a 4x6 in or A4 print sheet.",
    settings=PassportSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="face-detection",
    models=("haar-frontalface",),
)
def run(ctx: ToolContext, settings: PassportSettings) -> ToolResult:
    return generate(ctx, settings)


@action(
    "passport-photo",
    "analyze",
    summary="Phase 1: face detection and background removal; answers the face box, eyes, crown and chin "
    "(pixels of the upright image), the analysisId and whether it was cached",
)
def analyze(ctx: ToolContext, settings: PassportSettings) -> ToolResult:
    _, _, analysis, _, cached = analyse(ctx)
    spec = SPECS[settings.country]
    scale, _, _ = place(spec, analysis)
    body = asdict(analysis)
    body.update(
        {
            "analysisId": _analysis_key(ctx),
            "analysisCached": cached,
            "headHeight": round(analysis.head, 1),
            "eyeLine": round(analysis.eye_y, 1),
            "scale": round(scale, 5),
            "spec": spec.to_json(),
            "warnings": warnings(spec, analysis, scale),
        }
    )
    return ToolResult([], body)


@action(
    "passport-photo",
    "generate",
    summary="Phase 2: crop, scale, recolour the background and tile from the cached analysis (no model "
    "runs when /analyze saw this upload); answers the sheet (or the photo with printLayout none)",
    returns="file",
)
def generate_action(ctx: ToolContext, settings: PassportSettings) -> ToolResult:
    return generate(ctx, settings)


def warnings(spec: PhotoSpec, a: Analysis, scale: float) -> list[str]:
    """What may make the photo non-compliant (the tool still makes it)."""
    out = []
    if scale > 1.5:
        out.append("The head is small in this picture: the photo is enlarged and may look soft")
    if a.facesFound > 1:
        out.append("More than one face was found; the largest is used")
    if not a.eyesDetected:
        out.append("The eyes were not located exactly; the eye line is estimated from the face")
    if a.crown <= 1:
        out.append("The top of the head touches the picture's top edge")
    if a.chin >= a.imageHeight - 1:
        out.append("The chin touches the picture's bottom edge")
    return out
