"""Invalidates cached principals when the rows they were built from change.

Hooked on every ORM session of the process: whatever route or service changes a user, an API key, a
session, a role or a team (log out, password change, role change, key revoke, user deletion, single
sign-on updating a role...), the affected credentials are dropped from the principal cache the
moment the transaction commits, here and (scaled mode) on every other API node. No route has to
remember to do it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.auth.principal_cache import Invalidation, invalidate
from app.models import ApiKey, Role, Team, User, UserSession

_PENDING = "lutra_principal_invalidation"
# An execution option for bulk statements that touch these tables without changing who anyone is
# (the batched lastUsedAt write).
NEUTRAL = "principal_cache_neutral"
_WATCHED_TABLES = {m.__table__.name for m in (ApiKey, Role, Team, User, UserSession)}  # type: ignore[attr-defined]


def _pending(session: Session) -> Invalidation:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = Invalidation()
    return found


def _note(change: Invalidation, obj: Any, *, created: bool) -> None:
    if isinstance(obj, (Role, Team)):
        change.everything = True  # permissions or team of many users at once
    elif created:
        return  # a new user, key or session is not in any cache yet
    elif isinstance(obj, User):
        change.users.add(obj.id)
    elif isinstance(obj, ApiKey):
        change.keys.add(obj.id)
    elif isinstance(obj, UserSession):
        change.sessions.add(obj.id)


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context: Any) -> None:
    change = _pending(session)
    for obj in session.new:
        _note(change, obj, created=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note(change, obj, created=False)
    for obj in session.deleted:
        _note(change, obj, created=False)


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state: ORMExecuteState) -> None:
    # A bulk UPDATE/DELETE names no rows we could map to credentials: drop every cached principal.
    if not (state.is_update or state.is_delete) or state.execution_options.get(NEUTRAL):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        _pending(state.session).everything = True


@event.listens_for(Session, "after_commit")
def _apply_committed(session: Session) -> None:
    change = session.info.pop(_PENDING, None)
    if change:
        invalidate(change)


@event.listens_for(Session, "after_rollback")
def _discard_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
