"""Application factory: wires routers, error handling and the lifespan (database, runner)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from app import __version__, openapi_doc
from app.admission.early import EarlyRefusal
from app.api_keys.routes import router as api_keys_router
from app.audit.routes import router as audit_router
from app.auth import key_usage
from app.auth.api_key_header import ApiKeyHeaderMiddleware
from app.auth.routes import router as auth_router
from app.automations.routes import router as automations_router
from app.automations.watcher import AutomationManager
from app.branding.routes import router as branding_router
from app.config import Settings, get_settings
from app.convert.routes import router as convert_router
from app.db import dispose_engine, init_engine, session_scope
from app.docs import mount_docs_assets
from app.docs import router as docs_router
from app.engine import registry
from app.engine.media import lazy_vips
from app.engine.runner import Runner
from app.features.routes import router as features_router
from app.files.routes import router as files_router
from app.http import StateHeadersMiddleware, add_cors, install_error_handlers
from app.idempotency import store as idempotency
from app.idempotency.middleware import IdempotencyMiddleware
from app.jobs.events import EventBus
from app.jobs.listing import router as job_listing_router
from app.jobs.routes import router as jobs_router
from app.jobs.service import JobService, fail_interrupted_jobs
from app.jobs.tool_routes import add_tool_routes
from app.jobs.tool_routes import router as tools_router
from app.mcp.endpoint import close_mcp, mount_mcp
from app.memes.routes import router as memes_router
from app.mfa.routes import router as mfa_router
from app.migrate import upgrade
from app.oidc.routes import router as oidc_router
from app.pipelines.routes import router as pipelines_router
from app.preferences.routes import router as preferences_router
from app.quotas import service as quotas
from app.quotas.routes import router as quotas_router
from app.roles.routes import router as roles_router
from app.settings.routes import router as settings_router
from app.system import db_probe, heap
from app.system.bootstrap import bootstrap
from app.system.leftovers import remove_leftovers
from app.system.maintenance import describe_startup_error
from app.system.routes import router as system_router
from app.teams.routes import router as teams_router
from app.uploads import service as resumable
from app.uploads.routes import router as uploads_router
from app.usage.routes import router as usage_router
from app.web.routes import mount_web
from app.webhooks.dispatcher import Dispatcher
from app.webhooks.routes import router as webhooks_router

log = logging.getLogger("lutra")

DESCRIPTION = """Lutra is a self-hosted media toolbox. Every endpoint needs a session token or an API key
(`Authorization: Bearer ...`) unless marked public. Errors are JSON `{"error": "...", "code": "..."}`."""


def _prepare(settings: Settings) -> None:
    """Blocking start-up work: data folder, schema migrations, first-run data."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_engine(settings.sqlalchemy_url, settings.pool_size)
    upgrade(settings.sqlalchemy_url)
    with session_scope() as db:
        bootstrap(db, settings)
        orphans = quotas.remove_orphans(db)  # of users and teams deleted before quotas went with them
    if orphans:
        log.warning("removed %d storage quotas of deleted users or teams", orphans)
    # Scaled mode: other nodes' jobs are running now, on the shared disk; lost ones are the heartbeat
    # reaper's to end, and their files the clean-up's.
    if not settings.scaled:
        remove_leftovers(settings)  # before the jobs it looks for are marked failed
    interrupted = 0 if settings.scaled else fail_interrupted_jobs()
    if interrupted:
        log.warning("marked %d jobs interrupted by the last shutdown as failed", interrupted)


async def probe_ai(app: FastAPI) -> None:
    """Asks a child process which ONNX providers this host offers; logs them and keeps them for health."""
    proc = None
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.engine.ai.status",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        status = json.loads(out or b"{}")
    except (OSError, TimeoutError, ValueError) as exc:
        log.warning("could not read the AI runtime's status: %s", exc)
        return
    finally:
        # Shut down (or timed out) before the child answered: don't leave it behind the closed loop.
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
    app.state.ai_status = status
    if status.get("runtime"):
        installed = [b for b, ok in status.get("bundles", {}).items() if ok]
        log.info(
            "AI: %s, using %s; bundles installed: %s",
            status["runtime"],
            ", ".join(status.get("providers", [])),
            ", ".join(installed) or "none",
        )
    else:
        log.info("AI: ONNX Runtime not installed; AI tools answer 501 (install the 'ai' extra)")


