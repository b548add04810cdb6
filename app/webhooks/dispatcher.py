"""Sends queued webhook deliveries: one async loop, off the request path, retrying with backoff.

The loop is `Dispatcher.run_forever()`, started once in the lifespan. Everything it knows lives in the
database (pending rows, attempt counts, the next attempt's time), so a restart loses nothing: rows a
stopped loop had claimed but not finished go back to pending when the next loop starts. Where several
servers share one database, exactly one should run this loop (a lease around run_forever).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select, update

from app import __version__
from app.audit.service import record
from app.db import session_scope
from app.models import Webhook, WebhookAttempt, WebhookDelivery
from app.webhooks import targets

if TYPE_CHECKING:
    import httpx
# httpx and standardwebhooks load with the dispatcher's first round, after start-up, not at import.

log = logging.getLogger("lutra.webhooks")

# Waits before each retry: the first within 30 s, six attempts over about an hour in all.
RETRY_DELAYS_S: tuple[int, ...] = (10, 60, 300, 900, 2400)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
DISABLE_AFTER = timedelta(hours=24)
POLL_S = 1.0
BATCH = 20
# The delivery log keeps finished deliveries (and their attempts) this long.
KEEP_FINISHED = timedelta(days=30)
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Claimed:
    id: str
    webhook_id: str
    event_type: str
    url: str
    secret: str
    payload: str
    attempt: int


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def release_stuck() -> int:
    """Rows left 'sending' by a loop that stopped mid-attempt are due again (that attempt never counted)."""
    with session_scope() as db:
        result = db.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "sending")
            .values(status="pending", attempts=WebhookDelivery.attempts - 1, next_attempt_at=datetime.now(UTC))
        )
        return result.rowcount or 0


def prune(now: datetime | None = None) -> int:
    """Drops finished deliveries older than KEEP_FINISHED (their attempts go with them)."""
    cutoff = (now or datetime.now(UTC)) - KEEP_FINISHED
    with session_scope() as db:
        old = select(WebhookDelivery.id).where(
            WebhookDelivery.status.in_(("succeeded", "failed")), WebhookDelivery.created_at < cutoff
        )
        ids = list(db.scalars(old.limit(5000)))
        if ids:
            db.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
            db.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        return len(ids)


def claim_due(limit: int = BATCH) -> list[Claimed]:
    """Marks up to `limit` due deliveries of enabled webhooks as 'sending' and returns them."""
    now = datetime.now(UTC)
    claimed: list[Claimed] = []
    with session_scope() as db:
        rows = db.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                Webhook.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        ).all()
        for delivery, hook in rows:
            # Conditional: should a second loop ever run, each row still goes out once per attempt.
            taken = db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status == "pending")
                .values(status="sending", attempts=WebhookDelivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:
                claimed.append(
                    Claimed(
                        delivery.id,
                        hook.id,
                        delivery.event_type,
                        hook.url,
                        hook.secret,
                        delivery.payload,
                        delivery.attempts + 1,
                    )
                )
    return claimed


def record_result(claimed: Claimed, result: AttemptResult) -> None:
    """Writes the attempt, schedules the retry or ends the delivery, and tracks the webhook's failing streak."""
    now = datetime.now(UTC)
    with session_scope() as db:
        delivery = db.get(WebhookDelivery, claimed.id)
        hook = db.get(Webhook, claimed.webhook_id)
        if delivery is None or hook is None:  # deleted meanwhile
            return
        db.add(
            WebhookAttempt(
                delivery_id=claimed.id,
                attempt=claimed.attempt,
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
                created_at=now,
            )
        )
        if result.ok:
            delivery.status, delivery.next_attempt_at = "succeeded", None
            hook.failing_since = None
            return
        if claimed.attempt < MAX_ATTEMPTS:
            delivery.status = "pending"
            delivery.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS_S[claimed.attempt - 1])
        else:
            delivery.status, delivery.next_attempt_at = "failed", None
        if hook.failing_since is None:
            hook.failing_since = now
        elif now - hook.failing_since >= DISABLE_AFTER and hook.enabled:
            hook.enabled = False
            hook.disabled_reason = "Every delivery failed for 24 hours"
            record(
                db,
                "WEBHOOK_DISABLED",
                actor_id=hook.user_id,
                target_type="webhook",
                target_id=hook.id,
                details={"url": hook.url, "reason": hook.disabled_reason, "lastError": _last_reason(result)},
            )
            log.warning("webhook %s disabled: every delivery failed for 24 hours", hook.id)


