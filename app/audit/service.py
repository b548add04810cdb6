"""Writes security-relevant actions to the audit log (and queues the webhook events some of them raise)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.models import AuditEntry
from app.webhooks import outbox


def record(
    db: Session,
    action: str,
    *,
    actor_id: str | None = None,
    actor_username: str | None = None,
    ip: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(
        AuditEntry(
            action=action,
            actor_id=actor_id,
            actor_username=actor_username,
            ip=ip,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
    )
    outbox.from_audit(
        db,
        action,
        actor_id=actor_id,
        actor_username=actor_username,
        ip=ip,
        target_id=target_id,
        details=details,
    )
