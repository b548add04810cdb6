"""Idempotency records in the database: claim a key, finish it with the response, find it again."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.auth import authenticate as authn
from app.auth import tokens
from app.config import get_settings
from app.db import session_scope
from app.errors import AuthRequired
from app.models import IdempotencyRecord

log = logging.getLogger("lutra.idempotency")
TTL = timedelta(hours=24)
# A record still "processing" after this long belongs to a request that died with its server.
STALE_AFTER = timedelta(hours=2)


@dataclass
class Stored:
    status: str
    fingerprint: str | None
    response_status: int | None
    response_headers: list[list[str]] | None
    response_body: bytes | None
    body_stored: bool


def user_for(authorization: str | None, cookie_header: str | None) -> str | None:
    """The user behind the request's credential, or None (the route itself will answer 401)."""
    with session_scope() as db:
        if not get_settings().auth_enabled:
            try:
                return authn.open_principal(db).user_id
            except AuthRequired:
                return None
        cookie = None
        if cookie_header:
            try:
                jar = SimpleCookie(cookie_header)
                cookie = jar[authn.SESSION_COOKIE].value if authn.SESSION_COOKIE in jar else None
            except CookieError:
                cookie = None
        raw = authn.bearer_token(authorization, cookie)
        if raw is None:
            return None
        try:
            principal = (
                authn.from_api_key(db, raw) if tokens.looks_like_api_key(raw) else authn.from_session_token(db, raw)
            )
        except AuthRequired:
            return None
        return principal.user_id


def claim(user_id: str, key: str, method: str, path: str) -> tuple[int | None, Stored | None]:
    """Claims (user, key) for a new request: (record id, None); or (None, what is stored) when taken."""
    now = datetime.now(UTC)
    with session_scope() as db:
        row = db.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        )
        if row is not None:
            expired = row.created_at <= now - TTL
            stale = row.status == "processing" and row.created_at <= now - STALE_AFTER
            if not (expired or stale):
                return None, Stored(
                    row.status,
                    row.fingerprint,
                    row.response_status,
                    row.response_headers,
                    row.response_body,
                    row.body_stored,
                )
            db.delete(row)
            db.flush()
        record = IdempotencyRecord(user_id=user_id, key=key, method=method, path=path[:1024], status="processing")
        db.add(record)
        try:
            db.flush()
        except IntegrityError:
            # Another request claimed the same key a moment ago: it is the one running.
            db.rollback()
            return None, Stored("processing", None, None, None, None, False)
        return record.id, None


def finish(
    record_id: int, fingerprint: str, status: int, headers: list[list[str]], body: bytes | None, body_stored: bool
) -> None:
    with session_scope() as db:
        db.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(
                status="done",
                fingerprint=fingerprint,
                response_status=status,
                response_headers=headers,
                response_body=body,
                body_stored=body_stored,
            )
        )


def release(record_id: int) -> None:
    """Forgets a claim whose request created nothing (it failed early, or crashed): a retry runs afresh."""
    with session_scope() as db:
        db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired() -> int:
    with session_scope() as db:
        result = db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= datetime.now(UTC) - TTL))
        return result.rowcount or 0


async def cleanup_forever(interval_s: float = 3600.0) -> None:
    while True:
        try:
            await run_in_threadpool(purge_expired)
        except Exception:
            log.exception("idempotency clean-up failed")
        await asyncio.sleep(interval_s)