def _last_reason(result: AttemptResult) -> str:
    return result.error or f"HTTP {result.status_code}"


def signed_headers(claimed: Claimed, when: datetime) -> dict[str, str]:
    from standardwebhooks import Webhook as Signer

    """Standard Webhooks headers; the timestamp is this attempt's, the id the same on every attempt."""
    return {
        "webhook-id": claimed.id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Signer(claimed.secret).sign(claimed.id, when, claimed.payload),
        "content-type": "application/json",
        "user-agent": f"Lutra-Webhooks/{__version__}",
    }


def _pinned_request(
    client: httpx.AsyncClient, target: targets.Target, headers: dict[str, str], body: bytes
) -> httpx.Request:
    """A request to the checked IP itself, with the original Host (and TLS name), so no second DNS lookup."""
    ip = f"[{target.address}]" if ":" in target.address else target.address
    path = target.url.path or "/"
    url = f"{target.url.scheme}://{ip}:{target.port}{path}" + (f"?{target.url.query}" if target.url.query else "")
    host = target.url.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return client.build_request("POST", url, headers={**headers, "host": host}, content=body, extensions=extensions)


async def attempt(
    client: httpx.AsyncClient, claimed: Claimed, allowed: frozenset[str], timeout_s: float
) -> AttemptResult:
    import httpx

    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = await targets.resolve_async(claimed.url, allowed)
        request = _pinned_request(client, target, signed_headers(claimed, datetime.now(UTC)), claimed.payload.encode())
        response = await asyncio.wait_for(client.send(request, stream=True), timeout_s)
        await response.aclose()  # the status is all we need; never read a large answer
        return AttemptResult(response.status_code, None, took())
    except targets.TargetNotAllowed as exc:
        return AttemptResult(None, exc.message, took())
    except (TimeoutError, httpx.TimeoutException):
        return AttemptResult(None, f"Timed out after {timeout_s:g} s", took())
    except httpx.HTTPError as exc:
        return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__, took())


class Dispatcher:
    def __init__(self, allowed_hosts: str, timeout_s: float) -> None:
        self.allowed = targets.allowed_list(allowed_hosts)
        self.timeout_s = timeout_s

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Sends what is due now; answers how many attempts were made."""
        due = await run_in_threadpool(claim_due)

        async def one(claimed: Claimed) -> None:
            result = await attempt(client, claimed, self.allowed, self.timeout_s)
            await run_in_threadpool(record_result, claimed, result)

        await asyncio.gather(*(one(c) for c in due))
        return len(due)

    async def run_forever(self) -> None:
        import httpx

        released = await run_in_threadpool(release_stuck)
        if released:
            log.info("%d webhook deliveries interrupted by the last stop are due again", released)
        timeout = httpx.Timeout(self.timeout_s)
        # No redirects (a 3xx is a failed attempt) and no proxy from the environment.
        last_prune = 0.0
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                try:
                    if time.monotonic() - last_prune > PRUNE_EVERY_S:
                        last_prune = time.monotonic()
                        await run_in_threadpool(prune)
                    sent = await self.run_once(client)
                except Exception:
                    log.exception("webhook dispatch failed")
                    sent = 0
                if sent < BATCH:
                    await asyncio.sleep(POLL_S)
