"""Images to Video: a slideshow, each picture shown for a few seconds, fitted to the frame."""

from __future__ import annotations

import shutil
from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.video import describe
from app.engine.tool import InputFile, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_IMAGES = 100
_SIZES = {"1080p": (1920, 1080), "720p": (1280, 720), "square": (1080, 1080)}


class ImagesToVideoSettings(ToolSettings):
    secondsPerImage: float = Field(2, ge=0.5, le=10, description="How long each image is shown, in seconds")
    resolution: Literal["1080p", "720p", "square"] = Field("1080p", description="Frame size of the video")
    fps: int = Field(30, ge=1, le=60, description="Frames per second")


def _still(ctx: ToolContext, image: InputFile, index: int) -> InputFile:
    """The picture as ffmpeg should see it. ffmpeg 5 ignores EXIF orientation (a phone's portrait photo
    would lie on its side) and cannot decode animated WebP (it retries forever); libvips writes those
    upright, first frame only, as PNG. Other pictures go to ffmpeg as they are."""
    import pyvips

    from app.engine.media import vips

    with vips.vips_errors():
        head = pyvips.Image.new_from_file(str(image.path))
        animated = image.kind == "webp" and vips.is_animated(pyvips.Image.new_from_file(str(image.path), n=-1))
        if vips.orientation(head) == 1 and not animated:
            return image
        upright = vips.first_page(vips.load(image.path, image.kind, sequential=False))
        path = ctx.workdir / ".stills" / f"{index:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        upright.pngsave(str(path), compression=1)
    return InputFile(path=path, name=f"{image.stem}.png", kind="png", size=path.stat().st_size)


@tool(
    id="images-to-video",
    section="video",
    title="Images to Video",
    description="Make an MP4 slideshow from images, in upload order.",
    settings=ImagesToVideoSettings,
    inputs=Inputs(kinds=("jpeg", "png", "webp", "bmp", "tiff"), min_files=1, max_files=MAX_IMAGES),
    long=True,
    formats=("jpeg", "png", "webp", "bmp", "tiff"),
)
def run(ctx: ToolContext, settings: ImagesToVideoSettings) -> ToolResult:
    width, height = _SIZES[settings.resolution]
    codec = ffmpeg.h264("high")
    args: list[str] = [*codec.global_args]
    graph = []
    length = ffmpeg.seconds(settings.secondsPerImage)
    for i, image in enumerate(ctx.inputs):
        # -loop 1 repeats the still for the given time at the target frame rate.
        args += ffmpeg.inp(_still(ctx, image, i), "-loop", "1", "-framerate", str(settings.fps), "-t", length)
        graph.append(
            f"[{i}:v]scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v{i}]"
        )
    labels = "".join(f"[v{i}]" for i in range(len(ctx.inputs)))
    graph.append(f"{labels}concat=n={len(ctx.inputs)}:v=1:a=0[vj];[vj]{codec.tail}[v]")
    out = ctx.output_path(ffmpeg.output_name(ctx.input, "slideshow", "mp4"))
    args += ["-filter_complex", ";".join(graph), "-map", "[v]", *codec.codec_args, "-r", str(settings.fps)]
    total = settings.secondsPerImage * len(ctx.inputs)
    try:
        ffmpeg.run([*args, *ffmpeg.container_args("mp4"), ffmpeg.output(out)], ctx, total, message="Rendering")
    finally:
        shutil.rmtree(ctx.workdir / ".stills", ignore_errors=True)
    data = describe(ffmpeg.require_output(out), "mp4")
    data["images"] = len(ctx.inputs)
    return ToolResult([out], data)
