"""FFmpeg may only read the job's own files: playlists and concat lists in uploads open nothing, ffmpeg
dies with a canceled job, and its failures reach the client as one short line."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.engine.media import ffmpeg
from app.engine.tool import ToolFailure
from tests.tools.av import Media, post


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"#EXTM3U\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    """A local HTTP server that records every request it gets."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _playlists(url: str) -> dict[str, bytes]:
    hls = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n"
        f"{url}/segment.ts\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    )
    concat = (
        f"ffconcat version 1.0\nfile '/etc/passwd'\nfile '{url}/clip.mp4'\nfile 'subfile:,start,0,end,0,:/etc/passwd'\n"
    )
    return {
        "list.m3u8": hls.encode(),
        "list.ffconcat": concat.encode(),
        # Playlists behind a real MP3 / Ogg magic number: sniffed as audio, then read only by those demuxers.
        "disguised.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + hls.encode(),
        "disguised.ogg": b"OggS" + concat.encode(),
    }


@pytest.mark.parametrize("tool", ["audio/convert-audio", "video/convert-video"])
def test_uploaded_playlists_read_nothing(av: TestClient, http_server: str, tool: str) -> None:
    for name, data in _playlists(http_server).items():
        r = post(av, tool, [(name, data)])
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
        assert "root:" not in r.text
    time.sleep(0.2)
    assert _Recorder.requests == []


def test_ffmpeg_commands_force_the_demuxer_and_whitelist_files(tmp_path: Path, http_server: str) -> None:
    playlist = tmp_path / "x.mp3"
    playlist.write_bytes(_playlists(http_server)["list.m3u8"])
    args = ffmpeg.input_args(playlist, "mp3")
    assert args[:4] == ["-protocol_whitelist", "file", "-f", "mp3"]
    assert args[-1] == f"file:{playlist.resolve()}"
    # Even run directly, ffmpeg reads the playlist as (broken) MP3 and never follows it.
    with pytest.raises(ToolFailure) as failure:
        ffmpeg.run([*args, "-f", "null", "-"], None, timeout_s=20)
    assert "\n" not in str(failure.value) and len(str(failure.value)) < 80
    with pytest.raises(ffmpeg.ProbeFailed):
        ffmpeg.probe(playlist, "mp3")
    assert _Recorder.requests == []
    with pytest.raises(Exception, match="ffmpeg does not read"):
        ffmpeg.input_args(playlist, "m3u8")


def test_failures_are_one_short_line(tmp_path: Path, media: Media) -> None:
    with pytest.raises(ToolFailure, match=r"^the input has no audio stream$"):
        ffmpeg.run([*ffmpeg.input_args(media.path("silent.mp4"), "mp4"), "-map", "0:a:0", "-f", "null", "-"], None)
    with pytest.raises(ToolFailure, match=r"^took longer than the 1 s time limit$"):
        ffmpeg.run(["-re", "-f", "lavfi", "-i", "sine=duration=30", "-f", "null", "-"], None, timeout_s=1)


class _Ctx:
    """A stand-in ToolContext: records progress, cancels on demand."""

    def __init__(self, cancel_after: float | None = None) -> None:
        self.reports: list[float] = []
        self.cancel_after = cancel_after

    def progress(self, pct: float, message: str | None = None) -> None:
        self.reports.append(pct)

    def cancelled(self) -> bool:
        return self.cancel_after is not None and bool(self.reports) and self.reports[-1] >= self.cancel_after


def test_progress_is_real_and_cancel_kills_ffmpeg(tmp_path: Path) -> None:
    from app.engine.tool import Cancelled

    ctx = _Ctx()
    src = ["-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=3"]
    # Paced (-re): ffmpeg reports progress twice a second, and an unpaced 3 s clip may finish first.
    ffmpeg.run(["-re", *src, "-f", "null", "-"], ctx, 3.0)  # type: ignore[arg-type]
    assert ctx.reports[-1] == 100 and any(0 < p < 100 for p in ctx.reports)
    assert ctx.reports == sorted(ctx.reports)

    ctx = _Ctx(cancel_after=1)
    marker = tmp_path / "cancel-me.mkv"
    started = time.monotonic()
    with pytest.raises(Cancelled):
        ffmpeg.run(["-re", *src[:3], "testsrc2=s=64x48:r=25:d=60", "-f", "matroska", str(marker)], ctx, 60)  # type: ignore[arg-type]
    assert time.monotonic() - started < 10
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(marker) not in ps


def test_cancel_through_the_api_ends_the_job(av: TestClient, media: Media, tmp_path: Path) -> None:
    long_clip = tmp_path / "long.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25:d=20",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(long_clip),
        ],
        check=True,
    )
    r = post(av, "video/stabilize-video", [("long.mp4", long_clip.read_bytes())], {"smoothing": 60})
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    with av.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
        for line in stream.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["status"] == "processing" and event["progress"] > 0:
                assert av.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
            if event["status"] in ("completed", "failed", "canceled"):
                break
    assert event["status"] == "canceled", event
    time.sleep(0.5)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert job_id not in ps  # no ffmpeg left working on the job's files
