"""/api/v1/webhooks: signed event deliveries (Standard Webhooks) to URLs users register."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.audit.service import record
from app.cursor import DEFAULT_LIMIT, MAX_LIMIT
from app.deps import CurrentUser, SessionDep, SettingsDep, client_ip
from app.webhooks import service
from app.webhooks.schemas import CreateWebhookBody, UpdateWebhookBody

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, summary="Register a webhook; answers its signing secret once")
def create_webhook(
    body: CreateWebhookBody, request: Request, principal: CurrentUser, db: SessionDep, settings: SettingsDep
) -> Any:
    """Register a webhook; answers its signing secret (`whsec_...`) once.

    Events: job.completed, job.failed, job.canceled, batch.completed, pipeline.completed, file.created,
    file.deleted, apikey.created, apikey.revoked, user.login_failed (webhooks:manage only); `["*"]` = all.
    A URL resolving to an internal address is refused with 400 WEBHOOK_TARGET_NOT_ALLOWED unless
    WEBHOOK_ALLOWED_HOSTS names it."""
    events = service.check_events(body.events, principal)
    url = service.check_url(body.url, settings)
    hook = service.create(db, principal, url, events, body.description)
    _audit(db, request, principal, "WEBHOOK_CREATED", hook.id, {"url": url, "events": events})
    return service.view(hook, secret=True)


@router.get("", summary="List webhooks (yours; every user's with webhooks:manage)")
def list_webhooks(principal: CurrentUser, db: SessionDep) -> Any:
    return {"webhooks": [service.view(h) for h in service.list_visible(db, principal)]}


@router.get("/{webhook_id}", summary="One webhook (never its secret)")
def get_webhook(webhook_id: str, principal: CurrentUser, db: SessionDep) -> Any:
    return service.view(service.get_visible(db, principal, webhook_id))


@router.patch("/{webhook_id}", summary="Change a webhook's URL, events, description or enabled state")
def update_webhook(
    webhook_id: str,
    body: UpdateWebhookBody,
    request: Request,
    principal: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
) -> Any:
    hook = service.get_visible(db, principal, webhook_id)
    if body.events is not None:
        hook.events = service.check_events(body.events, principal)
    if body.url is not None:
        hook.url = service.check_url(body.url, settings)
    if body.description is not None:
        hook.description = body.description.strip()
    if body.enabled is not None:
        service.enable(hook, body.enabled)
    _audit(db, request, principal, "WEBHOOK_UPDATED", hook.id, body.model_dump(exclude_none=True))
    db.flush()
    return service.view(hook)


@router.delete("/{webhook_id}", summary="Delete a webhook and its delivery log")
def delete_webhook(webhook_id: str, request: Request, principal: CurrentUser, db: SessionDep) -> Any:
    hook = service.get_visible(db, principal, webhook_id)
    db.delete(hook)
    _audit(db, request, principal, "WEBHOOK_DELETED", webhook_id, {"url": hook.url})
    return {"ok": True}


@router.post("/{webhook_id}/rotate-secret", summary="Replace the signing secret; answers the new one once")
def rotate_secret(webhook_id: str, request: Request, principal: CurrentUser, db: SessionDep) -> Any:
    hook = service.get_visible(db, principal, webhook_id)
    hook.secret = service.new_secret()
    _audit(db, request, principal, "WEBHOOK_SECRET_ROTATED", hook.id, None)
    return {"id": hook.id, "secret": hook.secret}


@router.post("/{webhook_id}/test", status_code=202, summary="Queue a webhook.test event for this webhook")
def test_webhook(webhook_id: str, principal: CurrentUser, db: SessionDep) -> Any:
    hook = service.get_visible(db, principal, webhook_id)
    return JSONResponse({"deliveryId": service.send_test(db, hook)}, status_code=202)


@router.get("/{webhook_id}/deliveries", summary="Deliveries, newest first, each with every attempt")
def list_deliveries(
    webhook_id: str,
    principal: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Any:
    """Deliveries, newest first. A delivery's `id` is the `webhook-id` header of all its attempts; each
    attempt says when, the HTTP `status` the receiver answered (or the network `error`), and how long
    it took. `nextCursor` fetches the next page."""
    hook = service.get_visible(db, principal, webhook_id)
    rows, next_cursor = service.deliveries(db, hook, limit, cursor)
    return {"deliveries": rows, "nextCursor": next_cursor}


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again now, under the same webhook-id",
)
def redeliver(webhook_id: str, delivery_id: str, principal: CurrentUser, db: SessionDep) -> Any:
    hook = service.get_visible(db, principal, webhook_id)
    delivery = service.redeliver(db, hook, delivery_id)
    return JSONResponse({"deliveryId": delivery.id, "status": delivery.status}, status_code=202)


def _audit(
    db: SessionDep, request: Request, principal: CurrentUser, action: str, hook_id: str, details: dict[str, Any] | None
) -> None:
    record(
        db,
        action,
        actor_id=principal.user_id,
        actor_username=principal.username,
        ip=client_ip(request),
        target_type="webhook",
        target_id=hook_id,
        details=details,
    )
