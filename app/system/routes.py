"""Health, public configuration and analytics consent."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from app import __version__
from app.admission.disk import below_floor
from app.auth.principal import Principal
from app.config import get_settings
from app.db import get_engine, pool_saturated
from app.deps import CurrentUser, SessionDep, require
from app.engine.runner import Runner
from app.models import User
from app.system import db_probe
from app.system.versions import engine_versions

router = APIRouter(tags=["system"])
STARTED = time.monotonic()
HealthReader = Annotated[Principal, Depends(require("system:health"))]
DB_CHECK_TIMEOUT_S = db_probe.CHECK_TIMEOUT_S


async def database_ok() -> bool:
    return await db_probe.probe.ok()


async def cluster_status(request: Request) -> dict[str, Any] | None:
    """Workers and queue depths from the executor seam; None when the queue (Redis) is unreachable."""
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        return None
    if isinstance(runner, Runner):
        # The embedded pool answers from memory: awaited directly, health never waits for a turn of a
        # busy event loop (wait_for would run it as a task).
        return await runner.cluster_status()
    try:
        return await asyncio.wait_for(runner.cluster_status(), timeout=DB_CHECK_TIMEOUT_S)
    except Exception:  # a lost Redis reads as "no workers", never as a failed probe
        return None


def public_worker(worker: dict[str, Any]) -> dict[str, Any]:
    """One worker as the admin API shows it (the registry's entry, its heartbeat as an ISO time)."""
    beat = worker.get("heartbeat")
    return {
        "name": worker.get("name"),
        "host": worker.get("host"),
        "pid": worker.get("pid"),
        "queues": worker.get("queues", []),
        "concurrency": worker.get("concurrency"),
        "runningJobs": worker.get("runningJobs", []),
        "version": worker.get("version"),
        "lastHeartbeat": datetime.fromtimestamp(beat, UTC).isoformat() if beat else None,
    }


def _checks(db_ok: bool) -> dict[str, str]:
    """What is degraded, by name: the database, its connection pool, the disk's free-space floor."""
    settings = get_settings()
    return {
        "database": "ok" if db_ok else "unreachable",
        "pool": "saturated" if db_ok and pool_saturated() else "ok",
        "disk": "low" if below_floor(settings) else "ok",
    }


@router.get("/api/v1/health", summary="Liveness: 503 when the database is unreachable; workers online, jobs queued")
async def health(request: Request) -> Any:
    """`checks` names what is degraded: `pool` saturated, `disk` under MIN_FREE_DISK_MB, `database`;
    `workers` counts the workers online and `queued` the jobs waiting for one."""
    ok = await database_ok()
    body: dict[str, Any] = {"status": "healthy" if ok else "unhealthy", "version": __version__, "checks": _checks(ok)}
    if not ok:
        return JSONResponse(body, status_code=503)
    cluster = await cluster_status(request)
    body["workers"] = len(cluster["workers"]) if cluster else 0
    body["queued"] = sum(cluster["queues"].values()) if cluster else None
    return body


@router.get("/api/v1/admin/health", summary="Detailed diagnostics: storage, database, queue, engines, AI")
async def admin_health(request: Request, _: HealthReader) -> Any:
    settings = get_settings()
    db_ok = await database_ok()
    disk = shutil.disk_usage(settings.data_dir)
    runner = getattr(request.app.state, "runner", None)
    queue = runner.stats() if runner is not None else {"active": 0, "pending": 0, "concurrency": 0}
    ai = getattr(request.app.state, "ai_status", None) or {
        "runtime": None,
        "providers": [],
        "gpu": False,
        "probing": True,
    }
    return {
        "status": "healthy" if db_ok else "degraded",
        "version": __version__,
        "uptime": f"{int(time.monotonic() - STARTED)}s",
        "uptimeSeconds": round(time.monotonic() - STARTED, 1),
        "storage": {
            "mode": settings.storage_mode,
            "dataDir": str(settings.data_dir),
            "available": disk.free,
            "total": disk.total,
        },
        "database": "ok" if db_ok else "error",
        "databaseDialect": get_engine().dialect.name,
        "queue": queue,
        # Scaled mode: every `lutra worker` online and the Celery queue depths (embedded: this server).
        "workers": cluster["workers"] if (cluster := await cluster_status(request)) else [],
        "queues": cluster["queues"] if cluster else None,
        # Read once at start by a child process (app.main.probe_ai): the server never imports onnxruntime.
        "ai": ai,
        "engines": await run_in_threadpool(engine_versions),
    }


@router.get("/api/v1/admin/workers", summary="The workers that run jobs: host, pid, queues, running jobs, heartbeat")
async def admin_workers(request: Request, _: HealthReader) -> Any:
    """Scaled mode: every `lutra worker` online (from the registry in Redis) and the queue depths;
    embedded mode: this server's own process pool as the one worker. 503 QUEUE_UNAVAILABLE when Redis
    is unreachable (the list would be wrong, not empty)."""
    runner = request.app.state.runner
    try:
        status = await asyncio.wait_for(runner.cluster_status(), timeout=DB_CHECK_TIMEOUT_S)
    except TimeoutError as exc:  # only the scaled mode waits on anything (Redis)
        from app.cluster.connection import QueueUnavailable

        raise QueueUnavailable() from exc
    mode = "scaled" if get_settings().redis_url else "embedded"
    return {"mode": mode, "workers": [public_worker(w) for w in status["workers"]], "queues": status["queues"]}


@router.get("/api/v1/config/auth", summary="Whether login is required, and how (password, single sign-on)")
def config_auth() -> Any:
    s = get_settings()
    sso = s.auth_enabled and s.oidc_enabled
    return {
        "authEnabled": s.auth_enabled,
        "passwordLoginEnabled": not (sso and s.oidc_disable_password_login),
        "oidc": {"enabled": sso, "label": s.oidc_button_label if sso else ""},
    }


@router.get("/api/v1/config/analytics", summary="Analytics configuration; empty unless ANALYTICS_ENABLED")
def config_analytics() -> Any:
    s = get_settings()
    if not s.analytics_enabled:
        return {
            "enabled": False,
            "posthogApiKey": "",
            "posthogHost": "",
            "sentryDsn": "",
            "sampleRate": 0,
            "instanceId": "",
        }
    return {
        "enabled": True,
        "posthogApiKey": s.posthog_api_key,
        "posthogHost": s.posthog_host,
        "sentryDsn": s.sentry_dsn,
        "sampleRate": s.analytics_sample_rate,
        "instanceId": "",
    }


@router.put("/api/v1/user/analytics", summary="Record your analytics consent, or ask to be reminded later")
def user_analytics(
    principal: CurrentUser,
    db: SessionDep,
    body: Annotated[dict[str, Any], Body(examples=[{"enabled": False}, {"remindLater": True}])],
) -> Any:
    user = db.get(User, principal.user_id)
    if user is None:
        return {"ok": True, "analyticsEnabled": None}
    if body.get("remindLater"):
        user.analytics_consent = None
        user.analytics_remind_at = datetime.now(UTC) + timedelta(days=7)
    else:
        user.analytics_consent = body.get("enabled") is True
        user.analytics_remind_at = None
    return {"ok": True, "analyticsEnabled": user.analytics_consent}
