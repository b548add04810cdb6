"""Answers of the tool routes, for the OpenAPI document (the routes build them as plain dicts)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class JobAccepted(BaseModel):
    """202: the job runs in the background; follow /api/v1/jobs/{jobId}/progress."""

    model_config = ConfigDict(populate_by_name=True)
    jobId: str
    async_: Literal[True] = Field(alias="async")


class ToolDownload(BaseModel):
    filename: str
    downloadUrl: str = Field(description="Signed: fetchable without credentials while the job's files live")
    size: int


class ToolAnswer(BaseModel):
    """200: the finished result (tools add their own fields)."""

    model_config = ConfigDict(extra="allow")
    jobId: str
    downloadUrl: str | None = Field(description="Signed: fetchable without credentials while the job's files live")
    originalSize: int
    processedSize: int
    downloads: list[ToolDownload] | None = Field(None, description="Every output, when there are several")


ACCEPTED_RESPONSE = {202: {"model": JobAccepted, "description": "Accepted: the job runs in the background"}}
DONE_RESPONSE = {200: {"model": ToolAnswer, "description": "The finished result"}}
