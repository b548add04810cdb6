"""FFmpeg and ffprobe: the one place that builds and runs their commands.

Rules every video and audio tool gets from here:
- Inputs are opened as `-protocol_whitelist file -f <demuxer> -i file:<absolute path>`. The demuxer
  is forced from the kind sniffed from the bytes, so an upload can never be read as an HLS playlist,
  an ffconcat list or a `subfile:` reference, and no input may open a network URL; ffmpeg only reads
  the job's own files.
- ffmpeg runs as a child of the worker with `-progress pipe:1`; its out_time is turned into real
  percentages against the probed duration. Cancellation and the time limit kill it.
- A failure becomes one short line naming the cause; ffmpeg's log goes to our log, never to clients.
- Video is H.264 in yuv420p (mp4 gets +faststart), or VP9/Opus for WebM. HW_ACCEL=nvenc|vaapi|qsv
  swaps in the hardware H.264 encoder when this ffmpeg has it and it works, else software with a warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import selectors
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal

from app.engine import failures
from app.engine.media.process import wait_or_stop
from app.engine.tool import Cancelled, InputFile, InputRejected, ToolContext, ToolFailure

log = logging.getLogger("lutra.ffmpeg")

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# The demuxer forced for each sniffed content kind. Kinds missing here are never handed to ffmpeg.
DEMUXERS: dict[str, str] = {
    "mp4": "mov",
    "mov": "mov",
    "m4a": "mov",
    "webm": "matroska",
    "mkv": "matroska",
    "avi": "avi",
    "mp3": "mp3",
    "wav": "wav",
    "ogg": "ogg",
    "flac": "flac",
    "aac": "aac",
    "gif": "gif",
    "png": "png_pipe",
    "jpeg": "jpeg_pipe",
    "webp": "webp_pipe",
    "bmp": "bmp_pipe",
    "tiff": "tiff_pipe",
    "srt": "srt",
    "vtt": "webvtt",
    "ass": "ass",
}

Quality = Literal["high", "balanced", "small"]
_X264_CRF: dict[str, int] = {"high": 18, "balanced": 23, "small": 28}
_VP9_CRF: dict[str, int] = {"high": 24, "balanced": 32, "small": 40}

# Encoder speed, the other trade-off (time against size at the same CRF), chosen from
# bench/encoder_table.py on a noisy 1080p clip. x264: veryfast is the knee (11.3 CPU s, 3.0 MB for 3 s;
# the former default "fast" took 16.4 s for 3.6 MB, medium 18.8 s for 3.2 MB); superfast is no quicker
# than veryfast there and ultrafast only 24 % quicker for a file almost 4 times larger.
Speed = Literal["fast", "balanced", "thorough"]
X264_PRESET: dict[str, str] = {"fast": "ultrafast", "balanced": "veryfast", "thorough": "medium"}
# VP9 (deadline good, row-mt) is several times slower than x264 on that clip: cpu-used 5, 6 and 8 all
# took ~50 CPU s for the same 4.2 MB (libvpx stops at 5 in this mode); 4 measured 45 s for 4.3 MB, the
# knee, so it stays "balanced"; 2 took 75 s (a higher quality at the same CRF, not a smaller file).
VP9_CPU_USED: dict[str, int] = {"fast": 5, "balanced": 4, "thorough": 2}


class ProbeFailed(ToolFailure):
    """ffprobe could not read the file as the media it claims to be."""


# -- probing ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    index: int
    type: str  # video | audio | subtitle | data | attachment
    codec: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    channel_layout: str = ""
    language: str = ""
    duration: float = 0.0
    rotation: int = 0
    attached_pic: bool = False  # cover art in audio files: a "video" stream that is one picture
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaInfo:
    duration: float  # seconds; 0 when unknown
    format: str
    bit_rate: int
    streams: tuple[Stream, ...]
    tags: dict[str, str]

    @property
    def video(self) -> Stream | None:
        """The first real video stream (cover art does not count)."""
        return next((s for s in self.streams if s.type == "video" and not s.attached_pic), None)

    @property
    def audio(self) -> Stream | None:
        return next((s for s in self.streams if s.type == "audio"), None)

    @property
    def subtitles(self) -> list[Stream]:
        return [s for s in self.streams if s.type == "subtitle"]

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary for tool results."""
        return {
            "duration": round(self.duration, 3),
            "format": self.format,
            "streams": [
                {
                    k: v
                    for k, v in {
                        "index": s.index,
                        "type": s.type,
                        "codec": s.codec,
                        "width": s.width or None,
                        "height": s.height or None,
                        "fps": round(s.fps, 3) or None,
                        "sampleRate": s.sample_rate or None,
                        "channels": s.channels or None,
                        "language": s.language or None,
                    }.items()
                    if v is not None
                }
                for s in self.streams
            ],
        }


