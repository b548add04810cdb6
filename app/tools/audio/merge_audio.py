"""Merge Audio: join several files end to end into one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, DEFAULT_KBPS, result_data
from app.engine.tool import Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_FILES = 50


class MergeAudioSettings(ToolSettings):
    format: Literal["mp3", "wav", "flac", "m4a"] = Field("mp3", description="Output format")


@tool(
    id="merge-audio",
    section="audio",
    title="Merge Audio",
    description="Join several audio files, in upload order, into one.",
    settings=MergeAudioSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS, min_files=2, max_files=MAX_FILES),
    long=True,
)
def run(ctx: ToolContext, settings: MergeAudioSettings) -> ToolResult:
    infos = [ffmpeg.probe_input(f) for f in ctx.inputs]
    for f, info in zip(ctx.inputs, infos, strict=True):
        ffmpeg.require_audio(info, f.name)
    # Files differ in rate and layout; concat needs them equal, so every input is brought to the
    # first one's rate (stereo, unless all are mono).
    rate = infos[0].audio.sample_rate or 44100  # type: ignore[union-attr]
    layout = "mono" if all(i.audio.channels == 1 for i in infos) else "stereo"  # type: ignore[union-attr]
    args: list[str] = []
    graph = []
    for i, f in enumerate(ctx.inputs):
        args += ffmpeg.inp(f)
        graph.append(f"[{i}:a:0]aresample={rate},aformat=sample_fmts=fltp:channel_layouts={layout}[a{i}]")
    joined = "".join(f"[a{i}]" for i in range(len(ctx.inputs)))
    graph.append(f"{joined}concat=n={len(ctx.inputs)}:v=0:a=1[out]")
    out = ctx.output_path(ffmpeg.output_name(ctx.input, "merged", settings.format))
    args += ["-filter_complex", ";".join(graph), "-map", "[out]"]
    args += ffmpeg.audio_output_args(settings.format, DEFAULT_KBPS)
    ffmpeg.run([*args, ffmpeg.output(out)], ctx, sum(i.duration for i in infos), message="Merging")
    data = result_data(ffmpeg.require_output(out), settings.format)
    data["files"] = len(ctx.inputs)
    return ToolResult([out], data)
