"""Resumable uploads: a session declares name, size and (optionally) SHA-256; parts arrive in any order,
each streamed to its own file; completion assembles them, verifies, and adds the result to the library.

Parts live under DATA_DIR/uploads/<upload id>/ until completion, abort or expiry. Everything here blocks
(disk and database) except the part receiver, which streams the request body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from anyio.to_thread import run_sync
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.db import session_scope
from app.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, TooManyRequests
from app.files import service as library
from app.jobs.uploads import UPLOAD_WRITERS, sanitize_filename
from app.models import UploadPart, UploadSession

log = logging.getLogger("lutra.uploads")
PART_SIZE = 16 * 1024 * 1024
# A part's body is hashed and written a batch at a time in a thread (see _stream_to).
PART_BATCH = 1024 * 1024
MAX_PARTS = 10_000
SESSION_TTL = timedelta(hours=24)
COPY_CHUNK = 1024 * 1024

# Upload ids being assembled in this process: a second complete (a client retrying) gets a 409.
_completing: set[str] = set()
_completing_lock = threading.Lock()


class RunningHash:
    """The SHA-256 of an upload's leading parts, advanced while the next part in order streams in, so
    completion need not read the data again. Parts sent out of order (or to another API node) are
    simply hashed at completion from where this one stopped."""

    def __init__(self) -> None:
        self.next_part = 1
        self.digest = hashlib.sha256()


_running: dict[str, RunningHash] = {}
_running_lock = threading.Lock()


def _running_for(upload_id: str, number: int) -> hashlib._Hash | None:
    """A copy of the upload's running hash when part `number` is the next one in order, else None."""
    with _running_lock:
        state = _running.setdefault(upload_id, RunningHash())
        if number < state.next_part:
            del _running[upload_id]  # a re-sent earlier part: what was hashed may be stale
            return None
        return state.digest.copy() if number == state.next_part else None


def _advance_running(upload_id: str, number: int, digest: hashlib._Hash | None) -> None:
    """After part `number` was stored: its bytes join the running hash if it is the next part in order
    (digest: hashed while it streamed); if the running hash had passed it, that hash is stale now."""
    with _running_lock:
        state = _running.get(upload_id)
        if state is None:
            return
        if state.next_part > number:
            del _running[upload_id]
        elif digest is not None and state.next_part == number:
            state.digest = digest
            state.next_part = number + 1


def _take_running(upload_id: str) -> RunningHash:
    with _running_lock:
        return _running.pop(upload_id, None) or RunningHash()


