"""Image Upscaling: Real-ESRGAN on the CPU in two tiers: the compact realesr-animevideov3 network by
default (fast: a 256x192 picture x2 in about a second of CPU), realesrgan-x4plus as the quality tier.

scale 2 with x4plus runs the x4 network and halves the result with Lanczos (x4plus has no x2 form);
animevideov3 has a native x2 network. faceEnhance runs GFPGAN over the faces when the photo-restoration
bundle's gfpgan model is installed; otherwise the answer says it was skipped (the upscale still runs).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from app.config import get_settings
from app.engine.ai import bundles
from app.engine.media import vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.pacing import Pacer
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


def _scale(value: Any) -> Any:
    # "2", "4x" and 2.0 mean the same as 2 (SnapOtter's UI sends strings).
    if isinstance(value, str):
        value = value.strip().lower().removesuffix("x")
        return int(value) if value.isdigit() else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _denoise(value: Any) -> Any:
    # A plain on/off switch means a medium strength.
    if isinstance(value, bool):
        return 50 if value else 0
    return value


class UpscaleSettings(ToolSettings):
    scale: Annotated[Literal[2, 4], BeforeValidator(_scale)] = Field(2, description="Enlargement factor: 2 or 4")
    model: Literal["realesr-animevideov3", "realesrgan-x4plus"] = Field(
        "realesr-animevideov3",
        description="realesr-animevideov3 (default, fast tier): a compact network, sharper than bicubic on "
        "photos and drawings alike; realesrgan-x4plus (quality tier): finest photo detail, about 30 times slower",
    )
    faceEnhance: bool = Field(
        False, description="Also restore faces with GFPGAN (needs the Photo Restoration feature; skipped without it)"
    )
    denoise: Annotated[float, BeforeValidator(_denoise)] = Field(
        0, ge=0, le=100, description="Remove noise before enlarging, 0 (off) to 100 (strong); true means 50"
    )
    format: Literal["original", "png", "jpeg", "jpg", "webp", "avif", "tiff"] = Field(
        "original", description="Output format; original keeps the input's (PNG for formats Lutra can't write)"
    )
    quality: int = Field(vips.DEFAULT_QUALITY, ge=1, le=100, description="Quality for lossy outputs")


def check_output_size(width: int, height: int, scale: int) -> None:
    """Refuses before any work when the result would be over MAX_MEGAPIXELS."""
    limit = get_settings().max_megapixels
    pixels = width * scale * height * scale
    if pixels > limit * 1_000_000:
        raise InputRejected(
            f"The result would be {width * scale}x{height * scale} ({pixels / 1e6:.1f} megapixels), over the "
            f"{limit} megapixel limit (MAX_MEGAPIXELS); choose a smaller scale or a smaller image",
            400,
            "IMAGE_TOO_LARGE",
        )


def face_enhance(rgb: Any) -> tuple[Any, str]:
    """GFPGAN over the faces when installed (enhance-faces' helpers); (rgb, "applied"), (rgb, "none-found")
    or (rgb unchanged, "skipped: why"). Never fails the upscale."""
    if not bundles.model_present("gfpgan"):
        return rgb, "skipped: the gfpgan model (Photo Restoration feature) is not installed"
    from app.engine.media import faces

    try:
        from app.engine.media import face_restore
    except ImportError:
        return rgb, "skipped: face restoration is not available on this server"
    if not faces.available():
        return rgb, "skipped: face detection (Face Detection feature) is not installed"
    found = faces.detect_faces(rgb)
    if not found:
        return rgb, "none-found"
    return face_restore.restore_faces(rgb, found, "gfpgan"), "applied"


def check_model(settings: UpscaleSettings) -> None:
    """501 FEATURE_NOT_INSTALLED at once when the chosen network's files are missing."""
    bundles.model_path(settings.model, "upscale-enhance")


@tool(
    id="upscale",
    section="image",
    title="Image Upscaling",
    description="Enlarge an image 2x or 4x with Real-ESRGAN: a fast compact network by default, realesrgan-x4plus "
    "for the finest photo detail; optional noise removal and GFPGAN face restoration.",
    settings=UpscaleSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
    timeout_s=3600,  # x4plus on a CPU: ~10 s per 256x256 block of input
    feature="upscale-enhance",
    preflight=check_model,
)
def run(ctx: ToolContext, settings: UpscaleSettings) -> ToolResult:
    import cv2
    import numpy as np
    import pyvips

    from app.engine.media import arrays, upscale

    scale = settings.scale
    width, height = vips.upright_size(ctx.input.path)
    check_output_size(width, height, scale)
    network = upscale.network_for(settings.model, scale)
    bundles.model_path(network.model, upscale.BUNDLE)  # 501 before decoding when the model is missing
    ctx.progress(2, "Loading the image")
    with vips.vips_errors():
        picture = arrays.load(ctx)
    rgb = picture.rgb
    if settings.denoise > 0:
        ctx.progress(4, "Removing noise")
        h = 3 + settings.denoise * 0.12  # 3 (faint) to 15 (strong), in OpenCV's luminance units
        rgb = cv2.fastNlMeansDenoisingColored(rgb, None, h, h, 7, 21)
    ctx.check_cancelled()

    total = len(upscale.tiles(rgb.shape[1], rgb.shape[0], network.tile))
    # A tile of x4plus can take many seconds on a small CPU: the pacer keeps the bar moving in between.
    with Pacer(ctx, 5, 90, total=total, label=lambda n, t: f"Upscaling: tile {n} of {t}") as pacer:

        def on_tile(done: int, total: int) -> None:
            ctx.check_cancelled()
            pacer.advance(done)

        big = upscale.run(rgb, settings.model, scale, on_tile)
    with vips.vips_errors():
        out_w, out_h = width * scale, height * scale
        image = arrays.to_vips(big)
        if network.scale != scale:
            image = image.resize(scale / network.scale, kernel="lanczos3")
        face = "off"
        if settings.faceEnhance:
            ctx.progress(92, "Restoring faces")
            restored, face = face_enhance(np.ascontiguousarray(image.numpy()))
            image = arrays.to_vips(restored)
        alpha = None
        if picture.alpha is not None:
            mask = pyvips.Image.new_from_array(np.ascontiguousarray(picture.alpha))
            alpha = mask.resize(out_w / width, vscale=out_h / height, kernel="lanczos3").numpy()
        result = arrays.to_vips(image.numpy(), alpha, picture.source)
        fmt = arrays.format_for(picture, "jpeg" if settings.format == "jpg" else settings.format)
        ctx.progress(96, "Saving")
        out = vips.save(result, vips.output_path(ctx, fmt.ext, f"{scale}x"), fmt, settings.quality)
    data = {
        "width": result.width,
        "height": result.height,
        "originalWidth": width,
        "originalHeight": height,
        "scale": scale,
        "model": settings.model,
        "faceEnhance": face.split(":")[0],
    }
    if face.startswith("skipped"):
        data["faceEnhanceNote"] = face.removeprefix("skipped: ")
    ctx.progress(100, "Done")
    return ToolResult([out], data)
