"""Opaque cursors for newest-first lists: the (created_at, id) of the last item shown, base64url JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from app.errors import BadRequest

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def encode(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, row_id = json.loads(raw)
        return datetime.fromisoformat(when), str(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadRequest("Invalid cursor", code="INVALID_CURSOR") from exc


def older_than(cursor: str | None, created_col: Any, id_col: Any) -> ColumnElement[bool] | None:
    """The condition selecting rows after the cursor in (created_at desc, id desc) order."""
    if not cursor:
        return None
    when, row_id = decode(cursor)
    return or_(created_col < when, and_(created_col == when, id_col < row_id))


def page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """Rows were fetched with limit + 1: cut to the page, and the next cursor when more remain."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(rows[-1].created_at, rows[-1].id)
