"""The file library: versioned files on disk under DATA_DIR/files/<user id>/, ownership, quota, thumbnails.

Every function here blocks (disk, database, libvips, subprocesses); routes call them in a threadpool.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.signed_urls import sign_library_url
from app.config import Settings
from app.db import session_scope
from app.engine.media import lazy_vips
from app.engine.media.sniff import IMAGE_KINDS, VIDEO_KINDS, mime_for, sniff_file
from app.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMedia
from app.jobs.uploads import sanitize_filename
from app.models import LibraryFile, User
from app.quotas import service as quotas
from app.webhooks import outbox

# Images libvips decodes itself; SVG is left out (it may reference other files).
RASTER_KINDS = tuple(k for k in IMAGE_KINDS if k != "svg")
THUMB_PX = 300
THUMB_NAME = ".thumb.jpg"
PREVIEW_PX = 1200
COPY_CHUNK = 1024 * 1024


def files_root(settings: Settings) -> Path:
    return settings.data_dir / "files"


def staging_dir(settings: Settings) -> Path:
    """Uploads land here first (same file system as the library, so moving them in is a rename)."""
    return files_root(settings) / ".staging" / uuid.uuid4().hex


def path_of(settings: Settings, row: LibraryFile) -> Path:
    return files_root(settings) / row.storage_key


# -- ownership ---------------------------------------------------------------------


def visible(principal: Principal) -> ColumnElement[bool]:
    """WHERE clause: the caller's own files, or everyone's with files:all."""
    return true() if principal.has("files:all") else LibraryFile.user_id == principal.user_id


def get_visible(db: Session, principal: Principal, file_id: str) -> LibraryFile:
    row = db.get(LibraryFile, file_id) if isinstance(file_id, str) and len(file_id) <= 36 else None
    # Someone else's file answers exactly like a missing one: ids are not an oracle.
    if row is None or not (principal.has("files:all") or row.user_id == principal.user_id):
        raise NotFound("File not found", code="FILE_NOT_FOUND")
    return row


def get_any(db: Session, file_id: str) -> LibraryFile:
    """For a signed link, which proves the server handed this file's URL to someone allowed to see it."""
    row = db.get(LibraryFile, file_id) if len(file_id) <= 36 else None
    if row is None:
        raise NotFound("File not found", code="FILE_NOT_FOUND")
    return row


# -- storage accounting --------------------------------------------------------------


def used_bytes(db: Session, user_id: str) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(LibraryFile.size), 0)).where(LibraryFile.user_id == user_id)))


def check_quota(db: Session, user_id: str, adding: int) -> None:
    """413 when adding `adding` bytes would take the user past their quota (own, team's, or storageQuotaMb)."""
    quota = quotas.quota_bytes(db, user_id)
    if quota is None:
        return
    used = used_bytes(db, user_id)
    if used + adding > quota:
        raise PayloadTooLarge(
            f"Storage quota exceeded ({used + adding} of {quota} bytes)",
            code="STORAGE_QUOTA_EXCEEDED",
            details={"usedBytes": used, "quotaBytes": quota, "requestedBytes": adding},
        )


# -- metadata ---------------------------------------------------------------------------


@dataclass
class MediaInfo:
    kind: str | None
    mime_type: str
    width: int | None = None
    height: int | None = None


