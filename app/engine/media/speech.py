"""Speech to text with Whisper on CTranslate2 (faster-whisper): model choice by language, the audio
decoded by Lutra's own ffmpeg runner, a per-process model cache, and subtitle writers.

Hostile input never reaches faster-whisper or PyAV: ffmpeg (with the safe input rules of ffmpeg.py)
decodes the upload to 16 kHz mono PCM in the job's folder, and faster-whisper only gets the samples.
faster-whisper never downloads anything either: it is always given the folder of an installed model
(a size name like "base" would make it fetch one), and the hub is switched offline before it loads.

numpy and faster-whisper are imported inside the functions: tool modules import this one at start.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.engine.ai import bundles
from app.engine.media import ffmpeg
from app.engine.tool import InputFile, ToolContext, ToolFailure, ToolResult

if TYPE_CHECKING:
    import numpy as np

    from app.engine.media.onnx import SessionCache

log = logging.getLogger("lutra.ai")

BUNDLE = "transcription"
ENGLISH_MODEL = "whisper-tiny-en"
# Multilingual models, best first: a request takes the best one installed.
MULTILINGUAL_MODELS = ("whisper-small", "whisper-base")
SAMPLE_RATE = 16_000

Language = Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko", "id", "th", "vi"]
LANGUAGE_DESCRIPTION = (
    "Spoken language; auto detects it (with a multilingual model installed, otherwise English is assumed). "
    "English works out of the box; the others need a multilingual Whisper model (Transcription feature)."
)

# Where the job's percentage goes: decoding, loading the model, then transcribing up to the end.
_DECODED = 15.0
_LOADED = 20.0
_TRANSCRIBED = 98.0

# faster-whisper's options for every run (the benchmark's bare runs use the same). The VAD filter skips
# what is not speech: silence and noise give no text instead of Whisper's well-known hallucinations
# ("Thank you.") on empty audio.
TRANSCRIBE_OPTIONS: dict[str, Any] = {"beam_size": 5, "vad_filter": True}

# Subtitle cues: at most two lines of this many characters, as broadcasters' guidelines advise.
LINE_CHARS = 42
CUE_LINES = 2


# -- model choice ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    id: str
    path: Path
    multilingual: bool


def installed_multilingual() -> str | None:
    """The best multilingual Whisper model installed here, if any."""
    return next((m for m in MULTILINGUAL_MODELS if bundles.model_present(m)), None)


def choose_model(language: str) -> ModelChoice:
    """en: the packaged tiny.en; auto: a multilingual model if one is installed, else tiny.en; any other
    language: the best multilingual model installed. FeatureNotInstalled (-> 501) when there is none."""
    if language != "en":
        found = installed_multilingual()
        if found is not None:
            return ModelChoice(found, bundles.model_path(found, BUNDLE), True)
        if language != "auto":
            # Names the smallest model that would do, so the answer says what to install.
            bundles.model_path(MULTILINGUAL_MODELS[-1], BUNDLE)
    return ModelChoice(ENGLISH_MODEL, bundles.model_path(ENGLISH_MODEL, BUNDLE), False)


def check_language(language: str) -> None:
    """Before a job is accepted: raises FeatureNotInstalled when no installed model speaks `language`."""
    choose_model(language)


# -- loading --------------------------------------------------------------------------


def _device() -> tuple[str, str]:
    """CUDA when CTranslate2 sees a GPU and ONNX_PROVIDERS does not rule it out, else CPU with int8."""
    import ctranslate2

    from app.config import get_settings

    override = get_settings().onnx_providers.lower()
    if (not override or "cuda" in override) and ctranslate2.get_cuda_device_count() > 0:
        return "cuda", "float16"
    return "cpu", "int8"


def _load(path: Path) -> Any:
    """A WhisperModel for an installed model folder, never anything it would have to fetch."""
    if not path.is_dir() or not (path / "tokenizer.json").is_file():
        # faster-whisper treats anything else as a name to download (and a missing tokenizer too).
        raise ToolFailure("the speech model's files are incomplete; reinstall the Transcription feature")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    from faster_whisper import WhisperModel

    from app.config import get_settings

    def make(device: str, compute_type: str) -> Any:
        return WhisperModel(
            str(path),
            device=device,
            compute_type=compute_type,
            cpu_threads=get_settings().ai_threads,
            local_files_only=True,
        )

    device, compute_type = _device()
    started = time.monotonic()
    try:
        model = make(device, compute_type)
    except Exception:
        if device == "cpu":
            raise
        # A GPU without the CUDA libraries CTranslate2 needs: the CPU still works.
        log.warning("could not load %s on CUDA; using the CPU", path.name, exc_info=True)
        device, compute_type = "cpu", "int8"
        model = make(device, compute_type)
    log.info("loaded Whisper %s on %s (%s) in %.2f s", path.name, device, compute_type, time.monotonic() - started)
    return model


_cache: SessionCache | None = None


def cache() -> SessionCache:
    global _cache
    if _cache is None:
        from app.config import get_settings
        from app.engine.media.onnx import SessionCache, budget_bytes

        _cache = SessionCache(
            float(get_settings().ai_session_idle_s), loader=_load, label="Whisper model", budget_bytes=budget_bytes()
        )
    return _cache


def model(path: Path) -> Any:
    """The cached WhisperModel for a model folder, loaded on first use in this process."""
    return cache().get(path)


# -- decoding -------------------------------------------------------------------------


def decode(ctx: ToolContext, src: InputFile, info: ffmpeg.MediaInfo) -> np.ndarray:
    """The first audio stream as 16 kHz mono float32 samples, decoded by ffmpeg under Lutra's rules."""
    import numpy as np

    scratch = ctx.workdir / ".speech"
    scratch.mkdir(parents=True, exist_ok=True)
    raw = scratch / "audio.pcm"
    try:
        args = [*ffmpeg.inp(src), *ffmpeg.audio_only(), "-ac", "1", "-ar", str(SAMPLE_RATE)]
        args += ["-c:a", "pcm_s16le", "-f", "s16le", ffmpeg.output(raw)]
        ffmpeg.run(args, ctx, info.duration, span=(0.0, _DECODED), message="Decoding audio")
        pcm = np.fromfile(raw, dtype="<i2") if raw.is_file() else np.zeros(0, dtype="<i2")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return pcm.astype(np.float32) / 32768.0


