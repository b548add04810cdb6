"""Video tools through the HTTP API, with results checked by ffprobe (clip.mp4: 160x120, 15 fps, 2 s, AAC)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.assertions import assert_error
from tests.tools.av import Media, fail_long, fetch, loudness, post, probe, run_long, unzip

V = "video/"


def clip(media: Media, name: str = "clip.mp4") -> list:
    return [(name, media.bytes(name))]


@pytest.mark.parametrize(
    ("fmt", "vcodec", "acodec"), [("mp4", "h264", "aac"), ("webm", "vp9", "opus"), ("mov", "h264", "aac")]
)
def test_convert_video(av: TestClient, media: Media, tmp_path: Path, fmt: str, vcodec: str, acodec: str) -> None:
    result = run_long(av, V + "convert-video", clip(media), {"format": fmt, "quality": "small"})
    out = probe(fetch(av, result, tmp_path))
    assert (out.video["codec_name"], out.audio["codec_name"]) == (vcodec, acodec)
    assert out.video["pix_fmt"] == "yuv420p"
    assert out.size == (160, 120)
    assert out.duration == pytest.approx(2.0, abs=0.15)


def test_mp4_output_is_faststart(av: TestClient, media: Media, tmp_path: Path) -> None:
    data = fetch(av, run_long(av, V + "convert-video", clip(media, "clip.webm")), tmp_path).read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index comes first: playback starts at once


def test_compress_video_with_resolution(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "compress-video", clip(media), {"quality": "strong", "resolution": "480p"})
    assert probe(fetch(av, result, tmp_path)).size == (160, 120)  # never scaled up
    assert result["ratio"] > 0


@pytest.mark.parametrize("precise", [True, False])
def test_trim_video(av: TestClient, media: Media, tmp_path: Path, precise: bool) -> None:
    result = run_long(av, V + "trim-video", clip(media), {"startS": 0.5, "endS": 1.5, "precise": precise})
    out = probe(fetch(av, result, tmp_path))
    # A keyframe cut starts at the keyframe before 0.5 s (here 0 s, one per second).
    assert out.duration == pytest.approx(1.0, abs=0.1) if precise else 0.9 <= out.duration <= 1.6
    assert out.of("audio")


def test_mute_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    out = probe(fetch(av, run_long(av, V + "mute-video", clip(media)), tmp_path))
    assert not out.of("audio") and out.video["codec_name"] == "h264"


def test_video_to_gif(av: TestClient, media: Media, tmp_path: Path) -> None:
    settings = {"fps": 5, "width": 80, "startS": 0.5, "durationS": 1}
    out = fetch(av, run_long(av, V + "video-to-gif", clip(media), settings), tmp_path)
    info = probe(out)
    assert out.read_bytes()[:6] == b"GIF89a"
    assert info.size == (80, 60)
    assert (
        int(
            subprocess.run(
                [
                    "ffprobe",
                    "-v",
                    "error",
                    "-count_frames",
                    "-show_entries",
                    "stream=nb_read_frames",
                    "-of",
                    "csv=p=0",
                    str(out),
                ],
                capture_output=True,
                text=True,
            ).stdout
        )
        == 5
    )


def test_gif_duration_is_capped(av: TestClient, media: Media) -> None:
    assert_error(post(av, V + "video-to-gif", clip(media), {"durationS": 61}), 400)


@pytest.mark.parametrize(
    ("settings", "size"),
    [
        ({"preset": "360p"}, (480, 360)),
        ({"preset": "custom", "width": 80}, (80, 60)),
        ({"preset": "custom", "width": 100, "height": 100}, (100, 74)),
    ],
)
def test_resize_video(av: TestClient, media: Media, tmp_path: Path, settings: dict, size: tuple) -> None:
    assert probe(fetch(av, run_long(av, V + "resize-video", clip(media), settings), tmp_path)).size == size


def test_crop_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "crop-video", clip(media), {"width": 64, "height": 48, "x": 10, "y": 10})
    assert probe(fetch(av, result, tmp_path)).size == (64, 48)


def test_crop_outside_the_frame_is_refused(av: TestClient, media: Media) -> None:
    final = fail_long(av, V + "crop-video", clip(media), {"width": 200, "height": 48})
    assert final["code"] == "CROP_OUT_OF_BOUNDS"


@pytest.mark.parametrize(("transform", "size"), [("cw90", (120, 160)), ("180", (160, 120))])
def test_rotate_video(av: TestClient, media: Media, tmp_path: Path, transform: str, size: tuple) -> None:
    result = run_long(av, V + "rotate-video", clip(media), {"transform": transform})
    assert probe(fetch(av, result, tmp_path)).size == size


def test_change_fps(av: TestClient, media: Media, tmp_path: Path) -> None:
    out = probe(fetch(av, run_long(av, V + "change-fps", clip(media), {"fps": 24}), tmp_path))
    assert out.fps == pytest.approx(24)
    assert out.duration == pytest.approx(2.0, abs=0.15)


def test_video_color(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "video-color", clip(media), {"saturation": 0, "brightness": 0.1})
    out = fetch(av, result, tmp_path)
    # Saturation 0: the chroma planes sit at neutral grey.
    stats = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "info",
            "-i",
            str(out),
            "-vf",
            "signalstats,metadata=print:key=lavfi.signalstats.SATAVG",
            "-frames:v",
            "1",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    assert float(stats.stderr.split("SATAVG=")[1].split()[0]) < 2


@pytest.mark.parametrize("keep_pitch", [True, False])
def test_video_speed(av: TestClient, media: Media, tmp_path: Path, keep_pitch: bool) -> None:
    result = run_long(av, V + "video-speed", clip(media), {"factor": 2, "keepPitch": keep_pitch})
    out = probe(fetch(av, result, tmp_path))
    assert out.duration == pytest.approx(1.0, abs=0.15)
    assert float(out.audio["duration"]) == pytest.approx(1.0, abs=0.15)


def test_reverse_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    out = probe(fetch(av, run_long(av, V + "reverse-video", clip(media)), tmp_path))
    assert out.duration == pytest.approx(2.0, abs=0.15) and out.of("audio")


def test_video_loudnorm(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "video-loudnorm", clip(media))
    out = fetch(av, result, tmp_path)
    assert loudness(out) == pytest.approx(-16, abs=1.5)
    assert probe(out).video["codec_name"] == "h264"


def test_video_loudnorm_needs_sound(av: TestClient, media: Media) -> None:
    assert fail_long(av, V + "video-loudnorm", clip(media, "silent.mp4"))["code"] == "NO_AUDIO_STREAM"


@pytest.mark.parametrize(
    ("tool", "settings", "size"),
    [
        ("aspect-pad", {"target": "1:1", "color": "#ff0000"}, (160, 160)),
        ("blur-pad", {"target": "9:16", "blur": 10}, (160, 284)),
    ],
)
def test_padding(av: TestClient, media: Media, tmp_path: Path, tool: str, settings: dict, size: tuple) -> None:
    out = probe(fetch(av, run_long(av, V + tool, clip(media), settings), tmp_path))
    assert out.size == size
    assert out.video.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A")


def test_watermark_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    text = "it's 100% \\ ok: {x} %{pts}"  # quotes, colons, backslashes and expansions stay literal
    result = run_long(av, V + "watermark-video", clip(media), {"text": text, "position": "center", "fontSize": 20})
    assert probe(fetch(av, result, tmp_path)).size == (160, 120)


def test_stabilize_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "stabilize-video", clip(media), {"smoothing": 5})
    assert probe(fetch(av, result, tmp_path)).size == (160, 120)
    assert result["method"] in ("vidstab", "deshake")


@pytest.mark.parametrize("fmt", ["mp4", "webm"])
def test_gif_to_video(av: TestClient, media: Media, tmp_path: Path, fmt: str) -> None:
    result = run_long(av, V + "gif-to-video", clip(media, "anim.gif"), {"format": fmt})
    out = probe(fetch(av, result, tmp_path))
    assert out.size == (160, 120)
    assert out.duration == pytest.approx(1.0, abs=0.2)


def test_video_to_webp(av: TestClient, media: Media, tmp_path: Path) -> None:
    result = run_long(av, V + "video-to-webp", clip(media), {"width": 80, "fps": 5, "durationS": 1})
    data = fetch(av, result, tmp_path).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"ANIM" in data[:64]


@pytest.mark.parametrize(
    ("settings", "count"),
    [
        ({"mode": "nth", "n": 10}, 3),
        ({"mode": "all"}, 30),
        ({"mode": "timestamps", "timestamps": [0.5, 1.5], "format": "jpg"}, 2),
    ],
)
def test_video_to_frames(av: TestClient, media: Media, tmp_path: Path, settings: dict, count: int) -> None:
    result = run_long(av, V + "video-to-frames", clip(media), settings)
    frames = unzip(fetch(av, result, tmp_path), tmp_path / "frames")
    assert len(frames) == result["frames"] == count
    head = frames[0].read_bytes()[:4]
    assert head == (b"\xff\xd8\xff\xe0"[:3] + head[3:4] if settings.get("format") == "jpg" else b"\x89PNG")


def test_merge_videos(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [
        ("files", "a.mp4", media.bytes("clip.mp4")),
        ("files", "b.webm", media.bytes("clip.webm")),
        ("files", "c.mp4", media.bytes("silent.mp4")),
    ]
    result = run_long(av, V + "merge-videos", files)
    out = probe(fetch(av, result, tmp_path))
    assert out.size == (160, 120) and out.fps == pytest.approx(15)
    assert out.duration == pytest.approx(6.0, abs=0.25)
    assert float(out.audio["duration"]) == pytest.approx(6.0, abs=0.25)


def test_replace_audio(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [("file", "v.mp4", media.bytes("silent.mp4")), ("audio", "gap.wav", media.bytes("gap.wav"))]
    out = probe(fetch(av, run_long(av, V + "replace-audio", files), tmp_path))
    assert out.audio["codec_name"] == "aac"
    assert out.duration == pytest.approx(2.0, abs=0.15)  # the 3 s soundtrack is cut to the video's length


def test_replace_audio_needs_the_audio_part(av: TestClient, media: Media) -> None:
    assert_error(post(av, V + "replace-audio", clip(media)), 400, "NO_FILE")


def test_subtitles_embed_extract_burn(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [("file", "v.mp4", media.bytes("clip.mp4")), ("subtitles", "subs.srt", media.bytes("subs.srt"))]
    embedded = fetch(av, run_long(av, V + "embed-subtitles", files, {"language": "ger"}), tmp_path)
    (track,) = probe(embedded).of("subtitle")
    assert track["codec_name"] == "mov_text" and track["tags"]["language"] == "ger"

    result = run_long(av, V + "extract-subtitles", [("v.mp4", embedded.read_bytes())])
    assert result["language"] == "ger"
    srt = fetch(av, result, tmp_path).read_text()
    assert "Hello" in srt and "00:00:01,000 --> 00:00:02,000" in srt

    burned = fetch(av, run_long(av, V + "burn-subtitles", files, {"fontSize": 30}), tmp_path)
    assert not probe(burned).of("subtitle") and probe(burned).size == (160, 120)


def test_extract_subtitles_without_a_track(av: TestClient, media: Media) -> None:
    assert fail_long(av, V + "extract-subtitles", clip(media))["code"] == "NO_SUBTITLE_STREAM"


def test_images_to_video(av: TestClient, media: Media, tmp_path: Path) -> None:
    frame = tmp_path / "frame.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=90x60", "-frames:v", "1", str(frame)], check=True
    )
    files = [("files", "a.png", frame.read_bytes()), ("files", "b.png", frame.read_bytes())]
    result = run_long(av, V + "images-to-video", files, {"secondsPerImage": 0.5, "resolution": "square", "fps": 10})
    out = probe(fetch(av, result, tmp_path))
    assert out.size == (1080, 1080) and out.fps == pytest.approx(10)
    assert out.duration == pytest.approx(1.0, abs=0.15)


def test_images_to_video_turns_phone_photos_upright_and_takes_animated_webp(av: TestClient, tmp_path: Path) -> None:
    import pyvips

    photo = (pyvips.Image.black(64, 48) + [200, 120, 60]).cast("uchar").copy(interpretation="srgb").copy()
    photo.set_type(pyvips.GValue.gint_type, "orientation", 6)  # stored landscape, shown portrait
    frames = pyvips.Image.arrayjoin([(pyvips.Image.black(32, 32) + [40, 200, 40]).cast("uchar")] * 3, across=1)
    frames = frames.copy(interpretation="srgb").copy()
    frames.set_type(pyvips.GValue.gint_type, "page-height", 32)
    files = [("files", "portrait.jpg", photo.jpegsave_buffer()), ("files", "anim.webp", frames.webpsave_buffer())]
    result = run_long(av, V + "images-to-video", files, {"secondsPerImage": 0.5, "resolution": "720p", "fps": 10})
    video = fetch(av, result, tmp_path)
    assert probe(video).duration == pytest.approx(1.0, abs=0.15)
    still = tmp_path / "first.png"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-frames:v", "1", str(still)], check=True)
    first = pyvips.Image.new_from_file(str(still))
    # Upright, the photo is 540 px wide in the 1280 x 720 frame, so x=300 is padding; lying on its side
    # it would be 960 px wide and x=300 would be photo.
    assert max(first(300, 360)) < 30 and first(640, 360)[0] > 150


def test_video_metadata_clean(av: TestClient, media: Media, tmp_path: Path) -> None:
    tagged = tmp_path / "tagged.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(media.path("clip.mp4")),
            "-c",
            "copy",
            "-metadata",
            "title=Secret",
            "-metadata",
            "location=+48.8577+002.295/",
            str(tagged),
        ],
        check=True,
    )
    result = run_long(av, V + "video-metadata", [("t.mp4", tagged.read_bytes())])
    assert "title" in result["removedTags"]
    tags = probe(fetch(av, result, tmp_path)).format.get("tags", {})
    assert "title" not in tags and "location" not in tags


@pytest.mark.parametrize(("fmt", "codec"), [("mp3", "mp3"), ("wav", "pcm_s16le"), ("m4a", "aac")])
def test_extract_audio(av: TestClient, media: Media, tmp_path: Path, fmt: str, codec: str) -> None:
    out = fetch(av, run_long(av, V + "extract-audio", clip(media), {"format": fmt}), tmp_path)
    assert out.suffix == f".{fmt}"
    info = probe(out)
    assert not info.of("video") and info.audio["codec_name"] == codec


# -- inputs that must be refused ------------------------------------------------------------


def test_video_tools_refuse_audio_only_files(av: TestClient, media: Media) -> None:
    assert_error(post(av, V + "convert-video", clip(media, "audio-only.mp4")), 400, "NO_VIDEO_STREAM")
    assert_error(post(av, V + "convert-video", clip(media, "tone.mp3")), 415)


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, b"garbage" * 100])
def test_broken_files_get_a_4xx(av: TestClient, data: bytes) -> None:
    r = post(av, V + "convert-video", [("x.mp4", data)])
    assert 400 <= r.status_code < 500, r.text


def test_truncated_video_gets_a_4xx(av: TestClient, media: Media) -> None:
    data = media.bytes("clip.mp4")
    r = post(av, V + "convert-video", [("x.mp4", data[: len(data) // 2])])
    if r.status_code == 202:  # moov first: readable up to the cut, or a clear failure
        final = av.get(f"/api/v1/jobs/{r.json()['jobId']}/progress")
        assert "Traceback" not in final.text
    else:
        assert_error(r, r.status_code)
        assert 400 <= r.status_code < 500


def test_too_long_media_is_refused(av: TestClient, media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import get_settings

    monkeypatch.setenv("MAX_VIDEO_DURATION_S", "1")
    get_settings.cache_clear()
    try:
        body = assert_error(post(av, V + "convert-video", clip(media)), 400, "MEDIA_TOO_LONG")
        assert "MAX_VIDEO_DURATION_S" in body["error"]
    finally:
        monkeypatch.delenv("MAX_VIDEO_DURATION_S")
        get_settings.cache_clear()
