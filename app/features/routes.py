"""/api/v1/features: AI bundles, their install state, and installing, importing or removing models."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.admission.deps import UPLOAD_ADMISSION
from app.audit.service import record
from app.auth.principal import Principal
from app.config import get_settings
from app.db import session_scope
from app.deps import CurrentUser, client_ip, require
from app.engine import registry
from app.engine.ai import bundles, install
from app.engine.ai.bundles import Bundle
from app.engine.spec import Outcome
from app.errors import BadRequest, Conflict, NotFound
from app.jobs.access import job_service
from app.jobs.events import make_event
from app.jobs.service import JobService
from app.jobs.uploads import receive_form

router = APIRouter(tags=["features"])
FeatureAdmin = Annotated[Principal, Depends(require("features:manage"))]

# Bundles with an install running in this process: a second install of the same one is refused.
_installing: set[str] = set()


def _bundle_view(bundle: Bundle) -> dict[str, Any]:
    view = bundle.status()
    view["tools"] = sorted(t.id for t in registry.all_tools() if t.feature == bundle.id)
    return view


def _find(bundle_id: str) -> Bundle:
    bundle = bundles.get_bundle(bundle_id)
    if bundle is None:
        raise NotFound(f'AI feature "{bundle_id[:64]}" not found', code="FEATURE_NOT_FOUND")
    return bundle


def _audit(request: Request, actor: Principal, action: str, bundle: Bundle, details: dict[str, Any]) -> None:
    with session_scope() as db:
        record(
            db,
            action,
            actor_id=actor.user_id,
            actor_username=actor.username,
            ip=client_ip(request),
            target_type="feature",
            target_id=bundle.id,
            details=details,
        )


@router.get("/api/v1/features", summary="AI feature bundles: their tools, models, install state and size on disk")
async def list_features(_: CurrentUser) -> Any:
    return {"bundles": await run_in_threadpool(lambda: [_bundle_view(b) for b in bundles.all_bundles()])}


@router.get("/api/v1/admin/features/disk-usage", summary="Disk space taken by installed AI models")
async def disk_usage(_: FeatureAdmin) -> Any:
    def measure() -> dict[str, Any]:
        per_bundle = {b.id: b.disk_usage() for b in bundles.all_bundles()}
        root = bundles.models_dir()
        total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
        return {"totalBytes": total, "totalSize": total, "modelsDir": str(root), "bundles": per_bundle}

    return await run_in_threadpool(measure)


class InstallBody(BaseModel):
    models: list[str] | None = Field(
        None, description="Install only these models of the bundle (ids from GET /api/v1/features); default: all"
    )


async def _run_install(service: JobService, job_id: str, bundle: Bundle, only: list[str] | None, total: int) -> None:
    loop = asyncio.get_running_loop()
    mirror = get_settings().model_mirror_url
    last = [-1]

    def progress(done: int, message: str) -> None:
        pct = int(done * 100 / total) if total else 100
        if pct != last[0]:
            last[0] = pct
            loop.call_soon_threadsafe(service.bus.publish, job_id, make_event(job_id, "processing", pct, message))

    try:
        remote = getattr(service.runner, "run_install", None)
        if remote is not None:  # scaled mode: a worker installs, into the models folder every node shares
            installed = await _install_on_worker(remote, service, job_id, bundle, only)
        else:
            installed = await run_in_threadpool(
                install.install_bundle, bundle, mirror, progress, lambda: service.is_cancelled(job_id), only
            )
    except install.InstallError as exc:
        if service.is_cancelled(job_id):
            await service.finish(job_id, Outcome("canceled", error="Canceled", code="CANCELED"), 0)
        else:
            await service.finish_failed(job_id, str(exc), {"bundleId": bundle.id, "code": "INSTALL_FAILED"})
        return
    finally:
        _installing.discard(bundle.id)
        service.forget(job_id)
    view = await run_in_threadpool(_bundle_view, bundle)
    await service.finish_with(job_id, {"bundleId": bundle.id, "installedModels": installed, "feature": view})


async def _install_on_worker(
    remote: Any, service: JobService, job_id: str, bundle: Bundle, only: list[str] | None
) -> list[str]:
    def progress(pct: float, message: str | None) -> None:
        service.bus.publish(job_id, make_event(job_id, "processing", pct, message))

    outcome = await remote(job_id, bundle.id, only, progress)
    if outcome.status == "canceled":
        service.cancel(job_id)  # so the caller reports it as cancelled, as in the embedded mode
    if outcome.status != "completed":
        raise install.InstallError(outcome.error or "The install failed")
    return list(outcome.data.get("installedModels", []))


@router.post(
    "/api/v1/admin/features/{bundle_id}/install",
    status_code=202,
    summary="Install a bundle's models (a job: follow /api/v1/jobs/{jobId}/progress)",
)
async def install_feature(
    bundle_id: str, request: Request, actor: FeatureAdmin, body: Annotated[InstallBody | None, Body()] = None
) -> Any:
    bundle = _find(bundle_id)
    only = body.models if body else None
    if only:
        known = {m.id for m in bundle.models()}
        unknown = [m for m in only if m not in known]
        if unknown:
            raise BadRequest(f"Bundle {bundle.id} has no model {unknown[0]!r}", code="UNKNOWN_MODEL")
    if bundle.missing_python():
        raise BadRequest(
            f"{bundle.name} needs Python packages that are not installed ({', '.join(bundle.missing_python())}); "
            "install Lutra's AI extra: pip install 'lutra[ai]'",
            code="PACKAGES_MISSING",
        )
    if bundle.id in _installing:
        raise Conflict(f"{bundle.name} is already being installed", code="INSTALL_IN_PROGRESS")
    service = job_service(request)
    job_id = service.new_id()
    total = await run_in_threadpool(bundle.download_size, only)
    _installing.add(bundle.id)
    try:
        await service.create(job_id, actor.user_id, "feature", None, {"bundleId": bundle.id, "models": only}, 0)
        await run_in_threadpool(_audit, request, actor, "FEATURE_INSTALLED", bundle, {"models": only, "bytes": total})
    except BaseException:
        _installing.discard(bundle.id)
        raise
    service.bus.publish(job_id, make_event(job_id, "processing", 0, f"Installing {bundle.name}"))
    service.run_in_background(_run_install(service, job_id, bundle, only, total))
    return JSONResponse({"jobId": job_id, "async": True, "bundleId": bundle.id, "downloadSize": total}, status_code=202)


@router.post("/api/v1/admin/features/{bundle_id}/uninstall", summary="Remove a bundle's downloaded models")
async def uninstall_feature(bundle_id: str, request: Request, actor: FeatureAdmin) -> Any:
    bundle = _find(bundle_id)
    if bundle.id in _installing:
        raise Conflict(f"{bundle.name} is being installed; cancel that job first", code="INSTALL_IN_PROGRESS")
    freed = await run_in_threadpool(install.uninstall_bundle, bundle)
    await run_in_threadpool(_audit, request, actor, "FEATURE_UNINSTALLED", bundle, {"freedBytes": freed})
    view = await run_in_threadpool(_bundle_view, bundle)
    kept = [m["id"] for m in view["models"] if m["source"] == "package"]
    return {"bundleId": bundle.id, "freedBytes": freed, "packagedModelsKept": kept, "feature": view}


@router.post(
    "/api/v1/admin/features/{bundle_id}/import",
    summary="Install models from uploaded files (hosts without internet): multipart, one part per model file",
    dependencies=[UPLOAD_ADMISSION],
)
async def import_feature(bundle_id: str, request: Request, actor: FeatureAdmin) -> Any:
    bundle = _find(bundle_id)
    if bundle.id in _installing:
        raise Conflict(f"{bundle.name} is being installed", code="INSTALL_IN_PROGRESS")
    wanted = {f.name: (m, f) for m in bundle.models() if not m.packaged for f in m.files}
    if not wanted:
        raise BadRequest(f"{bundle.name} has no models to import", code="NOTHING_TO_IMPORT")
    largest = max(f.size for _, f in wanted.values())
    staging = bundles.models_dir() / ".incoming" / job_service(request).new_id()
    _installing.add(bundle.id)
    try:
        form = await receive_form(request, staging, max_file_bytes=largest, max_files=len(wanted))
        if not form.files:
            raise BadRequest("Send the model files as multipart file parts", code="NO_FILE")
        return await run_in_threadpool(_import_files, bundle, wanted, form.files, request, actor)
    finally:
        _installing.discard(bundle.id)
        shutil.rmtree(staging, ignore_errors=True)


def _import_files(
    bundle: Bundle, wanted: dict[str, Any], files: list[Any], request: Request, actor: Principal
) -> dict[str, Any]:
    unknown = [f.original or f.filename for f in files if Path(f.original or f.filename).name not in wanted]
    if unknown:
        names = ", ".join(sorted(wanted))
        raise BadRequest(
            f"{unknown[0]!r} is not a file of {bundle.name} (expected one of: {names})", code="UNKNOWN_FILE"
        )
    touched: dict[str, bundles.Model] = {}
    for upload in files:
        model, file = wanted[Path(upload.original or upload.filename).name]
        try:
            install.accept_file(model, file, upload.path)
        except install.InstallError as exc:
            raise BadRequest(str(exc), code="CHECKSUM_MISMATCH") from exc
        touched[model.id] = model
    installed, waiting = [], {}
    for model in touched.values():
        if install.commit_model(model):
            installed.append(model.id)
        else:
            folder = install.partial_dir(model)
            waiting[model.id] = [f.name for f in model.files if not (folder / f.name).is_file()]
    _audit(request, actor, "FEATURE_IMPORTED", bundle, {"models": installed})
    return {"bundleId": bundle.id, "installedModels": installed, "waitingFor": waiting, "feature": _bundle_view(bundle)}
