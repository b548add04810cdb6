"""Merge Videos: join several videos end to end, each fitted to the first one's size and frame rate."""

from __future__ import annotations

from app.engine.media import ffmpeg
from app.engine.media.video import VIDEO_INPUTS, describe, display_size
from app.engine.tool import Inputs, NoSettings, ToolContext, ToolResult, tool

MAX_FILES = 20


@tool(
    id="merge-videos",
    section="video",
    title="Merge Videos",
    description="Join several videos, in upload order, into one (sized like the first).",
    settings=NoSettings,
    inputs=Inputs(kinds=VIDEO_INPUTS, min_files=2, max_files=MAX_FILES),
    long=True,
)
def run(ctx: ToolContext, settings: NoSettings) -> ToolResult:
    infos = [ffmpeg.probe_input(f) for f in ctx.inputs]
    for f, info in zip(ctx.inputs, infos, strict=True):
        ffmpeg.require_video(info, f.name)
    first = infos[0].video
    assert first is not None
    width, height = (ffmpeg.even(v) for v in display_size(first))
    fps = f"{first.fps:.3f}" if first.fps else "30"
    audio = any(i.audio is not None for i in infos)
    fmt = ffmpeg.video_format_for(ctx.input.kind)
    codec = ffmpeg.video_codec(fmt)
    args: list[str] = [*codec.global_args]
    graph = []
    for i, (f, info) in enumerate(zip(ctx.inputs, infos, strict=True)):
        args += ffmpeg.inp(f)
        # Fit inside the first video's frame, centred on black; same fps, square pixels, pixel format.
        graph.append(
            f"[{i}:v:0]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps},format=yuv420p[v{i}]"
        )
        if audio:
            if info.audio is not None:
                graph.append(f"[{i}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}]")
            else:
                # A silent video still needs sound of its own length, or the tracks drift apart.
                graph.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={info.duration or 0.04:.3f}[a{i}]")
    labels = "".join(f"[v{i}][a{i}]" if audio else f"[v{i}]" for i in range(len(ctx.inputs)))
    graph.append(f"{labels}concat=n={len(ctx.inputs)}:v=1:a={int(audio)}[vj]" + ("[a]" if audio else ""))
    graph.append(f"[vj]{codec.tail}[v]")
    out = ctx.output_path(ffmpeg.output_name(ctx.input, "merged", fmt))
    args += ["-filter_complex", ";".join(graph), "-map", "[v]", *codec.codec_args]
    args += ["-map", "[a]", *ffmpeg.audio_codec_for_video(fmt)] if audio else ["-an"]
    total = sum(i.duration for i in infos)
    ffmpeg.run([*args, *ffmpeg.container_args(fmt), ffmpeg.output(out)], ctx, total, message="Merging")
    data = describe(ffmpeg.require_output(out), fmt)
    data["files"] = len(ctx.inputs)
    return ToolResult([out], data)
