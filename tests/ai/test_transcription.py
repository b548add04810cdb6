"""Speech to text: transcribe-audio and auto-subtitles through the HTTP API on the packaged Whisper
tiny.en model, with sentences spoken by espeak-ng; the speech module's model choice, subtitle writing
and progress directly.

The multilingual path (whisper-base/small) is covered up to the model choice and the request's
acceptance only: CTranslate2 cannot build a tiny stand-in Whisper model without transformers and
torch, so no test transcribes German.
"""

from __future__ import annotations

import json
import re
import string
import subprocess
from collections.abc import Iterator
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.engine.ai import bundles
from app.engine.media import speech
from app.engine.tool import InputFile, ToolContext
from tests.assertions import assert_error
from tests.tools.av import Media, av, fail_long, fetch, ffmpeg, post, run_long

__all__ = ["av"]

# Sentences tiny.en gets word for word from espeak-ng's voice at 140 words a minute (others, like the
# quick brown fox, lose a word or two to the synthetic voice).
FIRST = "I would like to order a cup of coffee please."
SECOND = "Please call me when you get home tonight."
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)([,.])(\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)$")


@pytest.fixture(scope="session")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("speech")
    wav = root / "spoken.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), f"{FIRST} {SECOND}"], check=True)
    ffmpeg("-i", str(wav), "-c:a", "libmp3lame", "-b:a", "64k", str(root / "spoken.mp3"))
    video = ["-f", "lavfi", "-i", "color=c=navy:s=160x120:r=15", "-i", str(wav)]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    ffmpeg(*video, *x264, "-c:a", "aac", "-b:a", "48k", "-shortest", str(root / "spoken.mp4"))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "3", "-c:a", "libmp3lame", str(root / "silent.mp3"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15:duration=1", *x264, str(root / "mute.mp4"))
    return Media(root)


@pytest.fixture(scope="module", autouse=True)
def no_downloaded_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """An empty MODELS_DIR and Lutra's own manifest: only the packaged tiny.en is installed."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODELS_DIR", str(tmp_path_factory.mktemp("models")))
        mp.delenv("AI_MANIFEST", raising=False)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def words(text: str) -> list[str]:
    return text.lower().translate(str.maketrans("", "", string.punctuation)).split()


def word_errors(heard: str, said: str) -> int:
    """Substituted, missing and extra words between two texts (case and punctuation ignored)."""
    a, b = words(heard), words(said)
    same = sum(block.size for block in SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks())
    return max(len(a), len(b)) - same


def duration_of(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        check=True,
    )
    return float(out.stdout)


def parse_cues(text: str, fmt: str) -> list[tuple[float, float, str]]:
    """Checks the SRT/WebVTT layout line by line and returns its cues as (start, end, text)."""
    if fmt == "vtt":
        assert text.startswith("WEBVTT\n\n")
        text = text[len("WEBVTT\n\n") :]
    cues = []
    for n, block in enumerate(b for b in text.strip("\n").split("\n\n") if b):
        lines = block.split("\n")
        if fmt == "srt":
            assert lines.pop(0) == str(n + 1)
        match = CUE.match(lines[0])
        assert match, lines[0]
        assert match.group(4) == ("," if fmt == "srt" else ".")
        h1, m1, s1, _, ms1, h2, m2, s2, ms2 = match.groups()
        start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(ms1) / 1000
        end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000
        assert 1 <= len(lines[1:]) <= 2 and all(lines[1:])
        cues.append((start, end, " ".join(lines[1:])))
    return cues


def assert_timed(cues: list[tuple[float, float, str]], duration: float) -> None:
    assert cues
    last = 0.0
    for start, end, _ in cues:
        assert last <= start < end <= duration + 0.01
        last = end


# -- over HTTP -------------------------------------------------------------------------------------


def test_transcribe_audio_to_text(av: TestClient, spoken: Media, tmp_path: Path) -> None:
    result = run_long(av, "audio/transcribe-audio", [("spoken.mp3", spoken.bytes("spoken.mp3"))])
    assert result["downloadUrl"].split("?")[0].endswith("/spoken.txt")
    text = fetch(av, result, tmp_path).read_text(encoding="utf-8")
    assert word_errors(text, f"{FIRST} {SECOND}") <= 1, text
    assert result["model"] == "whisper-tiny-en"
    assert result["language"] == "en" and result["languageDetected"] is False
    assert "No multilingual model" in result["note"]  # auto fell back to English, and says so
    assert result["words"] == len(text.split())
    assert result["duration"] == pytest.approx(duration_of(spoken.path("spoken.mp3")), abs=0.1)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_transcribe_audio_to_subtitles(av: TestClient, spoken: Media, tmp_path: Path, fmt: str) -> None:
    result = run_long(
        av,
        "audio/transcribe-audio",
        [("spoken.mp3", spoken.bytes("spoken.mp3"))],
        {"language": "en", "outputFormat": fmt},
    )
    assert "note" not in result and result["format"] == fmt
    out = fetch(av, result, tmp_path)
    assert out.name == f"spoken.{fmt}"
    cues = parse_cues(out.read_text(encoding="utf-8"), fmt)
    assert_timed(cues, duration_of(spoken.path("spoken.mp3")))
    assert word_errors(" ".join(c[2] for c in cues), f"{FIRST} {SECOND}") <= 1
    # Two sentences with a pause between them: the second starts after the first one's words.
    assert len(cues) >= 2 and cues[-1][0] >= 1.0


def test_auto_subtitles_for_a_video(av: TestClient, spoken: Media, tmp_path: Path) -> None:
    result = run_long(av, "video/auto-subtitles", [("spoken.mp4", spoken.bytes("spoken.mp4"))])
    out = fetch(av, result, tmp_path)
    assert out.name == "spoken.srt" and result["format"] == "srt"
    cues = parse_cues(out.read_text(encoding="utf-8"), "srt")
    assert_timed(cues, duration_of(spoken.path("spoken.mp4")))
    assert word_errors(" ".join(c[2] for c in cues), f"{FIRST} {SECOND}") <= 1


def test_auto_subtitles_as_webvtt(av: TestClient, spoken: Media, tmp_path: Path) -> None:
    result = run_long(
        av, "video/auto-subtitles", [("spoken.mp4", spoken.bytes("spoken.mp4"))], {"format": "vtt", "language": "en"}
    )
    out = fetch(av, result, tmp_path)
    assert out.name == "spoken.vtt"
    assert_timed(parse_cues(out.read_text(encoding="utf-8"), "vtt"), duration_of(spoken.path("spoken.mp4")))


def test_silence_gives_an_empty_transcript(av: TestClient, spoken: Media, tmp_path: Path) -> None:
    result = run_long(av, "audio/transcribe-audio", [("silent.mp3", spoken.bytes("silent.mp3"))])
    assert fetch(av, result, tmp_path).read_text() == ""
    assert result["segments"] == 0 and result["words"] == 0
    result = run_long(
        av, "audio/transcribe-audio", [("silent.mp3", spoken.bytes("silent.mp3"))], {"outputFormat": "vtt"}
    )
    assert fetch(av, result, tmp_path).read_text() == "WEBVTT\n\n"


def test_a_video_without_sound_is_refused(av: TestClient, spoken: Media) -> None:
    final = fail_long(av, "video/auto-subtitles", [("mute.mp4", spoken.bytes("mute.mp4"))])
    assert final["code"] == "NO_AUDIO_STREAM"


@pytest.mark.parametrize(
    ("path", "name"), [("audio/transcribe-audio", "spoken.mp3"), ("video/auto-subtitles", "spoken.mp4")]
)
def test_other_languages_need_a_multilingual_model(av: TestClient, spoken: Media, path: str, name: str) -> None:
    r = post(av, path, [(name, spoken.bytes(name))], {"language": "de"})
    body = assert_error(r, 501)
    assert body["code"] == "FEATURE_NOT_INSTALLED"
    assert body["feature"] == "transcription" and body["featureName"] == "Transcription"
    assert "whisper-base" in body["error"]
    assert body["estimatedSize"] == bundles.get_model("whisper-base").size + bundles.get_model("whisper-small").size


def test_settings_are_validated(av: TestClient, spoken: Media) -> None:
    r = post(av, "audio/transcribe-audio", [("spoken.mp3", spoken.bytes("spoken.mp3"))], {"language": "xx"})
    assert "language" in assert_error(r, 400)["details"]
    r = post(av, "video/auto-subtitles", [("spoken.mp4", spoken.bytes("spoken.mp4"))], {"format": "txt"})
    assert "format" in assert_error(r, 400)["details"]


def test_the_catalog_lists_both_tools_with_their_feature(av: TestClient) -> None:
    for path in ("audio/transcribe-audio", "video/auto-subtitles"):
        body = av.get(f"/api/v1/tools/{path}").json()
        assert body["feature"] == "transcription" and body["featureInstalled"] is True
        assert body["long"] is True


# -- the speech module -----------------------------------------------------------------------------


def _stand_in_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """whisper-base 'installed' as four small files: enough for the model choice, not for CTranslate2."""
    models = tmp_path / "models"
    folder = models / "transcription" / "whisper-base"
    folder.mkdir(parents=True)
    files = []
    for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_bytes(b"{}")
        files.append({"name": name, "size": 2, "sha256": "0" * 64})
    manifest = tmp_path / "manifest.json"
    entry = {"id": "whisper-base", "bundle": "transcription", "description": "stand-in", "license": "MIT"}
    manifest.write_text(json.dumps({"bundles": [], "models": [{**entry, "files": files}]}))
    monkeypatch.setenv("AI_MANIFEST", str(manifest))
    monkeypatch.setenv("MODELS_DIR", str(models))
    get_settings.cache_clear()


def test_model_choice_by_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert speech.choose_model("en").id == "whisper-tiny-en"
    assert speech.choose_model("auto").id == "whisper-tiny-en"
    with pytest.raises(bundles.FeatureNotInstalled) as caught:
        speech.choose_model("ja")
    assert caught.value.model == "whisper-base"
    _stand_in_manifest(tmp_path, monkeypatch)
    try:
        for language in ("auto", "de", "ja", "vi"):
            choice = speech.choose_model(language)
            assert (choice.id, choice.multilingual) == ("whisper-base", True)
            assert choice.path == tmp_path / "models" / "transcription" / "whisper-base"
        assert speech.choose_model("en").id == "whisper-tiny-en"  # English keeps the English-only model
    finally:
        get_settings.cache_clear()


def test_transcribe_reports_progress_and_keeps_the_model(spoken: Media, tmp_path: Path) -> None:
    events: list[tuple[float, str | None]] = []
    src = InputFile(spoken.path("spoken.mp3"), "spoken.mp3", "mp3", spoken.path("spoken.mp3").stat().st_size)
    ctx = ToolContext([src], {}, tmp_path / "out", lambda pct, msg: events.append((pct, msg)))
    transcript = speech.transcribe(ctx, src, "en")
    assert word_errors(" ".join(s.text for s in transcript.segments), f"{FIRST} {SECOND}") <= 1
    percents = [p for p, _ in events]
    assert percents == sorted(percents) and percents[-1] >= 98
    assert {"Decoding audio", "Loading the speech model", "Transcribing"} <= {m for _, m in events}
    assert not (tmp_path / "out" / ".speech").exists()  # the decoded samples are gone
    path = bundles.model_path("whisper-tiny-en")
    assert speech.model(path) is speech.model(path)  # loaded once per process
    assert str(path) in speech.cache().loaded()
    assert speech.cache().drop_idle(now=1e12) == [str(path)]


def test_subtitle_writers() -> None:
    long = " ".join(["word"] * 40)  # 199 characters: more than one two-line cue
    segments = [speech.Segment(0.0, 1.5, "Hello there."), speech.Segment(2.0, 12.0, long)]
    srt = speech.to_srt(segments)
    cues = parse_cues(srt, "srt")
    assert cues[0] == (0.0, 1.5, "Hello there.")
    assert len(cues) == 4 and cues[1][0] == 2.0 and cues[-1][1] == 12.0
    assert_timed(cues, 12.0)
    assert all(len(line) <= speech.LINE_CHARS for line in srt.splitlines())
    assert speech.to_vtt(segments).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n")
    assert speech.to_txt(segments) == f"Hello there.\n{long}\n"
    assert speech._stamp(3723.4567, ",") == "01:02:03,457"
    # Whisper's times are tidied: inside the audio, in order, never empty.
    tidy = speech._tidy([speech.Segment(0.5, 0.4, "a"), speech.Segment(0.3, 9.0, "b")], duration=5.0)
    assert [(s.start, s.end) for s in tidy] == [(0.5, 0.51), (0.51, 5.0)]
