"""Face Enhancement: find faces, restore each with GFPGAN or CodeFormer, blend them back in."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.ai import bundles
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

BUNDLE = "photo-restoration"


class EnhanceFacesSettings(ToolSettings):
    model: Literal["gfpgan", "codeformer"] = Field(
        "gfpgan", description="gfpgan: GFPGAN 1.4; codeformer: CodeFormer (fidelity-controllable). Both are downloads"
    )
    strength: float = Field(80, ge=0, le=100, description="How much of the restored face is blended in (percent)")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Face detection sensitivity: higher finds more faces")
    centerFace: bool = Field(False, description="Only enhance the face nearest the centre of the image")
    fidelity: float = Field(
        0.5, ge=0, le=1, description="codeformer: 0 = strongest restoration, 1 = closest to the original face"
    )


def needs_model(settings: EnhanceFacesSettings) -> None:
    """501 before the upload is queued when the chosen model isn't installed."""
    bundles.model_path(settings.model, BUNDLE)


@tool(
    id="enhance-faces",
    section="image",
    title="Face Enhancement",
    description="Restore blurry or damaged faces with GFPGAN or CodeFormer; the rest of the photo is untouched.",
    settings=EnhanceFacesSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature=BUNDLE,
    preflight=needs_model,
)
def run(ctx: ToolContext, settings: EnhanceFacesSettings) -> ToolResult:
    from app.engine.media import arrays, face_restore, faces, vips

    needs_model(settings)  # still there when the job starts?
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    ctx.progress(15, "Finding faces")
    found = faces.detect_faces(picture.rgb, settings.sensitivity)
    if settings.centerFace:
        centre = face_restore.central_face(found, picture.width, picture.height)
        found = [centre] if centre else []
    ctx.check_cancelled()
    out = picture.rgb
    if found:

        def step(done: int, total: int) -> None:
            ctx.check_cancelled()
            ctx.progress(25 + 65 * done / total, f"Restored face {done} of {total}")

        ctx.progress(25, f"Restoring {len(found)} face(s)")
        out = face_restore.restore_faces(
            picture.rgb, found, settings.model, settings.strength / 100, settings.fidelity, step
        )
    ctx.progress(92, "Saving")
    with vips.vips_errors():
        path = arrays.save(ctx, picture, out, "enhanced")
    ctx.progress(100, "Done")
    return ToolResult(
        [path],
        {
            "model": settings.model,
            "facesFound": len(found),
            "faces": [f.to_json() for f in found],
            "detector": faces.detector_name(),
        },
    )
