"""Turns an MCP tool call's file references into files in the job's workspace, with the REST limits.

A reference is `{"base64", "filename"}`, `{"fileId"}` (the file library) or `{"url"}`. A url must be a
download address Lutra itself handed out (`/api/v1/download/<job>/<name>` or a library file's
`/api/v1/files/<id>/download`, relative or on this server's own origin, any `?sig=` ignored): it is
resolved on disk, never fetched, so no outside address is ever contacted.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi.concurrency import run_in_threadpool

from app.auth.principal import Principal
from app.engine.tool import Tool
from app.errors import BadRequest, NotFound, PayloadTooLarge
from app.files.service import stage_for_job
from app.jobs.access import check_path_part, visible_job
from app.jobs.service import CheckedInputs, JobService, check_uploads, validate_settings
from app.jobs.uploads import UploadedFile, sanitize_filename

_JOB_DOWNLOAD = re.compile(r"^/api/v1/download/([^/]+)/([^/]+)$")
_LIBRARY_DOWNLOAD = re.compile(r"^/api/v1/files/([^/]+)/download$")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # outputs are never modified in place: sharing the inode is safe
    except OSError:
        shutil.copyfile(source, target)


class Stager:
    """Writes one call's inputs into `<workspace>/in`, numbering them so equal names never collide."""

    def __init__(self, service: JobService, principal: Principal, job_id: str, origin: str) -> None:
        self.service = service
        self.principal = principal
        self.origin = origin.rstrip("/")
        self.folder = service.workspace(job_id) / "in"
        self.count = 0
        self.library_id: str | None = None

    def _target(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        return self.folder / f"{self.count}-{name}"

    async def stage(self, field: str, ref: Any) -> UploadedFile:
        if not isinstance(ref, dict) or len(ref.keys() & {"base64", "fileId", "url"}) != 1:
            raise BadRequest(
                f"{field}: give exactly one of base64 (with filename), fileId or url", code="INVALID_FILE_REF"
            )
        if "base64" in ref:
            return await run_in_threadpool(self._from_base64, field, ref)
        if "fileId" in ref:
            return await self._from_library(field, ref["fileId"])
        return await self._from_url(field, ref["url"])

    def _from_base64(self, field: str, ref: dict[str, Any]) -> UploadedFile:
        data = ref["base64"]
        limit = self.service.settings.max_upload_bytes
        if not isinstance(data, str):
            raise BadRequest(f"{field}.base64 must be a string", code="INVALID_FILE_REF")
        # Checked before decoding, so a huge string costs no second copy: base64 is 4 chars per 3 bytes.
        if len(data) > (limit // 3 + 1) * 4 + 4:
            raise PayloadTooLarge(f"File too large (max {limit // (1024 * 1024)} MB)", code="FILE_TOO_LARGE")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"{field}.base64 is not valid base64", code="INVALID_FILE_REF") from exc
        name = sanitize_filename(str(ref.get("filename") or "file"))
        path = self._target(name)
        path.write_bytes(raw)
        return UploadedFile(field=field, filename=name, path=path, size=len(raw), original=name)

    async def _from_library(self, field: str, file_id: Any) -> UploadedFile:
        folder = self.folder / f"lib{self.count + 1}"
        self.count += 1
        path, name, size = await run_in_threadpool(
            stage_for_job, self.principal, self.service.settings, file_id, folder
        )
        if self.library_id is None and field in ("file", "files"):
            self.library_id = file_id
        return UploadedFile(field=field, filename=name, path=path, size=size, original=name)

    def _local_path(self, field: str, url: Any) -> str:
        if not isinstance(url, str) or len(url) > 4096:
            raise BadRequest(f"{field}.url must be a Lutra downloadUrl", code="INVALID_FILE_REF")
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            mine = urlsplit(self.origin)
            if (parts.scheme, parts.netloc) != (mine.scheme, mine.netloc):
                raise BadRequest(
                    f"{field}.url: only downloadUrls from this Lutra server are accepted, not outside addresses",
                    code="URL_NOT_ALLOWED",
                )
        return parts.path

    async def _from_url(self, field: str, url: Any) -> UploadedFile:
        path = self._local_path(field, url)
        library = _LIBRARY_DOWNLOAD.match(path)
        if library:
            return await self._from_library(field, unquote(library.group(1)))
        match = _JOB_DOWNLOAD.match(path)
        if not match:
            raise BadRequest(
                f"{field}.url is not a Lutra downloadUrl (/api/v1/download/... or /api/v1/files/.../download)",
                code="URL_NOT_ALLOWED",
            )
        job_id, name = unquote(match.group(1)), unquote(match.group(2))
        check_path_part(job_id)
        check_path_part(name)
        await visible_job(job_id, self.principal)  # someone else's job answers 404, as the download route does
        source = self.service.output_dir(job_id) / name
        if not source.is_file():
            raise NotFound(f"{field}.url: that result no longer exists (results expire)", code="FILE_NOT_FOUND")
        target = self._target(sanitize_filename(name))
        await run_in_threadpool(_link_or_copy, source, target)
        return UploadedFile(field=field, filename=target.name.split("-", 1)[1], path=target, size=source.stat().st_size)


def _file_refs(tool: Tool, arguments: dict[str, Any]) -> list[Any]:
    refs: list[Any] = []
    if "file" in arguments:
        refs.append(arguments["file"])
    files = arguments.get("files")
    if files is not None:
        if not isinstance(files, list):
            raise BadRequest("files must be a list of file references", code="INVALID_FILE_REF")
        refs.extend(files)
    return refs


async def stage_call(
    service: JobService, principal: Principal, tool: Tool, job_id: str, arguments: dict[str, Any], origin: str
) -> tuple[dict[str, Any], CheckedInputs]:
    """Validates settings, stages and checks the files: the same rules as a REST upload."""
    allowed = {"file", "files", "settings", *(p.name for p in tool.inputs.extra)}
    unknown = sorted(set(arguments) - allowed)
    if unknown:
        raise BadRequest(f"Unknown argument {unknown[0]!r}; expected {', '.join(sorted(allowed))}", code="BAD_ARGUMENT")
    raw_settings = arguments.get("settings") or {}
    if not isinstance(raw_settings, dict):
        raise BadRequest("settings must be an object", code="INVALID_SETTINGS")
    values = validate_settings(tool, raw_settings)
    if not tool.inputs.takes_files:
        return values, CheckedInputs([])
    stager = Stager(service, principal, job_id, origin)
    main = [await stager.stage("file", ref) for ref in _file_refs(tool, arguments)]
    extra = {p.name: await stager.stage(p.name, arguments[p.name]) for p in tool.inputs.extra if p.name in arguments}
    # A fast tool's answer waits for its worker anyway: the header/probe checks run there, as over REST.
    checked = await check_uploads(tool, main, extra, service.settings, probe=tool.long)
    # A run on one library file saves its result as that file's next version, as over REST.
    checked.library_file_id = stager.library_id if len(main) == 1 else None
    return values, checked
