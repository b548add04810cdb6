"""Automations (watch folders and schedules) and the files they took."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id, utcnow


class Automation(Base):
    __tablename__ = "automations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # SET NULL, not CASCADE: an automation whose owner is deleted is disabled (and kept for its history).
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    source_path: Mapped[str] = mapped_column(Text)
    pipeline_id: Mapped[str | None] = mapped_column(
        ForeignKey("pipelines.id", ondelete="SET NULL"), nullable=True, index=True
    )
    steps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    output_path: Mapped[str] = mapped_column(Text)
    naming: Mapped[str] = mapped_column(String(200), default="{stem}_{tool}.{ext}")
    on_conflict: Mapped[str] = mapped_column(String(16), default="suffix")
    after_success: Mapped[str] = mapped_column(String(16), default="keep")
    globs: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_age_s: Mapped[int] = mapped_column(Integer, default=5)
    trigger: Mapped[str] = mapped_column(String(16), default="watch")
    schedule: Mapped[str | None] = mapped_column(String(120), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why Lutra turned it off by itself (owner deleted, pipeline gone); cleared when it is enabled again.
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The schedule's last fire time that was handled: a restart neither repeats nor forgets a run.
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AutomationRun(Base):
    """One input file taken by an automation. The unique key is what makes a file taken exactly once."""

    __tablename__ = "automation_runs"
    __table_args__ = (
        UniqueConstraint("automation_id", "input_name", "input_size", "input_mtime_ns", name="uq_automation_run_input"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    automation_id: Mapped[str] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"), index=True)
    input_name: Mapped[str] = mapped_column(String(255))
    input_size: Mapped[int] = mapped_column(BigInteger)
    input_mtime_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="processing", index=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    outputs: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
