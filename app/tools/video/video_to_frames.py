"""Video to Frames: every frame, every nth frame, or frames at given times, as PNG or JPEG in a ZIP."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from app.engine.media import ffmpeg
from app.engine.media.layout import zip_outputs
from app.engine.media.video import VIDEO_INPUTS
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_FRAMES = 1000


class VideoToFramesSettings(ToolSettings):
    mode: Literal["all", "nth", "timestamps"] = Field(
        "nth", description="all frames, every nth frame, or the frames at the given timestamps"
    )
    n: int = Field(10, ge=1, le=100000, description="nth mode: keep one frame out of every n")
    timestamps: list[float] = Field(
        default_factory=list, max_length=200, description="timestamps mode: times in seconds"
    )
    format: Literal["png", "jpg"] = Field("png", description="Image format of the frames")

    @field_validator("timestamps")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(t < 0 for t in value):
            raise ValueError("timestamps must be 0 or more")
        return value


@tool(
    id="video-to-frames",
    section="video",
    title="Video to Frames",
    description="Extract frames from a video as PNG or JPEG images, packed in a ZIP.",
    settings=VideoToFramesSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: VideoToFramesSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    stream = ffmpeg.require_video(info)
    frames_dir = ctx.workdir / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    codec = ["-c:v", "png"] if settings.format == "png" else ["-c:v", "mjpeg", "-q:v", "2"]
    # mjpeg wants full-range YUV; png wants RGB: let each encoder choose from what it supports.
    if settings.mode == "timestamps":
        if not settings.timestamps:
            raise InputRejected("timestamps mode needs at least one timestamp", 400, "VALIDATION_ERROR")
        times = sorted(set(settings.timestamps))
        for i, at in enumerate(times):
            if info.duration and at >= info.duration:
                raise InputRejected(
                    f"{at} s is past the end of the video ({info.duration:.2f} s)", 400, "INVALID_RANGE"
                )
            out = frames_dir / f"{src.stem}_{at:09.3f}s.{settings.format}".replace(" ", "0")
            args = [*ffmpeg.inp(src, "-ss", ffmpeg.seconds(at)), "-map", "0:v:0", "-frames:v", "1", *codec]
            ffmpeg.run(
                [*args, "-f", "image2", "-update", "1", ffmpeg.output(out)],
                ctx,
                None,
                span=(90 * i / len(times), 90 * (i + 1) / len(times)),
                message="Extracting frames",
            )
    else:
        step = 1 if settings.mode == "all" else settings.n
        expected = (info.duration * (stream.fps or 30)) / step
        if expected > MAX_FRAMES:
            raise InputRejected(
                f"That would extract about {expected:.0f} frames (at most {MAX_FRAMES}); use a larger n",
                400,
                "TOO_MANY_FRAMES",
            )
        select = [] if step == 1 else ["-vf", f"select=not(mod(n\\,{step}))"]
        args = [*ffmpeg.inp(src), "-map", "0:v:0", *select, "-fps_mode", "passthrough", *codec]
        args += ["-frames:v", str(MAX_FRAMES), "-f", "image2"]
        ffmpeg.run(
            [*args, ffmpeg.output(frames_dir / f"{src.stem}_%05d.{settings.format}")],
            ctx,
            info.duration,
            span=(0, 90),
            message="Extracting frames",
        )
    files = sorted(frames_dir.glob(f"*.{settings.format}"))
    if not files:
        raise InputRejected("No frames were found at those positions", 400, "INVALID_RANGE")
    archive = zip_outputs(ctx, files, f"{src.stem}_frames.zip")
    frames_dir.rmdir()
    return ToolResult([archive], {"frames": len(files), "format": settings.format})
