"""Storage quotas set by an admin for one user or one team (beside the storageQuotaMb default)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class StorageQuota(Base):
    __tablename__ = "storage_quotas"

    # "user" or "team"; the row goes with its user or team (deleted by the quota service's callers).
    subject_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quota_mb: Mapped[int] = mapped_column(Integer)  # 0 = unlimited
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
