"""Webhook subscriptions: checks, ownership, views, secrets, and the test and redeliver actions."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import cursor
from app.auth.principal import Principal
from app.config import Settings
from app.errors import Conflict, Forbidden, LutraError, NotFound
from app.models import Webhook, WebhookAttempt, WebhookDelivery
from app.webhooks import outbox, targets


def new_secret() -> str:
    """whsec_ + base64 of 24 random bytes, the Standard Webhooks form every library reads."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _unprocessable(message: str, field: str) -> LutraError:
    return LutraError(message, status=422, code="VALIDATION_ERROR", details={field: message})


def check_events(events: list[str], principal: Principal) -> list[str]:
    if not events:
        raise _unprocessable('events must name at least one event type (or "*" for all)', "events")
    unknown = [e for e in events if e != "*" and e not in outbox.EVENT_TYPES]
    if unknown:
        raise _unprocessable(
            f"Unknown event type {unknown[0][:64]!r}; known: {', '.join(outbox.EVENT_TYPES)}", "events"
        )
    system = [e for e in events if e in outbox.SYSTEM_EVENTS]
    if system and not principal.has(outbox.MANAGE):
        raise Forbidden(f"Only administrators with {outbox.MANAGE} may subscribe to {system[0]}")
    return list(dict.fromkeys(events))


def check_url(url: str, settings: Settings) -> str:
    """Blocking (DNS): call from a worker thread. Refuses internal targets with 400 WEBHOOK_TARGET_NOT_ALLOWED."""
    targets.resolve(url, targets.allowed_list(settings.webhook_allowed_hosts))
    return url.strip()


def _iso(moment: datetime | None) -> str | None:
    return outbox.iso(moment) if moment is not None else None


def view(hook: Webhook, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "description": hook.description,
        "events": list(hook.events),
        "enabled": hook.enabled,
        "disabledReason": hook.disabled_reason,
        "failingSince": _iso(hook.failing_since),
        "userId": hook.user_id,
        "createdAt": _iso(hook.created_at),
        "updatedAt": _iso(hook.updated_at),
    }
    if secret:  # only when created or rotated: never readable again
        out["secret"] = hook.secret
    return out


def get_visible(db: Session, principal: Principal, hook_id: str) -> Webhook:
    """The caller's webhook (any, with webhooks:manage); someone else's is 404, not 403."""
    hook = db.get(Webhook, hook_id) if len(hook_id) <= 36 else None
    if hook is None or (hook.user_id != principal.user_id and not principal.has(outbox.MANAGE)):
        raise NotFound("Webhook not found", code="WEBHOOK_NOT_FOUND")
    return hook


def list_visible(db: Session, principal: Principal) -> list[Webhook]:
    query = select(Webhook).order_by(Webhook.created_at, Webhook.id)
    if not principal.has(outbox.MANAGE):
        query = query.where(Webhook.user_id == principal.user_id)
    return list(db.scalars(query))


def create(db: Session, principal: Principal, url: str, events: list[str], description: str) -> Webhook:
    now = datetime.now(UTC)
    hook = Webhook(
        user_id=principal.user_id,
        url=url,
        events=events,
        description=description.strip(),
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    db.add(hook)
    db.flush()
    return hook


def enable(hook: Webhook, enabled: bool) -> None:
    hook.enabled = enabled
    if enabled:  # a fresh start: the 24 h failing streak begins again
        hook.failing_since = None
        hook.disabled_reason = None


def send_test(db: Session, hook: Webhook) -> str:
    if not hook.enabled:
        raise Conflict("Webhook is disabled; enable it first", code="WEBHOOK_DISABLED")
    data = {"webhookId": hook.id, "message": "A test event from Lutra"}
    return outbox.queue(db, [hook], outbox.TEST_EVENT, data)[0]


def redeliver(db: Session, hook: Webhook, delivery_id: str) -> WebhookDelivery:
    """One more attempt now, under the same webhook-id."""
    delivery = db.get(WebhookDelivery, delivery_id) if len(delivery_id) <= 40 else None
    if delivery is None or delivery.webhook_id != hook.id:
        raise NotFound("Delivery not found", code="DELIVERY_NOT_FOUND")
    if delivery.status == "sending":
        raise Conflict("This delivery is being sent right now", code="DELIVERY_IN_PROGRESS")
    delivery.status = "pending"
    delivery.next_attempt_at = datetime.now(UTC)
    return delivery


def deliveries(db: Session, hook: Webhook, limit: int, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The webhook's deliveries, newest first, each with every attempt."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    condition = cursor.older_than(after, WebhookDelivery.created_at, WebhookDelivery.id)
    if condition is not None:
        query = query.where(condition)
    rows = list(
        db.scalars(query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1))
    )
    rows, next_cursor = cursor.page(rows, limit)
    attempts: dict[str, list[WebhookAttempt]] = {}
    if rows:
        found = db.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
            .order_by(WebhookAttempt.attempt, WebhookAttempt.id)
        )
        for a in found:
            attempts.setdefault(a.delivery_id, []).append(a)
    return [_delivery_view(r, attempts.get(r.id, [])) for r in rows], next_cursor


def _delivery_view(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    last = attempts[-1] if attempts else None
    return {
        "id": row.id,  # also the webhook-id header every attempt carried
        "eventType": row.event_type,
        "status": row.status,
        "attemptCount": len(attempts),
        "lastStatus": last.status_code if last else None,
        "lastError": last.error if last else None,
        "nextAttemptAt": _iso(row.next_attempt_at),
        "createdAt": _iso(row.created_at),
        "attempts": [
            {
                "attempt": a.attempt,
                "timestamp": _iso(a.created_at),
                "status": a.status_code,
                "error": a.error,
                "durationMs": a.duration_ms,
            }
            for a in attempts
        ],
    }
