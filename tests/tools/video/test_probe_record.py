"""A job input is ffprobed once: the worker reuses the record the upload check left beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.engine.media import ffmpeg
from tests.tools.av import Media


def test_probe_record_is_reused_until_the_file_changes(
    media: Media, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tmp_path / "job" / "in"
    inputs.mkdir(parents=True)
    clip = inputs / "0000-clip.mp4"
    shutil.copyfile(media.path("clip.mp4"), clip)
    first = ffmpeg.probe(clip, "mp4")
    assert (inputs / "0000-clip.mp4.probe.json").is_file()

    calls: list[list[str]] = []
    real_run = ffmpeg.subprocess.run

    def counting_run(cmd: list[str], *args: object, **kwargs: object) -> object:
        calls.append(cmd)
        return real_run(cmd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ffmpeg.subprocess, "run", counting_run)
    again = ffmpeg.probe(clip, "mp4")
    assert calls == [] and again == first  # answered from the record, no ffprobe started

    # A changed file (or a different kind) is probed afresh.
    with clip.open("ab") as f:
        f.write(b"\0" * 16)
    ffmpeg.probe(clip, "mp4")
    assert len(calls) == 1

    # Outputs never get a record: only a job's `in` folder does.
    out = tmp_path / "job" / "out"
    out.mkdir()
    shutil.copyfile(media.path("clip.mp4"), out / "clip.mp4")
    ffmpeg.probe(out / "clip.mp4", "mp4")
    assert list(out.iterdir()) == [out / "clip.mp4"]
