"""The `speed` setting of convert-video and compress-video: validated, and it reaches the encoder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine.media import ffmpeg
from tests.assertions import assert_error
from tests.tools.av import Media, fetch, post, probe, run_long

V = "video/"


def _x264_options(path: Path) -> dict[str, str]:
    """The settings libx264 writes into every stream it encodes (its SEI user data)."""
    text = path.read_bytes().decode("latin-1")
    found = re.search(r"x264 - core \d+.*? options: ([^\x00]+)", text)
    assert found, "no x264 settings in the file"
    return dict(pair.split("=", 1) for pair in found.group(1).split() if "=" in pair)


def test_mp4_speed_picks_the_x264_preset(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [("clip.mp4", media.bytes("clip.mp4"))]
    seen = {}
    for speed in ("fast", "balanced", "thorough"):
        out = fetch(av, run_long(av, V + "convert-video", files, {"format": "mp4", "speed": speed}), tmp_path)
        assert probe(out).video["codec_name"] == "h264"
        seen[speed] = _x264_options(out)
        out.unlink()
    # Sub-pixel motion search refinement rises with each preset (ultrafast 0, veryfast 2, medium 7).
    assert int(seen["fast"]["subme"]) < int(seen["balanced"]["subme"]) < int(seen["thorough"]["subme"])
    assert ffmpeg.X264_PRESET["balanced"] == "veryfast" and seen["balanced"]["subme"] == "2"


def test_default_speed_is_balanced(av: TestClient, media: Media, tmp_path: Path) -> None:
    out = fetch(av, run_long(av, V + "compress-video", [("clip.mp4", media.bytes("clip.mp4"))]), tmp_path)
    assert _x264_options(out)["subme"] == "2"  # veryfast
    fast = run_long(av, V + "compress-video", [("clip.mp4", media.bytes("clip.mp4"))], {"speed": "fast"})
    assert _x264_options(fetch(av, fast, tmp_path))["subme"] == "0"  # ultrafast


def test_webm_speed_changes_the_vp9_encoding(av: TestClient, media: Media, tmp_path: Path) -> None:
    files = [("clip.mp4", media.bytes("clip.mp4"))]
    sizes = {}
    for speed in ("fast", "thorough"):
        result = run_long(av, V + "convert-video", files, {"format": "webm", "speed": speed})
        out = fetch(av, result, tmp_path)
        assert probe(out).video["codec_name"] == "vp9"
        sizes[speed] = out.stat().st_size
        out.unlink()
    assert sizes["fast"] != sizes["thorough"]  # cpu-used 8 and 4 take different decisions


def test_vp9_keeps_row_multithreading() -> None:
    args = ffmpeg.vp9("balanced").codec_args
    assert args[args.index("-row-mt") + 1] == "1"
    assert args[args.index("-cpu-used") + 1] == str(ffmpeg.VP9_CPU_USED["balanced"])


@pytest.mark.parametrize(
    ("tool", "speed"), [("convert-video", "ludicrous"), ("compress-video", 3), ("mp4-to-webm", "x")]
)
def test_unknown_speed_is_a_400(av: TestClient, media: Media, tool: str, speed: object) -> None:
    body = assert_error(post(av, V + tool, [("clip.mp4", media.bytes("clip.mp4"))], {"speed": speed}), 400)
    assert "speed" in str(body)