def settle_start_up_objects() -> None:
    """`lutra serve` starts with the cyclic garbage collector off (app.cli): what start-up built lives as
    long as the process, so it moves to the permanent generation, where no collection scans it again
    (shorter pauses under load too), and the collector comes back on for what requests allocate."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    try:
        await run_in_threadpool(_prepare, settings)
    except Exception as exc:
        # One line that says what is wrong, where, and what to do; the chain would be 150 lines of ORM.
        message = describe_startup_error(exc, settings)
        log.error(message)
        raise RuntimeError(message) from None
    node = None
    if settings.scaled:  # the two seams: Celery executor and Redis event bus (app.cluster)
        from app.cluster.node import start_api_node

        node = await start_api_node(settings)
        runner: Any = node.executor
        jobs = JobService(settings, runner, node.bus)
        node.add_duty("job-cleanup", lambda: run_in_threadpool(jobs.cleanup_once), every_s=600.0)
    else:
        runner = Runner(
            settings.job_concurrency,
            idle_timeout_s=settings.worker_idle_s,
            ai_idle_timeout_s=settings.ai_worker_idle_s,
            spare_idle_timeout_s=settings.spare_worker_idle_s,
        )
        runner.start()
        jobs = JobService(settings, runner, EventBus())
    app.state.runner = runner
    app.state.jobs = jobs
    app.state.cluster = node
    automations = app.state.automations = AutomationManager(jobs)
    dispatcher = Dispatcher(settings.webhook_allowed_hosts, settings.webhook_timeout_s)
    loop = asyncio.get_running_loop()
    cleanups = [
        *([] if node else [loop.create_task(jobs.cleanup_forever(settings.cleanup_interval_minutes * 60))]),
        loop.create_task(resumable.cleanup_forever(settings)),
        loop.create_task(idempotency.cleanup_forever()),
        loop.create_task(key_usage.flush_forever()),
        loop.create_task(probe_ai(app)),
        loop.create_task(db_probe.probe.refresh_forever()),  # health reads its last answer, never waits
        loop.create_task(heap.trim_forever()),
        # Scaled mode: one automation loop and one webhook dispatcher per deployment, on the node
        # holding each lease.
        node.add_exclusive("automations", automations.run_forever)
        if node
        else loop.create_task(automations.run_forever()),
        node.add_exclusive("webhooks", dispatcher.run_forever) if node else loop.create_task(dispatcher.run_forever()),
    ]
    settle_start_up_objects()
    log.info("Lutra %s ready on port %s (data in %s)", __version__, settings.port, settings.data_dir)
    try:
        yield
    finally:
        for task in cleanups:
            task.cancel()
        # Bounded, so that one background loop slow to notice its cancellation never hangs a shutdown.
        await asyncio.wait(cleanups, timeout=10)
        await run_in_threadpool(key_usage.flush_at_shutdown)  # lastUsedAt noted since the last round
        await close_mcp(app)
        await automations.close()
        await runner.close()
        if node is not None:
            await node.close()
        dispose_engine()


ROUTERS = (
    system_router,
    auth_router,
    mfa_router,
    oidc_router,
    api_keys_router,
    teams_router,
    roles_router,
    settings_router,
    branding_router,
    audit_router,
    tools_router,
    jobs_router,
    job_listing_router,
    files_router,
    uploads_router,
    usage_router,
    quotas_router,
    pipelines_router,
    convert_router,
    automations_router,
    preferences_router,
    features_router,
    memes_router,
    webhooks_router,
    docs_router,
)  # as the OpenAPI document lists them


def create_app() -> FastAPI:
    app = FastAPI(
        title="Lutra",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by app.docs with local assets
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    lazy_vips.defer()  # before the tool modules import it: the server rarely needs libvips itself
    registry.load_all()
    install_error_handlers(app)
    # Inside the rate-limit headers: a replayed answer gets this request's counters, not the first one's.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(StateHeadersMiddleware)
    # Inside the X-API-Key translation (it reads the Authorization header), outside everything else.
    app.add_middleware(EarlyRefusal, fastapi_app=app)
    app.add_middleware(ApiKeyHeaderMiddleware)
    add_cors(app, get_settings())
    proxies = get_settings().trusted_proxies
    if proxies:
        # Imported here: the uvicorn package pulls in its reloader (watchfiles) when imported.
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # Outermost, so every part of the app (login throttle, audit log) sees the real client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    # Each request tries the routes in order (and an included router's twice): the commonest ones, a
    # tool run, its download and health, are matched first. The OpenAPI document keeps ROUTERS' order.
    add_tool_routes(app)
    matched_first = (system_router, jobs_router)  # health, downloads
    for router in (*matched_first, *(r for r in ROUTERS if r not in matched_first)):
        app.include_router(router)
    openapi_doc.install(app, ROUTERS)
    mount_docs_assets(app)
    mount_mcp(app)  # /mcp: the MCP server (its SDK loads on first use)
    mount_web(app)  # the browser UI: its pages and /static, after every /api route
    return app
