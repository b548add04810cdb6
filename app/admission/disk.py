"""The free-space floor (MIN_FREE_DISK_MB) and recognising out-of-space errors wherever they surface."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from app.config import Settings
from app.errors import InsufficientStorage

_NO_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# How SQLite and PostgreSQL word a full disk in the exceptions SQLAlchemy wraps.
_NO_SPACE_TEXT = ("database or disk is full", "no space left on device", "disk full", "could not extend file")


def free_mb(path: Path) -> int:
    """Free megabytes on the file system holding `path` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free // (1024 * 1024)


def below_floor(settings: Settings) -> bool:
    return settings.min_free_disk_mb > 0 and free_mb(settings.data_dir) < settings.min_free_disk_mb


def storage_error(settings: Settings | None = None) -> InsufficientStorage:
    floor = f" (MIN_FREE_DISK_MB={settings.min_free_disk_mb})" if settings is not None else ""
    return InsufficientStorage(
        f"Not enough free disk space on the server{floor}; try again after space is freed",
        headers={"Retry-After": "60"},
    )


def check_floor(settings: Settings) -> None:
    """507 at once when free space is under the floor: no upload or job starts on an almost full disk."""
    if below_floor(settings):
        raise storage_error(settings)


def is_out_of_space(exc: BaseException) -> bool:
    """True for ENOSPC/EDQUOT, and for database errors whose cause is a full disk, however deeply wrapped."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE_ERRNOS:
            return True
        text = str(current).lower()
        if any(marker in text for marker in _NO_SPACE_TEXT):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False
