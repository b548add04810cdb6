"""Red Eye Removal: find the eyes (inside detected faces, or anywhere when there is no face) and turn
red pupils dark and neutral."""

from __future__ import annotations

from pydantic import Field

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool


class RedEyeRemovalSettings(ToolSettings):
    sensitivity: float = Field(
        0.5, ge=0, le=1, description="Higher finds more faces and eyes and treats paler reds as red-eye"
    )
    strength: float = Field(100, ge=0, le=100, description="How fully red pupils are neutralised (percent)")


@tool(
    id="red-eye-removal",
    section="image",
    title="Red Eye Removal",
    description="Remove red-eye from flash photos: eyes are located within detected faces and red pupils "
    "are desaturated and darkened.",
    settings=RedEyeRemovalSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    feature="face-detection",
    models=("haar-eye",),
)
def run(ctx: ToolContext, settings: RedEyeRemovalSettings) -> ToolResult:
    from app.engine.media import arrays, face_retouch, faces, vips

    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    ctx.progress(20, "Finding faces and eyes")
    found = faces.detect_faces(picture.rgb, settings.sensitivity, eyes=True)
    regions = face_retouch.eye_regions(picture.rgb, found, settings.sensitivity)
    ctx.progress(60, "Correcting red pupils")
    out, fixed = face_retouch.fix_red_eyes(picture.rgb, regions, settings.sensitivity, settings.strength / 100)
    with vips.vips_errors():
        path = arrays.save(ctx, picture, out, "redeye")
    ctx.progress(100, "Done")
    return ToolResult(
        [path],
        {
            "facesFound": len(found),
            "eyeRegions": len(regions),
            "eyesCorrected": fixed,
            "searched": "faces" if found else "whole-image",
        },
    )
