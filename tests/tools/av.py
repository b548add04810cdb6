"""Fixtures and helpers for the audio and video tool tests: tiny media made by ffmpeg's own sources,
one app per test module (starting an app and signing in costs more than most ffmpeg jobs here), and
calls through the real HTTP API with results checked by ffprobe."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import module_app

# Settings a test module's app must not inherit from the developer's shell.


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@dataclass(frozen=True)
class Probe:
    duration: float
    streams: list[dict[str, Any]]
    format: dict[str, Any]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [s for s in self.streams if s["codec_type"] == kind]

    @property
    def video(self) -> dict[str, Any]:
        return self.of("video")[0]

    @property
    def audio(self) -> dict[str, Any]:
        return self.of("audio")[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.video["width"], self.video["height"]

    @property
    def fps(self) -> float:
        num, den = self.video["avg_frame_rate"].split("/")
        return int(num) / int(den)


def probe(path: Path) -> Probe:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    data = json.loads(out.stdout)
    fmt = data["format"]
    return Probe(float(fmt.get("duration", 0) or 0), data["streams"], fmt)


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS) as ffmpeg's ebur128 measures it."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        check=True,
    )
    summary = out.stderr.decode().rsplit("Summary:", 1)[1]
    return float(summary.split("I:")[1].split("LUFS")[0])


# -- media -------------------------------------------------------------------------


class Media:
    """Generated inputs, made once per test session."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    def bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()


def _make_media(root: Path) -> Media:
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=2"]
    stereo = ["-af", "pan=stereo|c0=c0|c1=0.5*c0"]  # a louder left channel, so a swap is measurable
    ffmpeg(*tone, *stereo, "-c:a", "pcm_s16le", str(root / "tone.wav"))
    ffmpeg(*tone, *stereo, "-c:a", "libmp3lame", "-b:a", "64k", str(root / "tone.mp3"))
    ffmpeg(*tone, *stereo, "-c:a", "flac", str(root / "tone.flac"))
    ffmpeg(*tone, *stereo, "-c:a", "libvorbis", str(root / "tone.ogg"))
    ffmpeg(*tone, *stereo, "-c:a", "aac", "-b:a", "64k", str(root / "tone.m4a"))
    ffmpeg(*tone, "-c:a", "pcm_s16le", str(root / "mono.wav"))
    ffmpeg(
        *tone,
        *stereo,
        "-c:a",
        "libmp3lame",
        "-b:a",
        "64k",
        "-metadata",
        "title=Old title",
        "-metadata",
        "artist=Old artist",
        str(root / "tagged.mp3"),
    )
    # Sound, one second of silence, sound: for silence removal and splitting at silences.
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=22050:duration=3",
        "-af",
        "volume=enable='between(t,1,2)':volume=0",
        "-c:a",
        "pcm_s16le",
        str(root / "gap.wav"),
    )
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "1", "-c:a", "pcm_s16le", str(root / "silent.wav"))
    video = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15:duration=2"]
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=2"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "15"]
    ffmpeg(*video, *sound, *x264, "-c:a", "aac", "-b:a", "48k", "-shortest", str(root / "clip.mp4"))
    ffmpeg(*video, *x264, str(root / "silent.mp4"))
    ffmpeg(*sound, "-c:a", "aac", "-b:a", "48k", "-f", "mp4", str(root / "audio-only.mp4"))
    ffmpeg(*video, "-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime", str(root / "clip.webm"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1", str(root / "anim.gif"))
    (root / "subs.srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nWorld\n", encoding="utf-8"
    )
    return Media(root)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return _make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="module")
def av(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the whole test module, signed in as admin, on SQLite."""
    with module_app(tmp_path_factory.mktemp("data")) as client:
        yield client


# -- calls ---------------------------------------------------------------------------

FileArg = tuple[str, bytes] | tuple[str, str, bytes]  # (name, data) or (field, name, data)


def post(client: TestClient, path: str, files: list[FileArg], settings: dict[str, Any] | None = None) -> httpx.Response:
    parts = []
    for item in files:
        field, name, data = item if len(item) == 3 else ("file", *item)  # type: ignore[misc]
        parts.append((field, (name, data, "application/octet-stream")))
    return client.post(f"/api/v1/tools/{path}", files=parts, data={"settings": json.dumps(settings or {})})


def wait(client: TestClient, job_id: str) -> dict[str, Any]:
    """Reads the job's SSE stream to its terminal frame; returns that frame (and checks progress rose)."""
    events = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["status"] in ("completed", "failed", "canceled"):
                    break
    assert events, "no events"
    return events[-1]


def run_long(client: TestClient, path: str, files: list[FileArg], settings: dict[str, Any] | None = None) -> dict:
    """POSTs a long tool, expects 202, waits on SSE; returns the completed frame's result."""
    r = post(client, path, files, settings)
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    assert r.json()["async"] is True
    final = wait(client, job_id)
    assert final["status"] == "completed", final
    return final["result"]


def fail_long(client: TestClient, path: str, files: list[FileArg], settings: dict[str, Any] | None = None) -> dict:
    """A long tool whose job fails: returns the failed frame (error, code)."""
    r = post(client, path, files, settings)
    assert r.status_code == 202, r.text
    final = wait(client, r.json()["jobId"])
    assert final["status"] == "failed", final
    return final


def fetch(client: TestClient, result: dict[str, Any], tmp_path: Path, url: str | None = None) -> Path:
    """Downloads a result to a file (named as the server named it) and returns its path."""
    url = url or result["downloadUrl"]
    r = client.get(url)
    assert r.status_code == 200, r.text
    path = tmp_path / url.split("?")[0].rsplit("/", 1)[-1]
    path.write_bytes(r.content)
    return path


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        return sorted(z.namelist())


def unzip(path: Path, into: Path) -> list[Path]:
    with zipfile.ZipFile(path) as z:
        z.extractall(into)
        return sorted(into / n for n in z.namelist())
