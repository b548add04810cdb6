"""`lutra check`, `lutra backup`, `lutra restore`, and the one-line start-up diagnosis.

A backup is a folder: the database (SQLite through its online backup API, so it can run while the
server does; PostgreSQL through pg_dump) plus the file library, and a manifest naming both.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app import __version__
from app.admission.disk import free_mb
from app.config import Settings

MANIFEST = "lutra-backup.json"
HINT = "restore a backup (lutra restore <folder>) or run `lutra check` for details"


class MaintenanceError(Exception):
    """A problem to report as one line (what, where, what to do), never as a traceback."""


def _sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.sqlalchemy_url)
    return Path(url.database).resolve() if url.get_backend_name() == "sqlite" and url.database else None


def _where(settings: Settings) -> str:
    path = _sqlite_path(settings)
    if path is not None:
        return str(path)
    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def describe_startup_error(exc: BaseException, settings: Settings) -> str:
    """The one line a failed start prints: what is wrong, which file or server, what to do."""
    where = _where(settings)
    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return f"Lutra cannot use its database {where}: {_short(exc)}. To fix it, {HINT}."
    if isinstance(exc, PermissionError | FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return f"Lutra cannot use {exc.filename or settings.data_dir}: {exc.strerror}. Check DATA_DIR and permissions."
    if isinstance(exc, OSError):
        return f"Lutra cannot start ({where}): {_short(exc)}. Check DATA_DIR, free disk space and permissions."
    return f"Lutra cannot start: {type(exc).__name__}: {_short(exc)}. To find out more, run `lutra check`."


def preflight(settings: Settings) -> None:
    """A quick look before serving: the data folder is writable and the database opens and answers."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = _sqlite_path(settings)
    if path is not None and path.exists():
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # "file is not a database" here
        return
    if path is None:
        engine = create_engine(settings.sqlalchemy_url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()


# -- check ----------------------------------------------------------------------------------------


def check(settings: Settings) -> list[tuple[bool, str]]:
    """Every finding as (ok, line); the database's integrity, the schema, the library, the disk."""
    findings: list[tuple[bool, str]] = []
    where = _where(settings)
    path = _sqlite_path(settings)
    try:
        if path is not None:
            if not path.exists():
                findings.append((True, f"database {where}: not created yet (the first start creates it)"))
                return findings + _disk(settings)
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
            ok = result == ["ok"]
            findings.append((ok, f"database {where}: integrity " + ("ok" if ok else "; ".join(result[:5]))))
        engine = create_engine(settings.sqlalchemy_url)
        try:
            with engine.connect() as conn:
                head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                findings.append((True, f"database {where}: reachable, schema revision {head}"))
                keys = [r[0] for r in conn.execute(text("SELECT storage_key FROM library_files"))]
        finally:
            engine.dispose()
    except (SQLAlchemyError, sqlite3.Error) as exc:
        findings.append((False, f"database {where}: {_short(exc)}; {HINT.split(' or ')[0]}"))
        return findings + _disk(settings)
    root = settings.data_dir / "files"
    missing = [k for k in keys if not (root / k).is_file()]
    findings.append(
        (not missing, f"library {root}: {len(keys)} files" + (f", {len(missing)} missing on disk" if missing else ""))
    )
    return findings + _disk(settings)


def _disk(settings: Settings) -> list[tuple[bool, str]]:
    free = free_mb(settings.data_dir)
    ok = free >= settings.min_free_disk_mb
    return [(ok, f"disk {settings.data_dir}: {free} MB free (floor MIN_FREE_DISK_MB={settings.min_free_disk_mb})")]


# -- backup and restore ---------------------------------------------------------------------------


def backup(settings: Settings, dest: Path) -> Path:
    """Writes the database and the library into `dest` (a new or empty folder); returns the manifest path."""
    if dest.exists() and any(dest.iterdir()):
        raise MaintenanceError(f"{dest} is not empty: name a new folder for the backup")
    dest.mkdir(parents=True, exist_ok=True)
    path = _sqlite_path(settings)
    if path is not None:
        if not path.exists():
            raise MaintenanceError(f"no database at {path}: nothing to back up (check DATA_DIR)")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(dest / "lutra.db")
        try:
            source.backup(target)  # consistent while the server keeps writing
        finally:
            target.close()
            source.close()
        database = {"dialect": "sqlite", "file": "lutra.db"}
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dest / "lutra.pgdump"), _libpq(settings)])
        database = {"dialect": "postgresql", "file": "lutra.pgdump"}
    files = settings.data_dir / "files"
    if files.is_dir():
        shutil.copytree(files, dest / "files", ignore=shutil.ignore_patterns(".staging"))
    manifest = dest / MANIFEST
    manifest.write_text(
        json.dumps({"version": __version__, "createdAt": datetime.now(UTC).isoformat(), "database": database}, indent=2)
    )
    return manifest


def restore(settings: Settings, source: Path) -> None:
    """Replaces the database and the library with a backup's. Stop the server first."""
    try:
        info = json.loads((source / MANIFEST).read_text())["database"]
    except (OSError, ValueError, KeyError) as exc:
        raise MaintenanceError(f"{source} is not a Lutra backup (no readable {MANIFEST})") from exc
    path = _sqlite_path(settings)
    if (info["dialect"] == "sqlite") != (path is not None):
        raise MaintenanceError(f"this backup holds a {info['dialect']} database; DATABASE_URL names another kind")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if path is not None:
        restored = sqlite3.connect(f"file:{source / info['file']}?mode=ro", uri=True)
        # Into a temporary file first, renamed over the old one: a failed restore leaves it untouched.
        fd, tmp_name = tempfile.mkstemp(prefix=".restore-", suffix=".db", dir=path.parent)
        os.close(fd)
        target = sqlite3.connect(tmp_name)
        try:
            restored.backup(target)
        finally:
            target.close()
            restored.close()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(tmp_name, path)
    else:
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--dbname",
                _libpq(settings),
                str(source / info["file"]),
            ]
        )
    files = settings.data_dir / "files"
    if (source / "files").is_dir():
        incoming = settings.data_dir / ".files-restoring"
        shutil.rmtree(incoming, ignore_errors=True)
        shutil.copytree(source / "files", incoming)
        shutil.rmtree(files, ignore_errors=True)
        incoming.rename(files)


def _libpq(settings: Settings) -> str:
    """The URL as libpq (pg_dump) reads it: without SQLAlchemy's +driver suffix."""
    return make_url(settings.sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise MaintenanceError(f"{command[0]} is not installed (install the PostgreSQL client tools)") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise MaintenanceError(f"{command[0]} failed: {last}")
