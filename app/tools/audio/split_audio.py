"""Split Audio: cut one file into pieces (every N seconds, N equal parts, or at silences); ZIP out."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from app.engine.media import ffmpeg
from app.engine.media.audio import AUDIO_INPUTS, DEFAULT_KBPS, detect_silences
from app.engine.media.layout import zip_outputs
from app.engine.tool import InputRejected, Inputs, ToolContext, ToolResult, ToolSettings, tool

MAX_PARTS = 200
_MUXER = {"mp3": "mp3", "wav": "wav", "ogg": "ogg", "flac": "flac", "m4a": "ipod"}


class SplitAudioSettings(ToolSettings):
    mode: Literal["time", "parts", "silence"] = Field(
        "time", description="time: every segmentS seconds; parts: that many equal parts; silence: at pauses"
    )
    segmentS: float = Field(30, ge=1, le=3600, description="Length of each piece in time mode, in seconds")
    parts: int = Field(2, ge=2, le=100, description="Number of equal parts in parts mode")
    thresholdDb: float = Field(-40, ge=-80, le=-20, description="Silence mode: quieter than this is silence (dBFS)")
    minSilenceS: float = Field(0.5, ge=0.1, le=5, description="Silence mode: pauses at least this long split the file")


def _cuts(ctx: ToolContext, settings: SplitAudioSettings, duration: float) -> list[float]:
    if settings.mode == "time":
        return [settings.segmentS * i for i in range(1, math.ceil(duration / settings.segmentS))]
    if settings.mode == "parts":
        return [duration * i / settings.parts for i in range(1, settings.parts)]
    silences = detect_silences(ctx, ctx.input, duration, settings.thresholdDb, settings.minSilenceS, span=(0, 50))
    # Cut in the middle of each pause; pauses at the very start or end split nothing off.
    return [(s + e) / 2 for s, e in silences if s > 0.05 and e < duration - 0.05]


@tool(
    id="split-audio",
    section="audio",
    title="Split Audio",
    description="Split audio into pieces by length, into equal parts, or at silences; returns a ZIP.",
    settings=SplitAudioSettings,
    inputs=Inputs(kinds=AUDIO_INPUTS),
    long=True,
)
def run(ctx: ToolContext, settings: SplitAudioSettings) -> ToolResult:
    src = ctx.input
    info = ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    if not info.duration:
        raise InputRejected("The audio's length is unknown, so it cannot be split", 400, "INVALID_INPUT")
    cuts = [round(c, 3) for c in _cuts(ctx, settings, info.duration)]
    if len(cuts) + 1 > MAX_PARTS:
        raise InputRejected(f"That would make more than {MAX_PARTS} pieces", 400, "TOO_MANY_PARTS")
    fmt = ffmpeg.audio_format_for(src.kind)
    parts_dir = ctx.workdir / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    pattern = parts_dir / f"{src.stem}_%03d.{fmt}"
    codec = ffmpeg.audio_output_args(fmt, DEFAULT_KBPS)
    codec = codec[: codec.index("-f")]  # the segment muxer wraps the format
    args = [*ffmpeg.inp(src), *ffmpeg.audio_only(), *codec, "-f", "segment", "-segment_format", _MUXER[fmt]]
    if cuts:
        args += ["-segment_times", ",".join(f"{c:.3f}" for c in cuts)]
    else:
        args += ["-segment_time", str(info.duration + 1)]
    args += ["-reset_timestamps", "1", ffmpeg.output(pattern)]
    start = 50.0 if settings.mode == "silence" else 0.0
    ffmpeg.run(args, ctx, info.duration, span=(start, 95), message="Splitting")
    files = sorted(parts_dir.glob(f"{src.stem}_*.{fmt}"))
    if not files:
        raise InputRejected("Nothing to split", 400, "INVALID_INPUT")
    bounds = [0.0, *cuts, info.duration]
    pieces = [
        {"name": f.name, "startS": bounds[i], "durationS": round(bounds[i + 1] - bounds[i], 3)}
        for i, f in enumerate(files)
        if i + 1 < len(bounds)
    ]
    archive = zip_outputs(ctx, files, f"{src.stem}_split.zip")
    parts_dir.rmdir()
    return ToolResult([archive], {"parts": len(files), "pieces": pieces})
