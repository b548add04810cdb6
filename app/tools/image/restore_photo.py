"""Photo Restoration: a pipeline for old photos - scratch removal, denoising, face enhancement and
colourisation. Steps whose model isn't installed are skipped, and the answer says which and why."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

# auto picks heavy above this much noise (sigma, 0-255) or this share of scratch pixels (light search).
HEAVY_NOISE = 8.0
HEAVY_SCRATCHES = 0.004


class RestorePhotoSettings(ToolSettings):
    mode: Literal["auto", "light", "heavy"] = Field(
        "auto",
        description="light: only clear scratches, gentle denoising; heavy: fainter and wider scratches, "
        "stronger denoising; auto: chooses from the measured damage",
    )
    scratchRemoval: bool = Field(True, description="Find and inpaint scratches, creases and dust lines")
    faceEnhancement: bool = Field(
        True, description="Restore faces with CodeFormer or GFPGAN (skipped when neither is installed)"
    )
    fidelity: float = Field(
        0.7, ge=0, le=1, description="Face enhancement: 0 = strongest restoration, 1 = closest to the original face"
    )
    denoise: bool = Field(True, description="Reduce grain and noise")
    denoiseStrength: float = Field(40, ge=0, le=100, description="Denoising strength (0-100)")
    colorize: bool = Field(False, description="Colourise with DDColor (skipped when it isn't installed)")


def _skipped(name: str, reason: str) -> dict[str, Any]:
    return {"step": name, "status": "skipped", "reason": reason}


@tool(
    id="restore-photo",
    section="image",
    title="Photo Restoration",
    description="Restore old photos in one go: scratch removal, denoising, face enhancement (GFPGAN/CodeFormer) "
    "and optional colourisation (DDColor); steps whose model is missing are skipped and reported.",
    settings=RestorePhotoSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    feature="photo-restoration",
)
def run(ctx: ToolContext, settings: RestorePhotoSettings) -> ToolResult:
    import numpy as np

    from app.engine.media import arrays, colorize, denoise, face_restore, faces, scratches, vips

    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    rgb = picture.rgb
    steps: list[dict[str, Any]] = []

    noise = denoise.noise_sigma(rgb)
    mode = settings.mode
    if mode == "auto":
        coverage = np.count_nonzero(scratches.scratch_mask(rgb, "light")) / max(1, rgb.shape[0] * rgb.shape[1])
        mode = "heavy" if noise > HEAVY_NOISE or coverage > HEAVY_SCRATCHES else "light"

    found: list[faces.Face] = []
    if faces.available():
        ctx.progress(10, "Finding faces")
        found = faces.detect_faces(rgb, 0.5, eyes=False)
    ctx.check_cancelled()

    if settings.scratchRemoval:
        ctx.progress(20, "Removing scratches")
        protect = None
        if found and mode == "light":
            # Lips, lashes and brows are thin dark lines too: a light pass leaves faces alone.
            protect = np.zeros(rgb.shape[:2], dtype=bool)
            for face in found:
                left, top, w, h = face.box()
                protect[max(0, top) : top + h, max(0, left) : left + w] = True
        rgb, filled = scratches.remove_scratches(rgb, mode, protect)
        steps.append({"step": "scratchRemoval", "status": "applied", "pixels": filled})
    else:
        steps.append(_skipped("scratchRemoval", "turned off"))
    ctx.check_cancelled()

    if settings.denoise and settings.denoiseStrength > 0:
        ctx.progress(40, "Reducing noise")
        strength = settings.denoiseStrength * (1.0 if mode == "heavy" else 0.7)
        rgb = denoise.denoise(rgb, "balanced", strength, detail=60, colour_noise=50)
        steps.append({"step": "denoise", "status": "applied", "noiseBefore": round(noise, 2)})
    else:
        steps.append(_skipped("denoise", "turned off"))
    ctx.check_cancelled()

    installed = face_restore.installed()
    if not settings.faceEnhancement:
        steps.append(_skipped("faceEnhancement", "turned off"))
    elif not installed:
        steps.append(_skipped("faceEnhancement", "GFPGAN/CodeFormer are not installed (Photo Restoration feature)"))
    elif not faces.available():
        steps.append(_skipped("faceEnhancement", "face detection is not available"))
    elif not found:
        steps.append(_skipped("faceEnhancement", "no face found"))
    else:
        # CodeFormer honours `fidelity`; GFPGAN has no such input, so fidelity sets how much is blended.
        model = "codeformer" if "codeformer" in installed else installed[0]
        strength = 0.9 if model == "codeformer" else 1 - 0.5 * settings.fidelity
        ctx.progress(60, f"Enhancing {len(found)} face(s)")
        rgb = face_restore.restore_faces(rgb, found, model, strength, settings.fidelity)
        steps.append({"step": "faceEnhancement", "status": "applied", "model": model, "faces": len(found)})
    ctx.check_cancelled()

    if not settings.colorize:
        steps.append(_skipped("colorize", "turned off"))
    elif not colorize.model_installed():
        steps.append(_skipped("colorize", "DDColor is not installed (Object Eraser & Colorize feature)"))
    else:
        ctx.progress(80, "Colourising")
        rgb = colorize.colorize(rgb)
        steps.append({"step": "colorize", "status": "applied", "model": colorize.MODEL})

    ctx.progress(92, "Saving")
    with vips.vips_errors():
        path = arrays.save(ctx, picture, rgb, "restored")
    ctx.progress(100, "Done")
    return ToolResult(
        [path],
        {
            "mode": mode,
            "steps": steps,
            "skipped": [s["step"] for s in steps if s["status"] == "skipped"],
        },
    )
