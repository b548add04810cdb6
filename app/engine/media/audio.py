"""Shared steps of the audio tools (and the video tools that touch sound): filter one input into one
output, EBU R128 two-pass loudness, silence detection, ZIP packing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine.media import ffmpeg
from app.engine.tool import InputFile, ToolContext, ToolFailure, ToolResult

# Audio tools take audio files and the sound of video files (phone recordings are often .mp4).
AUDIO_INPUTS = ("audio", "video")
DEFAULT_KBPS = 192

# Normalisation targets: the seed's -16 LUFS (podcast/streaming level), -1.5 dBTP peak ceiling.
TARGET_LUFS = -16.0
TARGET_TP = -1.5
TARGET_LRA = 11.0


def filter_audio(
    ctx: ToolContext,
    filters: Sequence[str],
    *,
    suffix: str,
    fmt: str | None = None,
    kbps: int = DEFAULT_KBPS,
    before: Sequence[str] = (),
    out_duration: float | None = None,
    message: str = "Processing",
    info: ffmpeg.MediaInfo | None = None,
    span: tuple[float, float] = (0.0, 100.0),
    extra_args: Sequence[str] = (),
) -> ToolResult:
    """Runs the first audio stream of the input through `filters` into one audio file.

    `before` are input options (e.g. -ss); `out_duration` is the expected output length for
    progress when the filters change it (speed, trim).
    """
    src = ctx.input
    info = info or ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    fmt = fmt or ffmpeg.audio_format_for(src.kind)
    out = ctx.output_path(ffmpeg.output_name(src, suffix, fmt))
    args = [*ffmpeg.inp(src, *before), *ffmpeg.audio_only()]
    if filters:
        args += ["-af", ",".join(filters)]
    args += [*extra_args, *ffmpeg.audio_output_args(fmt, kbps), ffmpeg.output(out)]
    ffmpeg.run(args, ctx, out_duration or info.duration, message=message, span=span)
    return ToolResult([ffmpeg.require_output(out)], result_data(out, fmt))


def result_data(out: Path, fmt: str) -> dict[str, Any]:
    """Duration and format of an output, read back with ffprobe (what the client will get)."""
    try:
        info = ffmpeg.probe(out, _kind_of(fmt))
    except ffmpeg.ProbeFailed:
        return {"format": fmt}
    return {"format": fmt, "duration": round(info.duration, 3)}


def _kind_of(fmt: str) -> str:
    return {"m4r": "m4a", "mkv": "mkv"}.get(fmt, fmt)


# -- loudness -----------------------------------------------------------------------


@dataclass(frozen=True)
class Loudness:
    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    offset: float


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.DOTALL)


def measure_loudness(
    ctx: ToolContext, src: InputFile, duration: float, span: tuple[float, float] = (0.0, 50.0)
) -> Loudness:
    """loudnorm's first pass: the integrated loudness, true peak and range of the input."""
    target = f"I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}"
    stderr = ffmpeg.run(
        [*ffmpeg.inp(src), "-map", "0:a:0", "-af", f"loudnorm={target}:print_format=json", "-f", "null", "-"],
        ctx,
        duration,
        span=span,
        message="Measuring loudness",
        loglevel="info",
    )
    match = _JSON_BLOCK.search(stderr)
    if not match:
        raise ToolFailure("could not measure the loudness")
    values = json.loads(match.group(0))
    try:
        measured = Loudness(
            float(values["input_i"]),
            float(values["input_tp"]),
            float(values["input_lra"]),
            float(values["input_thresh"]),
            float(values["target_offset"]),
        )
    except (KeyError, ValueError) as exc:
        raise ToolFailure("could not measure the loudness") from exc
    if not all(map(_finite, (measured.input_i, measured.input_tp, measured.input_thresh))):
        raise ToolFailure("the audio is silent; there is nothing to normalize")
    return measured


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def loudnorm_filter(measured: Loudness, stream: ffmpeg.Stream) -> str:
    """loudnorm's second pass with the measured values (linear mode keeps the dynamics), resampled back
    to the input's rate (loudnorm works at 192 kHz)."""
    resample = f"aresample={stream.sample_rate or 48000}"
    layout = ffmpeg.channel_layout(stream)
    if layout:
        # ffmpeg 5.1 loses the layout after loudnorm and some encoders (FLAC) then refuse to link; a WAV's
        # "unknown" layout is not a value aresample takes, so the channel count's default layout is named.
        resample += f":ochl={layout}"
    return (
        f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}"
        f":measured_I={measured.input_i}:measured_TP={measured.input_tp}:measured_LRA={measured.input_lra}"
        f":measured_thresh={measured.input_thresh}:offset={measured.offset}:linear=true,{resample}"
    )


# -- silence ------------------------------------------------------------------------

_SILENCE_START = re.compile(r"silence_start: (-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end: (-?[\d.]+)")


def detect_silences(
    ctx: ToolContext,
    src: InputFile,
    duration: float,
    threshold_db: float,
    min_silence_s: float,
    span: tuple[float, float] = (0.0, 50.0),
) -> list[tuple[float, float]]:
    """(start, end) of every silence at least `min_silence_s` long (silencedetect's first pass)."""
    stderr = ffmpeg.run(
        [*ffmpeg.inp(src), "-map", "0:a:0", "-af", f"silencedetect=n={threshold_db}dB:d={min_silence_s}"]
        + ["-f", "null", "-"],
        ctx,
        duration,
        span=span,
        message="Finding silences",
        loglevel="info",
    )
    starts = [float(m) for m in _SILENCE_START.findall(stderr)]
    ends = [float(m) for m in _SILENCE_END.findall(stderr)]
    # A silence running to the end of the file has a start and no end.
    ends += [duration] * (len(starts) - len(ends))
    return [(max(0.0, s), e) for s, e in zip(starts, ends, strict=False)]