# Kinds whose dimensions imagesize reads from the header; the rest (JPEG XL, ICO) go through libvips.
HEADER_KINDS = frozenset({"jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "avif", "jp2"})


def describe(path: Path, declared_type: str | None = None) -> MediaInfo:
    """Kind from the bytes; image dimensions from the header only (nothing decoded).

    imagesize reads a few hundred bytes in pure Python; importing pyvips instead held the GIL for
    0.3-0.5 s the first time, stalling every request on the server (health answered in 350-500 ms
    under an upload load), and cost the server process its memory for good."""
    kind = sniff_file(path)
    mime = mime_for(kind) if kind else (declared_type or "application/octet-stream")
    info = MediaInfo(kind, mime[:100])
    if kind in HEADER_KINDS:
        import imagesize

        # Stored dimensions (as libvips reports them), not the EXIF-rotated ones.
        width, height = imagesize.get(path, exif_rotation=False)  # (-1, -1): an unreadable header
        if width > 0 and height > 0:
            info.width, info.height = width, height
    elif kind in RASTER_KINDS:
        pyvips = lazy_vips.load()

        with contextlib.suppress(pyvips.Error):
            image = pyvips.Image.new_from_file(str(path), access="sequential")
            info.width, info.height = image.width, image.height
    return info


def display_name(original: str, sanitised: str) -> str:
    """The name as uploaded, for display and Content-Disposition: control characters and path parts are
    dropped (they'd confuse listings), everything else is kept; the disk name is the sanitised one."""
    name = "".join(c for c in original if unicodedata.category(c)[0] != "C").replace("\\", "/").split("/")[-1]
    return name.strip()[:255] or sanitised


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _place(source: Path, dest: Path, *, move: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if move:
        shutil.move(source, dest)
    else:
        try:
            os.link(source, dest)  # a job output saved to the library costs no copy
        except OSError:
            shutil.copyfile(source, dest)
    # Read-only: a library file is also hard-linked into job inputs, where nothing may change it.
    dest.chmod(0o444)


def add_file(
    db: Session,
    settings: Settings,
    user_id: str,
    source: Path,
    original_name: str,
    *,
    move: bool,
    parent: LibraryFile | None = None,
    tool_id: str | None = None,
    job_id: str | None = None,
    sha256: str | None = None,
    declared_type: str | None = None,
) -> LibraryFile:
    """Stores `source` as a new file, or as the next version of `parent`'s chain; checks the quota."""
    size = source.stat().st_size
    owner = parent.user_id if parent is not None else user_id
    check_quota(db, owner, size)
    info = describe(source, declared_type)
    file_id = str(uuid.uuid4())
    display = (original_name or "file")[:255]
    if parent is not None:
        # A version keeps its file's name ("photo.jpg" stays "photo", not "photo_resized"); only the
        # extension follows the new content (a conversion to WebP gives "photo.webp").
        display = (Path(parent.original_name).stem + Path(display).suffix)[:255]
    key = f"{owner}/{file_id}/{sanitize_filename(display)}"
    if parent is not None:
        chain_id = parent.chain_id
        version = int(db.scalar(select(func.max(LibraryFile.version)).where(LibraryFile.chain_id == chain_id)) or 0) + 1
        chain = [*parent.tool_chain, *([tool_id] if tool_id else [])]
    else:
        chain_id, version, chain = file_id, 1, [tool_id] if tool_id else []
    _place(source, files_root(settings) / key, move=move)
    row = LibraryFile(
        id=file_id,
        user_id=owner,
        chain_id=chain_id,
        parent_id=parent.id if parent is not None else None,
        version=version,
        original_name=display,
        storage_key=key,
        mime_type=info.mime_type,
        kind=info.kind,
        size=size,
        width=info.width,
        height=info.height,
        sha256=sha256,
        tool_id=tool_id,
        job_id=job_id,
        tool_chain=chain,
    )
    db.add(row)
    db.flush()
    outbox.enqueue(db, "file.created", file_out(row) | {"userId": owner, "jobId": job_id}, owner)
    return row


def file_out(row: LibraryFile) -> dict[str, Any]:
    return {
        "id": row.id,
        "originalName": row.original_name,
        "mimeType": row.mime_type,
        "kind": row.kind,
        "size": row.size,
        "width": row.width,
        "height": row.height,
        "version": row.version,
        "parentId": row.parent_id,
        "toolChain": list(row.tool_chain or []),
        "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
        "downloadUrl": sign_library_url(row.id),
    }


# -- listing -----------------------------------------------------------------------------


def _latest_versions(principal: Principal) -> Select[tuple[LibraryFile]]:
    newest = (
        select(LibraryFile.chain_id, func.max(LibraryFile.version).label("version"))
        .where(visible(principal))
        .group_by(LibraryFile.chain_id)
        .subquery()
    )
    return select(LibraryFile).join(
        newest, and_(LibraryFile.chain_id == newest.c.chain_id, LibraryFile.version == newest.c.version)
    )


def find_owner(db: Session, owner: str) -> str | None:
    """The id of the user named by `owner` (a user id or a username); None when there is no such user."""
    if len(owner) <= 36 and db.get(User, owner) is not None:
        return owner
    return db.scalar(select(User.id).where(User.username == owner))


def owners_of(db: Session, rows: list[LibraryFile]) -> dict[str, dict[str, str]]:
    """{user id: {"id", "username"}} for the owners of `rows`, in one query."""
    ids = {row.user_id for row in rows}
    if not ids:
        return {}
    return {
        r.id: {"id": r.id, "username": r.username}
        for r in db.execute(select(User.id, User.username).where(User.id.in_(ids)))
    }


def list_latest(
    db: Session,
    principal: Principal,
    search: str | None,
    limit: int,
    offset: int,
    kinds: list[str] | None = None,
    owner_id: str | None = None,
) -> tuple[list[LibraryFile], int]:
    query = _latest_versions(principal)
    if owner_id is not None:
        query = query.where(LibraryFile.user_id == owner_id)
    if kinds:
        query = query.where(LibraryFile.kind.in_(kinds))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(LibraryFile.original_name.ilike(f"%{escaped}%", escape="\\"))
    total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = db.scalars(query.order_by(LibraryFile.created_at.desc(), LibraryFile.id).limit(limit).offset(offset))
    return list(rows), total


def chain_of(db: Session, row: LibraryFile) -> list[LibraryFile]:
    return list(
        db.scalars(select(LibraryFile).where(LibraryFile.chain_id == row.chain_id).order_by(LibraryFile.version))
    )


def delete_chains(db: Session, settings: Settings, principal: Principal, ids: list[str]) -> list[str]:
    """Deletes the whole chain of every id (all or nothing: one unknown id answers 404)."""
    rows = [get_visible(db, principal, file_id) for file_id in ids]
    chains = {row.chain_id for row in rows}
    doomed = list(db.scalars(select(LibraryFile).where(LibraryFile.chain_id.in_(chains))))
    db.execute(delete(LibraryFile).where(LibraryFile.chain_id.in_(chains)))
    db.flush()
    for row in doomed:
        data = {"id": row.id, "originalName": row.original_name, "version": row.version, "userId": row.user_id}
        outbox.enqueue(db, "file.deleted", data, row.user_id)
    for row in doomed:
        shutil.rmtree(path_of(settings, row).parent, ignore_errors=True)
    return [row.id for row in doomed]


# -- thumbnails and previews ----------------------------------------------------------------


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def thumbnail(settings: Settings, row: LibraryFile) -> Path:
    """A 300 px JPEG, made on first request and cached next to the file."""
    pyvips = lazy_vips.load()

    source = path_of(settings, row)
    cached = source.parent / THUMB_NAME
    if cached.is_file():
        return cached
    tmp = cached.with_name(f".thumb-{uuid.uuid4().hex}.jpg")
    try:
        if row.kind in RASTER_KINDS:
            _check_pixels(source, settings.max_megapixels)
        if row.kind in RASTER_KINDS or (row.kind == "pdf" and pyvips.type_find("VipsForeignLoad", "pdfload")):
            # thumbnail() shrinks on load; for a PDF it renders only page 1 at the needed scale.
            image = pyvips.Image.thumbnail(str(source), THUMB_PX, height=THUMB_PX, size="down")
            if image.hasalpha():
                image = image.flatten(background=[255, 255, 255])
            image.jpegsave(str(tmp), Q=80, strip=True)
        elif row.kind == "pdf":
            _run(["pdftoppm", "-jpeg", "-f", "1", "-l", "1", "-scale-to", str(THUMB_PX), "-singlefile",
                  str(source), str(tmp.with_suffix(""))])  # fmt: skip
        elif row.kind in VIDEO_KINDS:
            scale = f"scale={THUMB_PX}:{THUMB_PX}:force_original_aspect_ratio=decrease"
            _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-frames:v", "1", "-vf", scale,
                  "-f", "image2", "-c:v", "mjpeg", "-y", str(tmp)])  # fmt: skip
        else:
            raise UnsupportedMedia("No thumbnail for this type of file", code="NO_THUMBNAIL")
        tmp.replace(cached)  # atomic: two concurrent first requests never see half a file
    except (pyvips.Error, subprocess.SubprocessError, OSError) as exc:
        raise UnsupportedMedia("Could not make a thumbnail of this file", code="NO_THUMBNAIL") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return cached


def _check_pixels(path: Path, max_megapixels: int) -> tuple[int, int]:
    """Width and height from the header; refuses images over MAX_MEGAPIXELS before decoding anything."""
    pyvips = lazy_vips.load()

    header = pyvips.Image.new_from_file(str(path), access="sequential")
    if header.width * header.height > max_megapixels * 1_000_000:
        raise BadRequest(f"Image too large (over {max_megapixels} megapixels)", code="IMAGE_TOO_LARGE")
    return header.width, header.height


def preview_webp(path: Path, max_megapixels: int) -> tuple[bytes, int, int]:
    """A browser-viewable WebP (at most 1200 px) of a raster image (HEIC, TIFF, ...); with the original size."""
    pyvips = lazy_vips.load()

    # Raster only: an SVG could reference other files, and PDFs have their own preview route.
    if sniff_file(path) not in RASTER_KINDS:
        raise UnsupportedMedia("Previews are made of images only", code="UNSUPPORTED_MEDIA_TYPE")
    try:
        width, height = _check_pixels(path, max_megapixels)
        image = pyvips.Image.thumbnail(str(path), PREVIEW_PX, height=PREVIEW_PX, size="down")
        return image.webpsave_buffer(Q=80, strip=True), width, height
    except pyvips.Error as exc:
        raise UnsupportedMedia("Could not make a preview of this file", code="UNSUPPORTED_MEDIA_TYPE") from exc


def stage_for_job(principal: Principal, settings: Settings, file_id: Any, dest: Path) -> tuple[Path, str, int]:
    """Links a visible library file into a job's input folder; returns (path, name, size). 404 otherwise."""
    if not isinstance(file_id, str):
        raise NotFound("File not found", code="FILE_NOT_FOUND")
    with session_scope() as db:
        row = get_visible(db, principal, file_id)
        source = path_of(settings, row)
        name = sanitize_filename(row.original_name)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"library-{name}"
    try:
        os.link(source, target)  # no copy of a 2 GB video; the library file is read-only
    except OSError:
        shutil.copyfile(source, target)
    return target, name, target.stat().st_size


def save_job_output(
    principal: Principal, settings: Settings, output: Path, parent_id: str, job_id: str, tool_id: str
) -> str:
    """A tool run on a library file (settings.fileId): its output becomes the chain's next version."""
    with session_scope() as db:
        parent = get_visible(db, principal, parent_id)
        row = add_file(
            db,
            settings,
            principal.user_id,
            output,
            output.name,
            move=False,
            parent=parent,
            tool_id=tool_id,
            job_id=job_id,
        )
        return row.id