def _rate(text: str | None) -> float:
    try:
        value = Fraction(text or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(value) if 0 < value < 10_000 else 0.0


def _float(text: Any) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return 0.0
    return value if value == value and value >= 0 else 0.0  # NaN and negatives mean "unknown"


def _stream(raw: dict[str, Any]) -> Stream:
    tags = {str(k).lower(): str(v) for k, v in (raw.get("tags") or {}).items()}
    rotation = 0
    for side in raw.get("side_data_list") or []:
        if isinstance(side.get("rotation"), int | float):
            rotation = int(side["rotation"])
    return Stream(
        index=int(raw.get("index", 0)),
        type=str(raw.get("codec_type", "")),
        codec=str(raw.get("codec_name", "")),
        width=int(raw.get("width") or 0),
        height=int(raw.get("height") or 0),
        fps=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
        sample_rate=int(_float(raw.get("sample_rate"))),
        channels=int(raw.get("channels") or 0),
        channel_layout=str(raw.get("channel_layout") or ""),
        language=tags.get("language", "") if tags.get("language") != "und" else "",
        duration=_float(raw.get("duration")),
        rotation=rotation,
        attached_pic=bool((raw.get("disposition") or {}).get("attached_pic")),
        tags=tags,
    )


# ffmpeg's default layout for a channel count: WAV and raw files often carry only the count, and
# ffprobe then says "unknown", which no filter option accepts.
DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def channel_layout(stream: Stream) -> str | None:
    """A layout name ffmpeg's filters accept for this audio stream, or None when there is none."""
    named = stream.channel_layout.split("(")[0]
    if named and named != "unknown" and re.fullmatch(r"[a-z0-9.]+", named):
        return stream.channel_layout if re.fullmatch(r"[a-z0-9.()]+", stream.channel_layout) else named
    return DEFAULT_LAYOUTS.get(stream.channels)


def input_args(path: Path, kind: str | None, *before: str) -> list[str]:
    """`-i` for one input, with the protocol whitelist and the demuxer forced from the sniffed kind."""
    demuxer = DEMUXERS.get(kind or "")
    if demuxer is None:
        raise InputRejected(f"ffmpeg does not read {kind or 'unrecognised'} files here", 415, "UNSUPPORTED_MEDIA_TYPE")
    return ["-protocol_whitelist", "file", "-f", demuxer, *before, "-i", f"file:{Path(path).resolve()}"]


def inp(file: InputFile, *before: str) -> list[str]:
    """`-i` arguments for one of the job's inputs."""
    return input_args(file.path, file.kind, *before)


def _probe_record(path: Path) -> Path | None:
    """Where a job input's probe is kept: beside it in the job's `in` folder, never among outputs.

    Upload names there always start with their index ("0000-"), so no upload can take this name
    for another file's record."""
    return path.with_name(path.name + ".probe.json") if path.parent.name == "in" else None


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _recorded_probe(path: Path, kind: str) -> dict[str, Any] | None:
    """ffprobe's answer saved by an earlier probe of the same, unchanged file (the upload check runs in
    the server, the tool in a worker: the second ffprobe would cost a process start for nothing)."""
    where = _probe_record(path)
    if where is None:
        return None
    try:
        record = json.loads(where.read_text())
        if record.get("kind") == kind and record.get("stamp") == _stamp(path):
            return record["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def probe(path: Path, kind: str | None, timeout_s: float = 30.0) -> MediaInfo:
    """Streams, duration and format tags of a file, read by ffprobe with the same input rules as ffmpeg."""
    demuxer = DEMUXERS.get(kind or "")
    if demuxer is None:
        raise ProbeFailed("not an audio or video file")
    path = Path(path).resolve()
    data = _recorded_probe(path, kind or "")
    if data is None:
        cmd = [FFPROBE, "-v", "error", "-hide_banner", "-protocol_whitelist", "file", "-f", demuxer]
        cmd += ["-show_format", "-show_streams", "-of", "json", f"file:{path}"]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ProbeFailed("reading the file took too long") from exc
        if done.returncode != 0:
            log.info("ffprobe failed on a %s input: %s", kind, done.stderr.decode("utf-8", "replace")[-300:].strip())
            raise ProbeFailed("not a readable audio or video file")
        try:
            data = json.loads(done.stdout or b"{}")
        except ValueError as exc:
            raise ProbeFailed("not a readable audio or video file") from exc
        where = _probe_record(path)
        if where is not None:
            with contextlib.suppress(OSError):
                where.write_text(json.dumps({"kind": kind, "stamp": _stamp(path), "data": data}))
    fmt = data.get("format") or {}
    streams = tuple(_stream(s) for s in data.get("streams") or [])
    duration = _float(fmt.get("duration")) or max((s.duration for s in streams), default=0.0)
    return MediaInfo(
        duration=duration,
        format=str(fmt.get("format_name", "")),
        bit_rate=int(_float(fmt.get("bit_rate"))),
        streams=streams,
        tags={str(k).lower(): str(v) for k, v in (fmt.get("tags") or {}).items()},
    )


def probe_input(file: InputFile) -> MediaInfo:
    try:
        return probe(file.path, file.kind)
    except ProbeFailed as exc:
        raise InputRejected(f"{file.name}: {exc}", 415, "UNSUPPORTED_MEDIA_TYPE") from exc


def require_video(info: MediaInfo, name: str = "the input") -> Stream:
    if info.video is None:
        raise InputRejected(f"{name} has no video stream", 400, "NO_VIDEO_STREAM")
    return info.video


def require_audio(info: MediaInfo, name: str = "the input") -> Stream:
    if info.audio is None:
        raise InputRejected(f"{name} has no audio stream", 400, "NO_AUDIO_STREAM")
    return info.audio


# -- running ------------------------------------------------------------------------


def explain(stderr: str) -> str:
    """One short line naming why ffmpeg failed (the causes live in app/engine/failures.py)."""
    return failures.ffmpeg(stderr)


def _default_timeout() -> float:
    from app.config import get_settings

    return float(get_settings().job_timeout_s)


def run(
    args: Sequence[str],
    ctx: ToolContext | None,
    duration: float | None = None,
    *,
    span: tuple[float, float] = (0.0, 100.0),
    message: str | None = None,
    timeout_s: float | None = None,
    cwd: Path | None = None,
    loglevel: str = "error",
) -> str:
    """Runs ffmpeg with `args` (inputs, filters, outputs); returns its stderr (for measuring passes).

    Progress (out_time against `duration`) is mapped into `span` of the job's percentage, so a
    two-pass tool can report 0-50 for the first pass and 50-100 for the second.
    """
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-y", "-loglevel", loglevel, "-progress", "pipe:1", "-nostats", *args]
    limit = timeout_s if timeout_s is not None else _default_timeout()
    log.debug("ffmpeg %s", " ".join(cmd[1:]))
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, bufsize=0
    )
    # stderr is drained on its own thread so a chatty ffmpeg never blocks on a full pipe.
    errors: deque[str] = deque(maxlen=4000)

    def drain() -> None:
        assert proc.stderr is not None
        for raw in iter(proc.stderr.readline, b""):
            errors.append(raw.decode("utf-8", "replace").rstrip())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + limit
    pending = b""
    lo, hi = span
    try:
        while True:
            if ctx is not None and ctx.cancelled():
                raise Cancelled()
            if time.monotonic() > deadline:
                raise ToolFailure(f"took longer than the {int(limit)} s time limit")
            if selector.select(timeout=0.1):
                chunk = proc.stdout.read(65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                seconds = None
                for line in lines:
                    key, _, value = line.decode("ascii", "replace").partition("=")
                    if key in ("out_time_us", "out_time_ms") and value.strip().lstrip("-").isdigit():
                        seconds = int(value) / 1_000_000  # both keys are microseconds in ffmpeg 5
                if seconds is not None and ctx is not None and duration:
                    ctx.progress(lo + (hi - lo) * min(1.0, max(0.0, seconds / duration)), message)
            elif proc.poll() is not None:
                break
        code = wait_or_stop(proc, ctx, deadline, f"took longer than the {int(limit)} s time limit")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        selector.close()
        reader.join(timeout=5)
        proc.stdout.close()
    stderr = "\n".join(errors)
    if code != 0:
        log.warning("ffmpeg failed (exit %s): %s", code, stderr[-2000:])
        raise ToolFailure(explain(stderr))
    if ctx is not None:
        ctx.progress(hi, message)
    return stderr


def output(path: Path) -> str:
    """An output argument: `file:` keeps a name with a colon from being read as a protocol."""
    return f"file:{Path(path).resolve()}"


def require_output(path: Path, what: str = "ffmpeg produced no output") -> Path:
    if not path.is_file() or path.stat().st_size == 0:
        raise ToolFailure(what)
    return path


def seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


# -- encoders -----------------------------------------------------------------------


@cache
def encoders() -> frozenset[str]:
    """Encoder names this ffmpeg lists (checked once per process)."""
    try:
        done = subprocess.run(
            [FFMPEG, "-hide_banner", "-encoders"], capture_output=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    names = set()
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


_HW_ENCODERS = {"nvenc": "h264_nvenc", "vaapi": "h264_vaapi", "qsv": "h264_qsv"}
VAAPI_DEVICE = "/dev/dri/renderD128"


@dataclass(frozen=True)
class VideoCodec:
    """How H.264 gets encoded here: global args (devices), codec args, and the filter that must end
    every video chain (pixel format, or upload to the GPU)."""

    name: str
    global_args: tuple[str, ...]
    codec_args: tuple[str, ...]
    tail: str

    def chain(self, filters: Sequence[str]) -> str:
        """A `-vf` chain: the tool's filters followed by the encoder's tail."""
        return ",".join([*[f for f in filters if f], self.tail])


def _hw_codec(accel: str, crf: int) -> VideoCodec | None:
    name = _HW_ENCODERS[accel]
    if accel == "nvenc":
        return VideoCodec(
            name, (), ("-c:v", name, "-preset", "p4", "-rc", "vbr", "-cq", str(crf), "-b:v", "0"), "format=yuv420p"
        )
    if accel == "vaapi":
        return VideoCodec(
            name, ("-vaapi_device", VAAPI_DEVICE), ("-c:v", name, "-qp", str(crf)), "format=nv12,hwupload"
        )
    return VideoCodec(name, (), ("-c:v", name, "-global_quality", str(crf)), "format=nv12")


@cache
def _hw_works(accel: str) -> bool:
    """Whether the hardware encoder is listed and really opens (a listed nvenc without a GPU fails)."""
    name = _HW_ENCODERS.get(accel)
    if name is None:
        log.warning("HW_ACCEL=%s is not one of nvenc, vaapi, qsv: using software encoding", accel)
        return False
    if name not in encoders():
        log.warning("HW_ACCEL=%s but this ffmpeg has no %s encoder: using software encoding", accel, name)
        return False
    codec = _hw_codec(accel, 23)
    assert codec is not None
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", *codec.global_args]
    cmd += ["-f", "lavfi", "-i", "testsrc2=s=256x144:d=0.2", "-vf", codec.tail, *codec.codec_args, "-f", "null", "-"]
    try:
        ok = subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if ok:
        log.info("HW_ACCEL=%s: encoding H.264 with %s", accel, name)
    else:
        log.warning("HW_ACCEL=%s: %s is listed but does not start here: using software encoding", accel, name)
    return ok


def hw_accel() -> str:
    from app.config import get_settings

    return (get_settings().hw_accel or "").strip().lower()


def h264(quality: Quality | int = "balanced", speed: Speed = "balanced") -> VideoCodec:
    """The H.264 encoder: HW_ACCEL's when it works, libx264 otherwise. An int is a CRF (0-51)."""
    crf = quality if isinstance(quality, int) else _X264_CRF[quality]
    accel = hw_accel()
    if accel and accel != "none" and _hw_works(accel):
        codec = _hw_codec(accel, crf)
        if codec is not None:
            return codec
    args = ("-c:v", "libx264", "-preset", X264_PRESET[speed], "-crf", str(crf))
    return VideoCodec("libx264", (), args, "format=yuv420p")


def vp9(quality: Quality | int = "balanced", speed: Speed = "balanced") -> VideoCodec:
    crf = quality if isinstance(quality, int) else _VP9_CRF[quality]
    # row-mt lets each frame use every core (tile rows in parallel): several times faster on 1080p.
    args = ("-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-row-mt", "1", "-deadline", "good")
    return VideoCodec("libvpx-vp9", (), (*args, "-cpu-used", str(VP9_CPU_USED[speed])), "format=yuv420p")


VideoFormat = Literal["mp4", "mov", "webm"]
MUXERS: dict[str, str] = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska", "avi": "avi"}


def video_format_for(kind: str) -> VideoFormat:
    """The output container for an input: mp4, mov and webm stay; everything else becomes mp4."""
    return kind if kind in ("mp4", "mov", "webm") else "mp4"  # type: ignore[return-value]


def video_codec(fmt: str, quality: Quality | int = "balanced", speed: Speed = "balanced") -> VideoCodec:
    return vp9(quality, speed) if fmt == "webm" else h264(quality, speed)


def audio_codec_for_video(fmt: str, kbps: int = 128) -> list[str]:
    if fmt == "avi":
        return ["-c:a", "libmp3lame", "-b:a", f"{kbps}k"]  # AVI players expect MP3 sound, not AAC
    return ["-c:a", "libopus", "-b:a", f"{kbps}k"] if fmt == "webm" else ["-c:a", "aac", "-b:a", f"{kbps}k"]


def container_args(fmt: str) -> list[str]:
    """Muxer and its options; +faststart puts the index first so players start before the download ends."""
    args = ["-f", MUXERS.get(fmt, fmt)]
    if fmt in ("mp4", "mov", "ipod"):
        args += ["-movflags", "+faststart"]
    return args


def video_output_args(
    fmt: str, codec: VideoCodec, filters: Sequence[str], *, audio: bool, kbps: int = 128
) -> list[str]:
    """Everything after the inputs for a simple one-video-out job: filters, codecs, muxer."""
    args = ["-vf", codec.chain(filters), *codec.codec_args]
    args += audio_codec_for_video(fmt, kbps) if audio else ["-an"]
    return [*args, "-sn", "-dn", *container_args(fmt)]


# -- audio formats ------------------------------------------------------------------

AudioFormat = Literal["mp3", "wav", "ogg", "flac", "m4a"]
AUDIO_FORMATS: tuple[str, ...] = ("mp3", "wav", "ogg", "flac", "m4a")


def audio_format_for(kind: str) -> AudioFormat:
    """Audio tools keep the input's format; audio taken from a video container becomes m4a."""
    return kind if kind in AUDIO_FORMATS else "m4a"  # type: ignore[return-value]


def audio_output_args(fmt: str, kbps: int = 192) -> list[str]:
    """Codec and muxer for an audio-only output; bitrate only matters for the lossy formats."""
    if fmt == "mp3":
        return ["-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-id3v2_version", "3", "-f", "mp3"]
    if fmt == "ogg":
        # libvorbis refuses bitrates its quality ladder can't reach at low sample rates; a quality
        # level near the asked bitrate works at any rate.
        return ["-c:a", "libvorbis", "-q:a", str(_vorbis_quality(kbps)), "-f", "ogg"]
    if fmt == "m4a":
        # The ipod muxer writes the M4A brand, which players (and our own sniffing) read as audio.
        return ["-c:a", "aac", "-b:a", f"{kbps}k", "-f", "ipod", "-movflags", "+faststart"]
    if fmt == "flac":
        return ["-c:a", "flac", "-f", "flac"]
    return ["-c:a", "pcm_s16le", "-f", "wav"]


_VORBIS_LADDER = ((64, 0), (80, 1), (96, 2), (112, 3), (128, 4), (160, 5), (192, 6), (224, 7), (256, 8), (320, 9))


def _vorbis_quality(kbps: int) -> int:
    return next((q for rate, q in _VORBIS_LADDER if kbps <= rate), 10) if kbps >= 48 else -1


def audio_only() -> list[str]:
    """Maps the first audio stream only (drops cover art, video, subtitles)."""
    return ["-map", "0:a:0", "-vn", "-sn", "-dn"]


# -- helpers for filters ------------------------------------------------------------

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")


def color(hex_value: str) -> str:
    """A validated hex colour as ffmpeg writes it (0xRRGGBB[AA])."""
    match = _HEX.match(hex_value.strip())
    if not match:
        raise ToolFailure("colour must be a hex value like #ff8800")
    return "0x" + match.group(1) + (match.group(2) or "")


def atempo_chain(factor: float) -> list[str]:
    """atempo takes 0.5-2 per instance (more distorts); larger changes chain several."""
    steps = []
    while factor > 2.0:
        steps.append("atempo=2.0")
        factor /= 2.0
    while factor < 0.5:
        steps.append("atempo=0.5")
        factor /= 0.5
    steps.append(f"atempo={factor:.6f}")
    return steps


def even(value: float) -> int:
    """Nearest even integer >= 2: yuv420p needs even sides."""
    return max(2, round(value / 2.0) * 2)


def has_filter(name: str) -> bool:
    return name in filters()


@cache
def filters() -> frozenset[str]:
    try:
        done = subprocess.run(
            [FFMPEG, "-hide_banner", "-filters"], capture_output=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    names = set()
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)


def output_name(file: InputFile, suffix: str, ext: str) -> str:
    return f"{file.stem}_{suffix}.{ext}"
