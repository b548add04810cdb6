"""API keys' lastUsedAt, written in batches: a request notes the time in memory; a background loop
writes the latest time of every used key every few seconds (and at shutdown), so a busy script does
not turn each of its requests into a database write."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.invalidation import NEUTRAL
from app.models import ApiKey

log = logging.getLogger("lutra.auth")
FLUSH_INTERVAL_S = 5.0

_lock = threading.Lock()
_pending: dict[str, datetime] = {}


def note_used(key_id: str) -> None:
    with _lock:
        _pending[key_id] = datetime.now(UTC)


def flush(db: Session) -> int:
    """Writes the noted times in the caller's transaction; returns how many keys were written."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    for key_id, used in batch.items():
        db.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used),
            execution_options={NEUTRAL: True},
        )
    return len(batch)


def flush_now() -> int:
    with _lock:
        if not _pending:  # the common case at shutdown: nothing to write, no connection needed
            return 0
    from app.db import session_scope

    with session_scope() as db:
        return flush(db)


def flush_at_shutdown() -> None:
    """The last round; a database already gone only loses these timestamps, never the shutdown."""
    try:
        flush_now()
    except Exception:
        log.warning("writing API keys' lastUsedAt at shutdown failed", exc_info=True)


async def flush_forever(interval_s: float = FLUSH_INTERVAL_S) -> None:
    """The background loop; the lifespan calls flush_now() once more after cancelling it."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(flush_now)
        except Exception:
            log.exception("writing API keys' lastUsedAt failed")
