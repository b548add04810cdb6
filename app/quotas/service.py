"""Which storage quota applies to a user: their own, else their team's, else the storageQuotaMb default."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import StorageQuota, Team, User
from app.settings import service as runtime_settings

MB = 1024 * 1024


def _override(db: Session, subject_type: str, subject_id: str | None) -> int | None:
    if subject_id is None:
        return None
    row = db.get(StorageQuota, (subject_type, subject_id))
    return None if row is None else row.quota_mb


def quota_bytes(db: Session, user_id: str) -> int | None:
    """The user's quota in bytes, or None when unlimited (an override of 0 means unlimited too)."""
    user = db.get(User, user_id)
    for subject_type, subject_id in (("user", user_id), ("team", user.team_id if user else None)):
        mb = _override(db, subject_type, subject_id)
        if mb is not None:
            return mb * MB if mb > 0 else None
    return runtime_settings.storage_quota_bytes(db)


def set_quota(db: Session, subject_type: str, subject_id: str, quota_mb: int | None) -> None:
    """Sets (or with None removes) the override for one user or team."""
    row = db.get(StorageQuota, (subject_type, subject_id))
    if quota_mb is None:
        if row is not None:
            db.delete(row)
    elif row is None:
        db.add(StorageQuota(subject_type=subject_type, subject_id=subject_id, quota_mb=quota_mb))
    else:
        row.quota_mb = quota_mb
    db.flush()


def overrides(db: Session, subject_type: str) -> dict[str, int]:
    rows = db.scalars(select(StorageQuota).where(StorageQuota.subject_type == subject_type))
    return {r.subject_id: r.quota_mb for r in rows}


def forget(db: Session, subject_type: str, subject_id: str) -> None:
    """Drops the quota of a user or team being deleted (the table has no foreign key: it holds both kinds)."""
    db.execute(
        delete(StorageQuota).where(StorageQuota.subject_type == subject_type, StorageQuota.subject_id == subject_id)
    )


def remove_orphans(db: Session) -> int:
    """Deletes quotas whose user or team no longer exists (deleted before quotas went with them)."""
    removed = 0
    for subject_type, ids in (("user", select(User.id)), ("team", select(Team.id))):
        result = db.execute(
            delete(StorageQuota).where(StorageQuota.subject_type == subject_type, StorageQuota.subject_id.not_in(ids))
        )
        removed += result.rowcount or 0
    return removed