def uploads_root(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def session_dir(settings: Settings, upload_id: str) -> Path:
    return uploads_root(settings) / upload_id


def part_path(settings: Settings, upload_id: str, number: int) -> Path:
    return session_dir(settings, upload_id) / f"{number:05d}.part"


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _parts(db: Session, upload_id: str) -> list[UploadPart]:
    return list(
        db.scalars(select(UploadPart).where(UploadPart.upload_id == upload_id).order_by(UploadPart.part_number))
    )


def describe(db: Session, row: UploadSession) -> dict[str, Any]:
    parts = _parts(db, row.id)
    received = sum(p.size for p in parts)
    return {
        "uploadId": row.id,
        "filename": row.filename,
        "size": row.size,
        "sha256": row.sha256,
        "contentType": row.content_type,
        "partSize": row.part_size,
        "partCount": part_count(row),
        "partUrl": f"/api/v1/uploads/{row.id}/parts/{{partNumber}}",
        "createdAt": _iso(row.created_at),
        "expiresAt": _iso(row.expires_at),
        "parts": [{"partNumber": p.part_number, "size": p.size, "etag": p.etag} for p in parts],
        "receivedBytes": received,
        "complete": received == row.size,
    }


def create(
    db: Session,
    settings: Settings,
    principal: Principal,
    filename: str,
    size: int,
    sha256: str | None,
    content_type: str | None,
) -> UploadSession:
    limit = settings.max_resumable_upload_gb * 1024**3
    if size > limit:
        raise PayloadTooLarge(
            f"File too large for a resumable upload (limit {settings.max_resumable_upload_gb} GB, "
            "see MAX_RESUMABLE_UPLOAD_GB)",
            code="UPLOAD_TOO_LARGE",
        )
    sessions, declared = _open_sessions(db, principal.user_id)
    if sessions >= settings.max_resumable_sessions_per_user:
        raise TooManyRequests(
            f"Too many open upload sessions ({sessions}, limit {settings.max_resumable_sessions_per_user}, "
            "see MAX_RESUMABLE_SESSIONS_PER_USER): complete or abort one first",
            code="TOO_MANY_REQUESTS",
            headers={"Retry-After": "60"},
        )
    byte_limit = settings.max_resumable_bytes_per_user_gb * 1024**3
    if declared + size > byte_limit:
        raise PayloadTooLarge(
            f"Your open upload sessions would declare {declared + size} bytes (limit "
            f"{settings.max_resumable_bytes_per_user_gb} GB, see MAX_RESUMABLE_BYTES_PER_USER_GB)",
            code="UPLOAD_TOO_LARGE",
        )
    # Refused up front when the declared size, with what the user's other sessions declare, could never
    # fit the quota (checked again at completion).
    library.check_quota(db, principal.user_id, size + declared)
    now = datetime.now(UTC)
    row = UploadSession(
        id=str(uuid.uuid4()),
        user_id=principal.user_id,
        filename=library.display_name(filename, sanitize_filename(filename)),
        size=size,
        sha256=sha256.lower() if sha256 else None,
        content_type=content_type,
        # Big files get bigger parts, so no file needs more than MAX_PARTS of them.
        part_size=max(PART_SIZE, math.ceil(size / MAX_PARTS)),
        created_at=now,
        expires_at=now + SESSION_TTL,
    )
    db.add(row)
    db.flush()
    session_dir(settings, row.id).mkdir(parents=True, exist_ok=True)
    return row


def _open_sessions(db: Session, user_id: str) -> tuple[int, int]:
    """(count, declared bytes) of the user's unexpired sessions."""
    count, declared = db.execute(
        select(func.count(), func.coalesce(func.sum(UploadSession.size), 0)).where(
            UploadSession.user_id == user_id, UploadSession.expires_at > datetime.now(UTC)
        )
    ).one()
    return int(count), int(declared)


def part_count(row: UploadSession) -> int:
    return math.ceil(row.size / row.part_size)


def _slot_size(row: UploadSession, number: int) -> int:
    """The exact size of part `number`: partSize, the last part the rest; 400 outside 1..partCount."""
    count = part_count(row)
    if not 1 <= number <= count:
        raise BadRequest(
            f"Part numbers run from 1 to {count} for this upload (its partCount)", code="INVALID_PART_NUMBER"
        )
    return row.part_size if number < count else row.size - (count - 1) * row.part_size


def _remove(db: Session, settings: Settings, row: UploadSession) -> None:
    db.execute(delete(UploadPart).where(UploadPart.upload_id == row.id))
    db.delete(row)
    db.flush()
    shutil.rmtree(session_dir(settings, row.id), ignore_errors=True)
    with _running_lock:
        _running.pop(row.id, None)


def owned(db: Session, settings: Settings, principal: Principal, upload_id: str) -> UploadSession:
    """The caller's own live session; others' ids and expired sessions answer 404 (expired ones are removed)."""
    row = db.get(UploadSession, upload_id) if len(upload_id) <= 36 else None
    if row is None or row.user_id != principal.user_id:
        raise NotFound("Upload session not found", code="UPLOAD_NOT_FOUND")
    if row.expires_at <= datetime.now(UTC):
        _remove(db, settings, row)
        db.commit()
        raise NotFound("Upload session expired", code="UPLOAD_EXPIRED")
    return row


def abort(db: Session, settings: Settings, principal: Principal, upload_id: str) -> None:
    _remove(db, settings, owned(db, settings, principal, upload_id))


# -- parts ------------------------------------------------------------------------------


def _room_for_part(principal: Principal, settings: Settings, upload_id: str, number: int) -> int:
    """The size part `number` must have: parts tile the declared size at partSize, so any order completes."""
    with session_scope() as db:
        return _slot_size(owned(db, settings, principal, upload_id), number)


def _record_part(upload_id: str, number: int, size: int, etag: str) -> None:
    with session_scope() as db:
        if db.get(UploadSession, upload_id) is None:  # aborted while this part streamed in
            raise NotFound("Upload session not found", code="UPLOAD_NOT_FOUND")
        part = db.get(UploadPart, (upload_id, number))
        if part is None:
            db.add(UploadPart(upload_id=upload_id, part_number=number, size=size, etag=etag))
        else:  # a re-sent part replaces the old one
            part.size, part.etag, part.received_at = size, etag, datetime.now(UTC)


async def receive_part(
    principal: Principal, settings: Settings, upload_id: str, number: int, body: AsyncIterator[bytes]
) -> dict[str, Any]:
    """Streams one part to disk (never whole in memory); answers its ETag (MD5 of the part, as S3 does)."""
    if not 1 <= number <= MAX_PARTS:
        raise BadRequest(f"Part numbers run from 1 to {MAX_PARTS}", code="INVALID_PART_NUMBER")
    room = await run_in_threadpool(_room_for_part, principal, settings, upload_id, number)
    final = part_path(settings, upload_id, number)
    # A temporary name, renamed at the end: an interrupted re-send never damages the part already there.
    tmp = final.with_name(f".{number:05d}-{uuid.uuid4().hex}.tmp")
    digest = hashlib.md5(usedforsecurity=False)
    running = _running_for(upload_id, number)  # the file's SHA-256, when this part is next in order
    await run_in_threadpool(final.parent.mkdir, parents=True, exist_ok=True)
    try:
        with tmp.open("wb") as out:
            size = await _stream_to(out, body, (digest, running) if running is not None else (digest,), number, room)
        if size == 0:
            raise BadRequest("Empty part", code="EMPTY_PART")
        if size != room:
            raise BadRequest(
                f"Part {number} must be exactly {room} bytes (partSize, the last part the rest); got {size}",
                code="PART_SIZE_MISMATCH",
            )
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    etag = digest.hexdigest()
    await run_in_threadpool(_record_part, upload_id, number, size, etag)
    _advance_running(upload_id, number, running)
    return {"partNumber": number, "size": size, "etag": etag}


async def _stream_to(
    out: BinaryIO, body: AsyncIterator[bytes], digests: tuple[Any, ...], number: int, room: int
) -> int:
    """Writes the body to `out` and feeds it to `digests`, in batches handled by a thread while the
    event loop receives the next batch: MD5 and SHA-256 (both release the GIL) and the write then run
    beside the socket reads instead of after them (on the loop they capped a part at ~150 MB/s)."""
    size = 0
    pending = bytearray()
    inflight: asyncio.Future[None] | None = None

    def absorb(batch: bytearray) -> None:
        for digest in digests:
            digest.update(batch)
        out.write(batch)

    async def hand_over(batch: bytearray) -> asyncio.Future[None]:
        if inflight is not None:
            await inflight  # one batch in the thread at a time: order kept, memory bounded
        return asyncio.ensure_future(run_sync(absorb, batch, limiter=UPLOAD_WRITERS))

    try:
        async for chunk in body:
            size += len(chunk)
            if size > room:
                raise PayloadTooLarge(
                    f"Part too large: part {number} has {room} bytes (partSize, the last part the rest)",
                    code="PART_TOO_LARGE",
                )
            pending += chunk
            if len(pending) >= PART_BATCH:
                inflight = await hand_over(pending)
                pending = bytearray()
        if pending:
            inflight = await hand_over(pending)
        if inflight is not None:
            await inflight
    finally:
        if inflight is not None and not inflight.done():
            # The file must not be closed (or removed) under a write still in the thread.
            with contextlib.suppress(BaseException):
                await asyncio.shield(inflight)
    return size


# -- completion ----------------------------------------------------------------------------


def _check_complete(row: UploadSession, parts: list[UploadPart], claimed: list[dict[str, Any]] | None) -> None:
    numbers = [p.part_number for p in parts]
    missing = sorted(set(range(1, (max(numbers) if numbers else 0) + 1)) - set(numbers))
    received = sum(p.size for p in parts)
    if missing or received < row.size:
        # Not a mismatch yet: the client can still send what is missing, so the session is kept.
        raise BadRequest(
            f"Upload incomplete: {received} of {row.size} bytes received",
            code="UPLOAD_INCOMPLETE",
            details={"receivedBytes": received, "size": row.size, "missingParts": missing},
        )
    if claimed is not None:
        ours = {p.part_number: p.etag for p in parts}
        theirs = {int(c["partNumber"]): str(c["etag"]).strip('"') for c in claimed}
        if theirs != ours:
            raise BadRequest("The parts listed do not match the parts received", code="PARTS_MISMATCH")


def complete(
    principal: Principal, settings: Settings, upload_id: str, claimed: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Assembles the parts in order (streaming, hashing as it goes), verifies size and SHA-256, stores the file."""
    with _completing_lock:
        if upload_id in _completing:
            raise Conflict("This upload is already being completed", code="UPLOAD_COMPLETING")
        _completing.add(upload_id)
    staging = library.staging_dir(settings)
    try:
        with session_scope() as db:
            row = owned(db, settings, principal, upload_id)
            parts = _parts(db, upload_id)
            _check_complete(row, parts, claimed)
            filename, size, expected = row.filename, row.size, row.sha256
            content_type = row.content_type
        staging.mkdir(parents=True)
        assembled = staging / sanitize_filename(filename)
        paths = [part_path(settings, upload_id, p.part_number) for p in parts]
        running = _take_running(upload_id)
        digest = running.digest
        # Only parts the running hash did not see (sent out of order, or to another node) are read again.
        for path in paths[running.next_part - 1 :]:
            _hash_file(digest, path)
        written = _assemble(paths, assembled)
        actual = digest.hexdigest()
        if written != size or (expected and actual != expected):
            with session_scope() as db:
                _remove(db, settings, owned(db, settings, principal, upload_id))
            what = "size" if written != size else "SHA-256"
            raise BadRequest(
                f"Upload {what} mismatch; the upload was discarded",
                code="CHECKSUM_MISMATCH" if what == "SHA-256" else "SIZE_MISMATCH",
                details={
                    "expected": expected if what == "SHA-256" else size,
                    "actual": actual if what == "SHA-256" else written,
                },
            )
        with session_scope() as db:
            stored = library.add_file(
                db,
                settings,
                principal.user_id,
                assembled,
                filename,
                move=True,
                sha256=actual,
                declared_type=content_type,
            )
            answer = {**library.file_out(stored), "sha256": actual}
            _remove(db, settings, owned(db, settings, principal, upload_id))
        return answer
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with _completing_lock:
            _completing.discard(upload_id)


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as src:
        while chunk := src.read(COPY_CHUNK):
            digest.update(chunk)


def _assemble(paths: list[Path], target: Path) -> int:
    """Joins the parts into `target` without passing their bytes through this process: the kernel
    copies them (copy_file_range, a block-sharing clone on filesystems that offer one); a plain copy
    where that is unsupported. The parts stay intact until the file is stored, so a completion refused
    (over quota) can be retried."""
    with target.open("wb") as out:
        for path in paths:
            with path.open("rb") as src:
                size = os.fstat(src.fileno()).st_size
                done = 0
                try:
                    while done < size:
                        sent = os.copy_file_range(src.fileno(), out.fileno(), size - done)
                        if sent == 0:
                            break
                        done += sent
                except OSError:
                    src.seek(done)
                    out.seek(0, os.SEEK_END)
                    shutil.copyfileobj(src, out, COPY_CHUNK)
    return target.stat().st_size


# -- expiry ------------------------------------------------------------------------------------


def cleanup_expired(settings: Settings) -> int:
    """Deletes expired sessions with their parts, and part folders no session owns any more."""
    now = datetime.now(UTC)
    with session_scope() as db:
        expired = list(db.scalars(select(UploadSession).where(UploadSession.expires_at <= now)))
        for row in expired:
            _remove(db, settings, row)
        live = set(db.scalars(select(UploadSession.id)))
    root = uploads_root(settings)
    # Only old orphans: a folder younger than that may belong to a session not committed yet.
    cutoff = time.time() - 3600
    if root.is_dir():
        for folder in root.iterdir():
            with contextlib.suppress(OSError):
                if folder.name not in live and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
    return len(expired)


async def cleanup_forever(settings: Settings, interval_s: float = 600.0) -> None:
    while True:
        try:
            removed = await run_in_threadpool(cleanup_expired, settings)
            if removed:
                log.info("removed %d expired upload sessions", removed)
        except Exception:
            log.exception("upload clean-up failed")
        await asyncio.sleep(interval_s)
