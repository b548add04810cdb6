"""Shapes of the usage report (documented in the OpenAPI)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JobCounts(BaseModel):
    total: int = Field(description="Jobs created in the period (tool runs, batches, pipelines)")
    succeeded: int
    failed: int
    canceled: int


class Breakdown(BaseModel):
    total: int
    succeeded: int
    failed: int
    canceled: int
    bytesIn: int = Field(description="Bytes uploaded into these jobs")
    bytesOut: int = Field(description="Bytes of results produced")
    processingSeconds: float = Field(description="Sum of (finished - started) over the jobs")


class SectionUsage(Breakdown):
    section: str


class ToolUsage(Breakdown):
    section: str
    toolId: str


class StorageUsage(BaseModel):
    usedBytes: int = Field(description="Bytes held in the file library, every version counted")
    fileVersions: int
    quotaBytes: int | None = Field(description="The storageQuotaMb setting in bytes; null = unlimited")


class UserUsage(BaseModel):
    userId: str
    username: str
    jobs: JobCounts
    bytesIn: int
    bytesOut: int
    processingSeconds: float
    bySection: list[SectionUsage]
    byTool: list[ToolUsage]
    storage: StorageUsage


class UsageReport(UserUsage):
    from_: str = Field(alias="from", description="Start of the period (inclusive, UTC)")
    to: str = Field(description="End of the period (exclusive, UTC)")


class AllUsageReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    users: list[UserUsage]
