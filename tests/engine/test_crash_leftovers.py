"""What a crash leaves behind: partial outputs are never served, and start-up removes orphaned files."""

from __future__ import annotations

from pathlib import Path

from app.models import Job
from tests.assertions import assert_error, database
from tests.engine.conftest import StartApp
from tests.engine.helpers import png, post_tool


def test_a_failed_jobs_partial_output_is_not_downloadable(start_app: StartApp) -> None:
    c = start_app()
    r = post_tool(c, "files/test-fail", [("a.png", png())])
    assert r.status_code == 422, r.text
    job_id = r.headers.get("X-Job-Id") or _last_job_id()
    # What a tool killed mid-write leaves: part of a file in the job's output folder.
    out = c.app.state.jobs.output_dir(job_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "video.webm").write_bytes(b"\x1a\x45\xdf\xa3 truncated")
    err = assert_error(c.get(f"/api/v1/download/{job_id}/video.webm"), 409, "JOB_NOT_COMPLETED")
    assert "failed" in err["error"]


def _last_job_id() -> str:
    with database() as db:
        return db.query(Job).order_by(Job.created_at.desc()).first().id  # type: ignore[union-attr]


def test_start_up_removes_what_a_killed_run_left(start_app: StartApp, engine_env: Path) -> None:
    first = start_app()
    session = first.post("/api/v1/uploads", json={"filename": "big.bin", "size": 2000}).json()
    live = session["uploadId"]
    assert first.put(f"/api/v1/uploads/{live}/parts/1", content=b"p" * 2000).status_code == 200
    with database() as db:
        db.add(Job(id="killed-mid-run", kind="tool", tool_id="test-sleep", section="files", status="processing"))
    first.__exit__(None, None, None)
    # The state kill -9 leaves: a library upload's staging file, a part cut off mid-stream, an upload
    # folder without a session, and the partial output of the job that was running.
    staging = engine_env / "files" / ".staging" / "0123abcd"
    staging.mkdir(parents=True)
    (staging / "0000-photo.jpg").write_bytes(b"x" * (1024 * 1024))
    cut_part = engine_env / "uploads" / live / ".00001-feedbeef.tmp"
    cut_part.write_bytes(b"y" * 4096)
    orphan = engine_env / "uploads" / "no-such-session"
    orphan.mkdir()
    (orphan / "00001.part").write_bytes(b"z")
    partial = engine_env / "jobs" / "killed-mid-run" / "out" / "result.webm"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a video")
    # A tool's hidden work folder and a ZIP still under its temporary name, of a job that had finished.
    work = engine_env / "jobs" / "done-before" / ".out.partial" / "half.webm"
    work.parent.mkdir(parents=True)
    work.write_bytes(b"half")
    half_zip = engine_env / "jobs" / "done-before" / "out" / ".batch.zip.partial"
    half_zip.parent.mkdir(parents=True)
    half_zip.write_bytes(b"PK half")
    kept = half_zip.with_name("kept.png")
    kept.write_bytes(b"finished output")

    second = start_app(first_start=False)
    assert not any((engine_env / "files" / ".staging").iterdir())
    assert not cut_part.exists() and not orphan.exists() and not partial.exists()
    assert not work.parent.exists() and not half_zip.exists() and kept.read_bytes() == b"finished output"
    # What a live session owns stays: the upload resumes where it was.
    assert (engine_env / "uploads" / live / "00001.part").read_bytes() == b"p" * 2000
    assert [p["partNumber"] for p in second.get(f"/api/v1/uploads/{live}").json()["parts"]] == [1]
    with database() as db:
        assert db.get(Job, "killed-mid-run").status == "failed"  # type: ignore[union-attr]
