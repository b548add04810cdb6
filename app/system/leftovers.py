"""Start-up clean-up of what a crash (kill -9, power loss) leaves on disk: no live request owns it now.

Runs before the server accepts requests, so every staging folder and temporary part file is an
orphan, and so are the outputs of jobs still marked unfinished (they are failed right after).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.files.service import files_root
from app.models import Job, UploadSession
from app.uploads.service import uploads_root

log = logging.getLogger("lutra")


def _remove(path: Path) -> int:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return 1


def remove_leftovers(settings: Settings) -> int:
    """Deletes orphaned staging folders, part temp files, unowned upload folders and unfinished outputs."""
    removed = 0
    staging = files_root(settings) / ".staging"
    if staging.is_dir():
        removed += sum(_remove(p) for p in staging.iterdir())
    with session_scope() as db:
        sessions = set(db.scalars(select(UploadSession.id)))
        unfinished = list(db.scalars(select(Job.id).where(Job.status.in_(("queued", "processing")))))
    root = uploads_root(settings)
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name not in sessions:
                removed += _remove(folder)  # its session row is gone (aborted, expired, never written)
            elif folder.is_dir():
                removed += sum(_remove(tmp) for tmp in folder.glob(".*.tmp"))  # a part cut off mid-stream
    jobs_dir = settings.data_dir / "jobs"
    # Work folders and files still under their temporary names (".<name>.partial") belong to a run that
    # never finished: no job is running before start-up ends.
    if jobs_dir.is_dir():
        for pattern in ("*/.*.partial", "*/work/.*.partial", "*/out/.*.partial"):
            removed += sum(_remove(p) for p in jobs_dir.glob(pattern))
    for job_id in unfinished:
        # The job is failed at start-up; what it wrote so far is partial and must never be served.
        for part in ("out", "in"):
            if (jobs_dir / job_id / part).exists():
                removed += _remove(jobs_dir / job_id / part)
    if removed:
        log.warning("removed %d files and folders left behind by an interrupted run", removed)
    return removed
