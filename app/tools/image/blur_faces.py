"""Face / PII Blur: find faces and hide them behind a Gaussian blur or pixelation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class BlurFacesSettings(ToolSettings):
    blurRadius: float = Field(
        30,
        ge=1,
        le=100,
        description="Blur radius (pixelate: twice the block size) in pixels for a face 200 px wide; "
        "larger faces get proportionally more",
    )
    sensitivity: float = Field(0.5, ge=0, le=1, description="Face detection sensitivity: higher finds more faces")
    method: Literal["gaussian", "pixelate"] = Field("gaussian", description="How faces are hidden")
    shape: Literal["ellipse", "box"] = Field("ellipse", description="Shape of the hidden area around each face")


@tool(
    id="blur-faces",
    section="image",
    title="Face / PII Blur",
    description="Detect faces and blur or pixelate them (privacy); the answer lists the faces found.",
    settings=BlurFacesSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    feature="face-detection",
)
def run(ctx: ToolContext, settings: BlurFacesSettings) -> ToolResult:
    from app.engine.media import arrays, face_retouch, faces, vips

    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    ctx.progress(20, "Finding faces")
    found = faces.detect_faces(picture.rgb, settings.sensitivity, eyes=False)
    ctx.progress(60, f"Blurring {len(found)} face(s)")
    out = face_retouch.blur_faces(picture.rgb, found, settings.blurRadius, settings.method, settings.shape)
    with vips.vips_errors():
        path = arrays.save(ctx, picture, out, "blurred")
    ctx.progress(100, "Done")
    return ToolResult(
        [path],
        {"facesFound": len(found), "faces": [f.to_json() for f in found], "detector": faces.detector_name()},
    )
