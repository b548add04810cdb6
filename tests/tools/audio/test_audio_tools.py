"""Audio tools through the HTTP API, with results checked by ffprobe."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.av import Media, fail_long, fetch, ffmpeg, loudness, post, probe, run_long, unzip

A = "audio/"


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [("mp3", "mp3"), ("wav", "pcm_s16le"), ("ogg", "vorbis"), ("flac", "flac"), ("m4a", "aac")],
)
def test_convert_audio_formats(av: TestClient, media: Media, tmp_path: Path, fmt: str, codec: str) -> None:
    result = run_long(av, A + "convert-audio", [("tone.wav", media.bytes("tone.wav"))], {"format": fmt})
    assert result["downloadUrl"].split("?")[0].endswith(f"/tone_converted.{fmt}")
    out = probe(fetch(av, result, tmp_path))
    assert out.audio["codec_name"] == codec
    assert out.duration == pytest.approx(2.0, abs=0.1)
    assert result["duration"] == pytest.approx(2.0, abs=0.1)


def test_convert_audio_bitrate_and_video_input(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(
        av, A + "convert-audio", [("clip.mp4", media.bytes("clip.mp4"))], {"format": "mp3", "bitrateKbps": 96}
    )
    out = probe(fetch(av, result, tmp_path))
    assert not out.of("video")  # only the sound of the video comes out
    assert int(out.audio["bit_rate"]) == pytest.approx(96_000, rel=0.1)


def test_settings_are_validated(av: TestClient, media: Media) -> None:
    r = post(av, A + "convert-audio", [("tone.wav", media.bytes("tone.wav"))], {"bitrateKbps": 1000})
    assert "bitrateKbps" in assert_error(r, 400)["details"]
    r = post(av, A + "trim-audio", [("tone.wav", media.bytes("tone.wav"))], {"startS": 2, "endS": 1})
    assert_error(r, 400)
    r = post(av, A + "volume-adjust", [("tone.wav", media.bytes("tone.wav"))], {"gainDb": 31})
    assert_error(r, 400)


def test_trim_audio(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "trim-audio", [("tone.mp3", media.bytes("tone.mp3"))], {"startS": 0.5, "endS": 1.5})
    out = probe(fetch(av, result, tmp_path))
    assert out.audio["codec_name"] == "mp3"  # the input's format is kept
    assert out.duration == pytest.approx(1.0, abs=0.1)


def test_trim_past_the_end_is_a_client_error(av: TestClient, media: Media) -> None:
    final = fail_long(av, A + "trim-audio", [("tone.wav", media.bytes("tone.wav"))], {"startS": 5})
    assert final["code"] == "INVALID_RANGE"
    assert "past the end" in final["error"]


def test_volume_adjust(av: TestClient, media: Media, tmp_path: Path) -> None:
    before = loudness(media.path("tone.wav"))
    result = run_long(av, A + "volume-adjust", [("tone.wav", media.bytes("tone.wav"))], {"gainDb": -12})
    assert loudness(fetch(av, result, tmp_path)) == pytest.approx(before - 12, abs=1.0)


def test_normalize_audio_reaches_minus_16_lufs(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "normalize-audio", [("tone.flac", media.bytes("tone.flac"))])
    out = fetch(av, result, tmp_path)
    assert probe(out).audio["sample_rate"] == "22050"  # loudnorm's 192 kHz is resampled back
    assert loudness(out) == pytest.approx(-16, abs=1.0)
    assert result["targetLufs"] == -16
    assert result["inputLufs"] == pytest.approx(loudness(media.path("tone.flac")), abs=1.0)


@pytest.mark.parametrize(
    ("rate", "channels", "codec"),
    [(22050, 1, "pcm_s16le"), (44100, 1, "pcm_s16le"), (44100, 2, "pcm_s16le"), (48000, 6, "pcm_s24le"),
     (8000, 1, "pcm_u8"), (96000, 2, "pcm_f32le")],
)  # fmt: skip
def test_normalize_audio_on_voice_recorder_wavs(av: TestClient, tmp_path: Path, rate: int, channels: int,
                                                codec: str) -> None:  # fmt: skip
    """WAVs carry a channel count and no layout name ("unknown" to ffprobe): normalisation used to fail on them."""
    src = tmp_path / "rec.wav"
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=330:sample_rate={rate}:duration=1", "-ac", str(channels),
           "-af", "volume=-20dB", "-c:a", codec, str(src))  # fmt: skip
    result = run_long(av, A + "normalize-audio", [("rec.wav", src.read_bytes())])
    out = probe(fetch(av, result, tmp_path))
    assert (out.audio["sample_rate"], out.audio["channels"]) == (str(rate), channels)
    assert loudness(tmp_path / "rec_normalized.wav") == pytest.approx(-16, abs=1.0)


def test_normalize_silence_fails_with_a_reason(av: TestClient, media: Media) -> None:
    final = fail_long(av, A + "normalize-audio", [("silent.wav", media.bytes("silent.wav"))])
    assert final["error"] == "the audio is silent; there is nothing to normalize"


def test_fade_audio(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "fade-audio", [("tone.wav", media.bytes("tone.wav"))], {"fadeInS": 1, "fadeOutS": 0})
    out = fetch(av, result, tmp_path)
    assert probe(out).duration == pytest.approx(2.0, abs=0.05)
    # The first half is fading in: quieter than the untouched second half.
    assert _level(out, 0, 0.5) < _level(out, 1.2, 0.5) - 6


def test_reverse_audio(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "reverse-audio", [("gap.wav", media.bytes("gap.wav"))])
    out = fetch(av, result, tmp_path)
    assert probe(out).duration == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("factor", [0.5, 4])
def test_audio_speed(av: TestClient, media: Media, tmp_path: Path, factor: float) -> None:
    result = run_long(av, A + "audio-speed", [("tone.wav", media.bytes("tone.wav"))], {"factor": factor})
    assert probe(fetch(av, result, tmp_path)).duration == pytest.approx(2.0 / factor, abs=0.1)


def test_pitch_shift_keeps_length(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "pitch-shift", [("tone.wav", media.bytes("tone.wav"))], {"semitones": 12})
    out = fetch(av, result, tmp_path)
    assert probe(out).duration == pytest.approx(2.0, abs=0.15)
    assert _peak_frequency(out) == pytest.approx(880, rel=0.05)


@pytest.mark.parametrize(
    ("name", "mode", "channels"),
    [("tone.wav", "stereo-to-mono", 1), ("mono.wav", "mono-to-stereo", 2), ("tone.wav", "swap", 2)],
)
def test_audio_channels(av: TestClient, media: Media, tmp_path: Path, name: str, mode: str, channels: int) -> None:
    result = run_long(av, A + "audio-channels", [(name, media.bytes(name))], {"mode": mode})
    out = fetch(av, result, tmp_path)
    assert probe(out).audio["channels"] == channels
    if mode == "swap":
        # The source's left channel is the louder one; after the swap the right one is.
        assert _level(out, 0, 2, channel=1) > _level(out, 0, 2, channel=0) + 3


def test_swap_needs_two_channels(av: TestClient, media: Media) -> None:
    final = fail_long(av, A + "audio-channels", [("mono.wav", media.bytes("mono.wav"))], {"mode": "swap"})
    assert "mono" in final["error"]


def test_silence_removal(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "silence-removal", [("gap.wav", media.bytes("gap.wav"))], {"minSilenceS": 0.3})
    assert probe(fetch(av, result, tmp_path)).duration == pytest.approx(2.0, abs=0.35)
    assert result["removedS"] == pytest.approx(1.0, abs=0.35)


def test_noise_reduction(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, A + "noise-reduction", [("tone.ogg", media.bytes("tone.ogg"))], {"strength": "strong"})
    out = probe(fetch(av, result, tmp_path))
    assert out.audio["codec_name"] == "vorbis"
    assert out.duration == pytest.approx(2.0, abs=0.1)


def test_merge_audio(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [
        ("files", "a.wav", media.bytes("tone.wav")),
        ("files", "b.mp3", media.bytes("gap.wav")),
        ("files", "c.m4a", media.bytes("tone.m4a")),
    ]
    result = run_long(av, A + "merge-audio", files, {"format": "flac"})
    out = probe(fetch(av, result, tmp_path))
    assert out.audio["codec_name"] == "flac"
    assert out.duration == pytest.approx(7.0, abs=0.15)
    assert result["files"] == 3


def test_merge_needs_two_files(av: TestClient, media: Media) -> None:
    assert_error(post(av, A + "merge-audio", [("a.wav", media.bytes("tone.wav"))]), 400, "TOO_FEW_FILES")


@pytest.mark.parametrize(
    ("settings", "durations"),
    [
        ({"mode": "time", "segmentS": 1}, [1, 1, 1]),
        ({"mode": "parts", "parts": 2}, [1.5, 1.5]),
        ({"mode": "silence", "minSilenceS": 0.5}, [1.5, 1.5]),
    ],
)
def test_split_audio(av: TestClient, media: Media, tmp_path: Path, settings: dict, durations: list[float]) -> None:
    result = run_long(av, A + "split-audio", [("gap.wav", media.bytes("gap.wav"))], settings)
    archive = fetch(av, result, tmp_path)
    assert archive.name == "gap_split.zip"
    parts = unzip(archive, tmp_path / "parts")
    assert [p.name for p in parts] == [f"gap_{i:03d}.wav" for i in range(len(durations))]
    assert [probe(p).duration for p in parts] == pytest.approx(durations, abs=0.1)
    assert result["parts"] == len(durations)


@pytest.mark.parametrize(("fmt", "codec"), [("m4r", "aac"), ("mp3", "mp3")])
def test_ringtone_maker(av: TestClient, media: Media, tmp_path: Path, fmt: str, codec: str) -> None:
    settings = {"startS": 1, "durationS": 1.5, "format": fmt}
    result = run_long(av, A + "ringtone-maker", [("gap.wav", media.bytes("gap.wav"))], settings)
    out = fetch(av, result, tmp_path)
    assert out.suffix == f".{fmt}"
    info = probe(out)
    assert info.audio["codec_name"] == codec
    assert info.duration == pytest.approx(1.5, abs=0.1)


def test_waveform_image(av: TestClient, media: Media, tmp_path: Path) -> None:
    settings = {"width": 400, "height": 100, "color": "#ff0000", "background": "#ffffff"}
    result = run_long(av, A + "waveform-image", [("tone.mp3", media.bytes("tone.mp3"))], settings)
    out = fetch(av, result, tmp_path)
    assert out.read_bytes().startswith(b"\x89PNG")
    info = probe(out)
    assert (info.video["width"], info.video["height"]) == (400, 100)


def test_audio_metadata_reads_and_sets_tags(av: TestClient, media: Media, tmp_path: Path) -> None:
    r = post(
        av,
        A + "audio-metadata",
        [("tagged.mp3", media.bytes("tagged.mp3"))],
        {"album": "New album", "title": "New title"},
    )
    assert r.status_code == 200, r.text  # tag edits copy the streams: fast, answered directly
    body = r.json()
    assert body["tags"]["title"] == "Old title"
    assert body["newTags"]["album"] == "New album"
    tags = probe(fetch(av, body, tmp_path)).format["tags"]
    assert (tags["title"], tags["artist"], tags["album"]) == ("New title", "Old artist", "New album")


def test_audio_metadata_strip(av: TestClient, media: Media, tmp_path: Path) -> None:
    r = post(av, A + "audio-metadata", [("tagged.mp3", media.bytes("tagged.mp3"))], {"strip": True})
    assert r.status_code == 200, r.text
    tags = probe(fetch(av, r.json(), tmp_path)).format.get("tags", {})
    assert "title" not in tags and "artist" not in tags


def test_audio_tools_refuse_video_without_sound(av: TestClient, media: Media) -> None:
    r = post(av, A + "convert-audio", [("silent.mp4", media.bytes("silent.mp4"))])
    assert_error(r, 400, "NO_AUDIO_STREAM")


def test_non_media_is_rejected(av: TestClient) -> None:
    assert_error(post(av, A + "convert-audio", [("x.mp3", b"not audio at all" * 10)]), 415)
    # An MP3 header followed by junk: sniffed as mp3, refused by ffprobe before any job runs.
    assert_error(post(av, A + "convert-audio", [("x.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 200)]), 415)


# -- measuring helpers ---------------------------------------------------------------------


def _level(path: Path, start: float, length: float, channel: int | None = None) -> float:
    """RMS level in dB of a stretch of the file (one channel, or all)."""
    import subprocess

    pan = [f"pan=mono|c0=c{channel},"] if channel is not None else [""]
    af = f"atrim={start}:{start + length},{pan[0]}astats=metadata=0:reset=0"
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", af, "-f", "null", "-"],
        capture_output=True,
        check=True,
    ).stderr.decode()
    line = [x for x in out.splitlines() if "RMS level dB" in x][-1]
    return float(line.rsplit(":", 1)[1])


def _peak_frequency(path: Path) -> float:
    """The dominant frequency, from the zero crossings of the first second (a pure tone in, so enough)."""
    import subprocess

    raw = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-t",
            "1",
            "-ac",
            "1",
            "-ar",
            "22050",
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    import array
    import itertools

    samples = array.array("h", raw)
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    return crossings / (len(samples) / 22050)
