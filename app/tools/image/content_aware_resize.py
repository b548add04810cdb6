"""Content-Aware Resize: change an image's width and height by seam carving, so the detailed parts keep
their shape and the plain parts give (or take) the room.

Energy is the Sobel gradient magnitude after an optional Gaussian blur (`blurRadius`), with gradients
below `sobelThreshold` counted as flat; `protectFaces` raises the energy over the faces OpenCV (or
YuNet) finds, so seams go around them. The carving is app/engine/media/seams.py (numpy).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.engine.ai import bundles
from app.engine.ai.bundles import FeatureNotInstalled
from app.engine.media import segment, vips
from app.engine.media.sniff import IMAGE_KINDS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_SIDE = 16384
MAX_GROWTH = 3  # a side may at most triple
QUALITY = 90


class ContentAwareResizeSettings(ToolSettings):
    width: int | None = Field(None, ge=1, le=MAX_SIDE, description="Target width in pixels (empty = keep)")
    height: int | None = Field(None, ge=1, le=MAX_SIDE, description="Target height in pixels (empty = keep)")
    protectFaces: bool = Field(False, description="Keep detected faces intact (needs the face-detection feature)")
    blurRadius: float = Field(4, ge=0, le=50, description="Blur before edge detection, in pixels (0 = none)")
    sobelThreshold: float = Field(
        2, ge=0, le=255, description="Edges weaker than this (0-255) count as flat, where seams go first"
    )
    square: bool = Field(
        False, description="Make the image square: the shorter side (or the given width/height) both ways"
    )


def targets(s: ContentAwareResizeSettings, width: int, height: int) -> tuple[int, int]:
    if s.square:
        side = s.width or s.height or min(width, height)
        return side, side
    return s.width or width, s.height or height


def face_guard(rgb: Any) -> tuple[Any, int]:
    """A bool mask over the faces (with hair and chin), and how many were found."""
    import numpy as np

    from app.engine.media import faces

    found = faces.detect_faces(rgb)
    guard = np.zeros(rgb.shape[:2], dtype=bool)
    height, width = guard.shape
    for f in found:
        left, right = int(max(0, f.x - 0.2 * f.w)), int(min(width, f.x + 1.2 * f.w))
        top, bottom = int(max(0, f.y - 0.4 * f.h)), int(min(height, f.y + 1.3 * f.h))
        guard[top:bottom, left:right] = True
    return guard, len(found)


@tool(
    id="content-aware-resize",
    section="image",
    title="Content-Aware Resize",
    description="Resize by seam carving: plain areas shrink or stretch while detailed subjects (and, "
    "optionally, faces) keep their shape.",
    settings=ContentAwareResizeSettings,
    inputs=Inputs(kinds=IMAGE_KINDS),
    formats=("jpeg", "png", "webp", "avif", "heic", "tiff"),
    long=True,
)
def run(ctx: ToolContext, settings: ContentAwareResizeSettings) -> ToolResult:
    try:
        import numpy as np

        from app.engine.media import seams
    except ImportError:  # the AI extra (numpy, OpenCV) is not installed
        raise FeatureNotInstalled(bundles.get_bundle("face-detection")) from None  # type: ignore[arg-type]
    ctx.progress(5, "Reading image")
    with vips.vips_errors():
        colour, alpha = segment.load_rgb(ctx.input)
    width, height = colour.width, colour.height
    target_w, target_h = targets(settings, width, height)
    if target_w > width * MAX_GROWTH or target_h > height * MAX_GROWTH:
        raise InputRejected(f"Content-aware resize can at most triple a side (this image is {width} x {height})")
    rgb = segment.to_array(colour)
    data: dict[str, Any] = {"width": target_w, "height": target_h, "originalWidth": width, "originalHeight": height}
    guard = None
    if settings.protectFaces:
        if bundles.model_present("haar-frontalface") or bundles.model_present("yunet"):
            ctx.progress(8, "Finding faces")
            guard, data["facesProtected"] = face_guard(rgb)
            guard = guard if data["facesProtected"] else None
        else:
            data["facesProtected"] = 0
            data["warning"] = "Face detection is not installed: faces were not protected"
    picture = rgb if alpha is None else np.dstack([rgb, segment.to_array(alpha)])
    options = seams.EnergyOptions(settings.blurRadius, settings.sobelThreshold)

    def progress(fraction: float) -> None:
        ctx.check_cancelled()
        ctx.progress(10 + 80 * fraction, "Carving seams")

    ctx.progress(10, "Carving seams")
    carved = seams.carve(picture, target_w, target_h, options, guard, progress)
    ctx.progress(92, "Saving")
    with vips.vips_errors():
        out = segment.from_array(carved)
        fmt = vips.output_format(ctx.input.kind)
        if out.hasalpha() and not fmt.alpha:
            fmt = vips.FORMATS["png"]
        if fmt.animated and fmt.name == "gif":
            fmt = vips.FORMATS["png"]  # one frame was carved; don't pretend it's the animation
        path = vips.save(out, vips.output_path(ctx, fmt.ext, "carved"), fmt, QUALITY if fmt.lossy else None)
    ctx.progress(100, "Done")
    return ToolResult([path], data)