# -- transcribing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    segments: list[Segment]
    duration: float
    model: str
    language: str | None  # None: auto, and nothing was said to detect it from
    language_probability: float | None  # None when the language was given, not detected
    note: str | None = None

    def summary(self) -> dict[str, Any]:
        """What the JSON answer says about the run."""
        data: dict[str, Any] = {
            "model": self.model,
            "language": self.language,
            "languageDetected": self.language_probability is not None,
            "segments": len(self.segments),
            "words": sum(len(s.text.split()) for s in self.segments),
            "duration": round(self.duration, 3),
        }
        if self.language_probability is not None:
            data["languageProbability"] = round(self.language_probability, 3)
        if self.note:
            data["note"] = self.note
        return data


def transcribe(ctx: ToolContext, src: InputFile, language: str) -> Transcript:
    """Decodes the input and transcribes it with the model `language` calls for, reporting progress."""
    choice = choose_model(language)  # before decoding: a missing model is known at once
    info = ffmpeg.probe_input(src)
    ffmpeg.require_audio(info)
    samples = decode(ctx, src, info)
    duration = len(samples) / SAMPLE_RATE
    ctx.check_cancelled()
    ctx.progress(_DECODED, "Loading the speech model")
    whisper = model(choice.path)
    ctx.progress(_LOADED, "Transcribing")
    ask = None if language == "auto" else language
    if not choice.multilingual:
        ask = "en"
    note = None
    if language == "auto" and not choice.multilingual:
        note = "No multilingual model is installed, so English was assumed (tiny.en model)"
    segments: list[Segment] = []
    if len(samples) == 0:
        return Transcript([], duration, choice.id, ask, None, note)
    found, result = whisper.transcribe(samples, language=ask, **TRANSCRIBE_OPTIONS)
    for seg in found:
        ctx.check_cancelled()
        text = " ".join(seg.text.split())
        if text:
            segments.append(Segment(float(seg.start), float(seg.end), text))
        if duration:
            done = min(1.0, float(seg.end) / duration)
            ctx.progress(_LOADED + (_TRANSCRIBED - _LOADED) * done, "Transcribing")
    ctx.progress(_TRANSCRIBED, "Transcribing")  # the last words often end before the audio does
    detected = float(result.language_probability) if ask is None else None
    spoken = result.language if ask is None else ask
    return Transcript(_tidy(segments, duration), duration, choice.id, spoken, detected, note)


def _tidy(segments: Sequence[Segment], duration: float) -> list[Segment]:
    """Times inside the audio, in order, each cue at least a moment long (players skip empty cues)."""
    tidy: list[Segment] = []
    last = 0.0
    for seg in segments:
        start = min(max(seg.start, last), duration)
        end = min(max(seg.end, start + 0.01), duration) if duration else max(seg.end, start + 0.01)
        if end <= start:
            continue
        tidy.append(Segment(start, end, seg.text))
        last = end
    return tidy


# -- writing --------------------------------------------------------------------------


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def cues(segments: Sequence[Segment]) -> list[tuple[float, float, str]]:
    """Subtitle cues: a segment too long for two lines is split, its time shared by characters."""
    out: list[tuple[float, float, str]] = []
    for seg in segments:
        lines = _wrap(seg.text)
        groups = ["\n".join(lines[i : i + CUE_LINES]) for i in range(0, len(lines), CUE_LINES)]
        total = sum(len(g) for g in groups) or 1
        start = seg.start
        for i, group in enumerate(groups):
            end = seg.end if i == len(groups) - 1 else start + (seg.end - seg.start) * len(group) / total
            out.append((start, end, group))
            start = end
    return out


def to_srt(segments: Sequence[Segment]) -> str:
    blocks = [
        f"{i}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n"
        for i, (start, end, text) in enumerate(cues(segments), 1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: Sequence[Segment]) -> str:
    blocks = [f"{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text}\n" for start, end, text in cues(segments)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_txt(segments: Sequence[Segment]) -> str:
    return "".join(s.text + "\n" for s in segments)


WRITERS = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt}


def write(ctx: ToolContext, transcript: Transcript, src: InputFile, fmt: str) -> Path:
    """The transcript as a txt, srt or vtt file (UTF-8) in the job's output folder."""
    out = ctx.output_path(f"{src.stem}.{fmt}")
    out.write_text(WRITERS[fmt](transcript.segments), encoding="utf-8")
    ctx.progress(100.0, "Done")
    return out


def run_tool(ctx: ToolContext, language: str, fmt: str) -> ToolResult:
    """What transcribe-audio and auto-subtitles do: transcribe the input, write it as `fmt`, summarise."""
    transcript = transcribe(ctx, ctx.input, language)
    out = write(ctx, transcript, ctx.input, fmt)
    return ToolResult([out], {"format": fmt, **transcript.summary()})
