"""Events that webhooks deliver, and the outbox: an event becomes one delivery row per subscribed webhook,
written in the caller's transaction, so an event is queued exactly when its cause is committed."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job, Role, User, Webhook, WebhookDelivery

EVENT_TYPES: tuple[str, ...] = (
    "job.completed",
    "job.failed",
    "job.canceled",
    "batch.completed",
    "pipeline.completed",
    "file.created",
    "file.deleted",
    "apikey.created",
    "apikey.revoked",
    "user.login_failed",
)
# About no one user: only webhooks of admins holding webhooks:manage may subscribe to these.
SYSTEM_EVENTS = frozenset({"user.login_failed"})
TEST_EVENT = "webhook.test"
MANAGE = "webhooks:manage"

# The one table from audit actions to event types; audit.record() queues these events.
AUDIT_EVENTS: dict[str, str] = {
    "LOGIN_FAILED": "user.login_failed",
    "API_KEY_CREATED": "apikey.created",
    "API_KEY_DELETED": "apikey.revoked",
}

MAX_PAYLOAD_BYTES = 256 * 1024
# Fields dropped, in this order, from an event that would exceed MAX_PAYLOAD_BYTES.
_DROPPABLE = ("downloads", "result")


def new_delivery_id() -> str:
    return "msg_" + secrets.token_hex(16)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(event_type: str, data: dict[str, Any], when: datetime | None = None) -> str:
    """The body every delivery sends: {"type", "timestamp", "data"}, at most 256 KB."""
    body = {"type": event_type, "timestamp": iso(when or datetime.now(UTC)), "data": data}
    text = json.dumps(body, separators=(",", ":"), default=str)
    for key in _DROPPABLE:
        if len(text.encode()) <= MAX_PAYLOAD_BYTES:
            break
        if key in data:
            data = {k: v for k, v in data.items() if k != key} | {"truncated": True}
            body["data"] = data
            text = json.dumps(body, separators=(",", ":"), default=str)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        body["data"] = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) and len(str(v)) < 1024}
        body["data"]["truncated"] = True
        text = json.dumps(body, separators=(",", ":"), default=str)
    return text


def subscribes(events: list[str], event_type: str) -> bool:
    return "*" in events or event_type in events


def _managers(db: Session) -> set[str]:
    """Users whose role holds webhooks:manage (roles are few: one query)."""
    roles = [r.name for r in db.scalars(select(Role)) if MANAGE in (r.permissions or [])]
    return set(db.scalars(select(User.id).where(User.role.in_(roles)))) if roles else set()


def subscribers(db: Session, event_type: str, owner_id: str | None) -> list[Webhook]:
    """The enabled webhooks that should see this event: the owner's, or the managers' for system events."""
    query = select(Webhook).where(Webhook.enabled.is_(True))
    if event_type in SYSTEM_EVENTS:
        managers = _managers(db)
        hooks = [h for h in db.scalars(query) if h.user_id in managers]
    elif owner_id is None:
        return []
    else:
        hooks = list(db.scalars(query.where(Webhook.user_id == owner_id)))
    return [h for h in hooks if subscribes(h.events, event_type)]


def queue(db: Session, hooks: list[Webhook], event_type: str, data: dict[str, Any]) -> list[str]:
    """One pending delivery per webhook, all carrying the same body; answers their ids."""
    body = payload(event_type, data)
    now = datetime.now(UTC)
    ids = []
    for hook in hooks:
        ids.append(new_delivery_id())
        db.add(
            WebhookDelivery(
                id=ids[-1],
                webhook_id=hook.id,
                event_type=event_type,
                payload=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return ids


def enqueue(db: Session, event_type: str, data: dict[str, Any], owner_id: str | None) -> int:
    """Queues the event for every webhook that should see it; returns how many deliveries."""
    hooks = subscribers(db, event_type, owner_id)
    return len(queue(db, hooks, event_type, data)) if hooks else 0


def from_audit(
    db: Session,
    action: str,
    *,
    actor_id: str | None,
    actor_username: str | None,
    ip: str | None,
    target_id: str | None,
    details: dict[str, Any] | None,
) -> None:
    """An audit action listed in AUDIT_EVENTS becomes its event."""
    event_type = AUDIT_EVENTS.get(action)
    if event_type is None:
        return
    details = dict(details or {})
    if event_type == "user.login_failed":
        data = {"username": details.get("username", actor_username), "ip": ip, "reason": details.get("reason")}
        enqueue(db, event_type, data, None)
        return
    owner = details.pop("ownerId", None) or actor_id
    data = {"apiKeyId": target_id, "userId": owner, "actor": actor_username, **details}
    enqueue(db, event_type, data, owner)


# Which event a finished job raises, by the job row's kind and status.
def job_event_type(kind: str, status: str) -> str | None:
    if kind == "upload":  # a plain upload to a workspace: nothing ran
        return None
    if status == "completed":
        return {"batch": "batch.completed", "pipeline": "pipeline.completed"}.get(kind, "job.completed")
    return {"failed": "job.failed", "canceled": "job.canceled"}.get(status)


def job_data(db: Session, job: Job) -> dict[str, Any]:
    result = job.result if isinstance(job.result, dict) else {}
    user = db.get(User, job.user_id) if job.user_id else None
    duration = None
    if job.finished_at is not None:
        start = job.started_at or job.created_at
        duration = max(0, round((job.finished_at - start).total_seconds() * 1000))
    data: dict[str, Any] = {
        "jobId": job.id,
        "kind": job.kind,
        "tool": job.tool_id,
        "status": job.status,
        "userId": job.user_id,
        "username": user.username if user else None,
        "originalSize": job.bytes_in,
        "processedSize": job.bytes_out,
        "durationMs": duration,
        "downloadUrl": result.get("downloadUrl"),
    }
    if result.get("downloads"):
        data["downloads"] = result["downloads"]
    for key in ("totalFiles", "failedFiles"):
        if key in result:
            data[key] = result[key]
    if job.status != "completed":
        data["error"] = job.error
        data["code"] = result.get("code")
    return data


def from_job(db: Session, job_id: str, job: Job | None = None) -> None:
    """Queues the event of a job that just reached its final state (call in the same transaction;
    pass the row when the caller holds it)."""
    job = job if job is not None else db.get(Job, job_id)
    if job is None or job.user_id is None:
        return
    event_type = job_event_type(job.kind, job.status)
    if event_type is None:
        return
    hooks = subscribers(db, event_type, job.user_id)
    if hooks:  # the common case has none: then no more queries
        queue(db, hooks, event_type, job_data(db, job))
