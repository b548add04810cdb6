"""Ringtone Maker: a short clip (up to 30 s) with gentle fades, as an iPhone .m4r or an MP3."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, result_data
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool


class RingtoneSettings(ToolSettings):
    startS: float = Field(0, ge=0, description="Where the ringtone starts in the audio, in seconds")
    durationS: float = Field(30, ge=1, le=30, description="Length of the ringtone, in seconds (iPhone: at most 30)")
    format: Literal["m4r", "mp3"] = Field("m4r", description="m4r (AAC, iPhone) or mp3 (Android and others)")
    fade: bool = Field(True, description="Fade in and out over half a second so it does not start abruptly")


@tool(
    id="ringtone-maker",
    section="audio",
    title="Ringtone Maker",
    description="Cut a ringtone of up to 30 seconds, as M4R for iPhone or MP3.",
    settings=RingtoneSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: RingtoneSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    if info.duration and settings.startS >= info.duration:
        raise InputRejected(f"startS is past the end of the audio ({info.duration:.2f} s)", 400, "INVALID_RANGE")
    length = min(settings.durationS, info.duration - settings.startS) if info.duration else settings.durationS
    filters = []
    if settings.fade and length > 2:
        filters = ["afade=t=in:st=0:d=0.5", f"afade=t=out:st={length - 0.5:.3f}:d=0.5"]
    # An .m4r is an M4A (AAC in the ipod flavour of MP4) under another name.
    codec = ffmpeg.audio_output_args("m4a" if settings.format == "m4r" else "mp3", 192)
    out = ctx.output_path(ffmpeg.output_name(src, "ringtone", settings.format))
    args = [*ffmpeg.inp(src, "-ss", ffmpeg.seconds(settings.startS), "-t", ffmpeg.seconds(length))]
    args += [*ffmpeg.audio_only(), *(["-af", ",".join(filters)] if filters else []), *codec, ffmpeg.output(out)]
    ffmpeg.run(args, ctx, length, message="Cutting ringtone")
    return ToolResult([ffmpeg.require_output(out)], result_data(out, "m4a" if settings.format == "m4r" else "mp3"))
